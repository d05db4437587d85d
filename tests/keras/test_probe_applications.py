"""keras.applications probed against TF 2.21 (Keras 3.15): every layer's name, class,
output shape and parameter count; ``input_tensor`` handling; ``preprocess_input``
working in place on float NumPy arrays as Keras does; a fine-tuning program with
a frozen base whose BatchNormalization stays in inference mode."""

import hashlib
import re

import numpy as np
import pytest

import dlframe as tf

A = tf.keras.applications

# Layer names Keras generates from a class name (``activation_12``) depend on how
# many layers the process made before; they compare by their stem.
_AUTO_NAME = re.compile(
    r"(activation|conv2d|batch_normalization|max_pooling2d|average_pooling2d|"
    r"concatenate|add|custom_scale_layer|re_lu|layer_normalization|multiply|"
    r"rescaling|normalization|zero_padding2d|cropping2d)(_\d+)?$"
)
# Weightless activation layers compare as one kind: MobileNetV3's squeeze-excite
# gate is a ReLU over ops in Keras 3 and an Activation('hard_sigmoid') here.
_ACTIVATIONS = ("ReLU", "Activation")


def _stem(name):
    match = _AUTO_NAME.match(name)
    stem = match.group(1) + "*" if match else name
    return "act*" if stem in ("re_lu*", "activation*") else stem


def _listing(model):
    """``(number of layers, digest)`` of every layer's name, class, output shape
    and parameter count. Keras 3 keeps ops called on KerasTensors (ConvNeXt's
    ``inputs + x``) out of ``model.layers``; dlframe lists them as TFOpLambda
    layers (as Keras 2 does), so those are left out."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "TFOpLambda"]
    lines = []
    for layer in layers[1:]:
        kind = type(layer).__name__
        kind = "act" if kind in _ACTIVATIONS else kind
        shape = tuple(layer.output.shape)
        lines.append(f"{_stem(layer.name)} {kind} {shape} {layer.count_params()}")
    return len(layers), hashlib.sha1("\n".join(lines).encode()).hexdigest()[:16]


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


# (constructor, input_shape, layers, params, trainable params, output shape,
# digest of the layer listing): from TF 2.21 / Keras 3.15, include_top=False,
# weights=None
LISTINGS = [
    ("MobileNetV2", (96, 96, 3), 154, 2257984, 2223872, (None, 3, 3, 1280),
     "06d90db935ffa39e"),
    ("ResNet50", (64, 64, 3), 175, 23587712, 23534592, (None, 2, 2, 2048),
     "211320ab20ffe89b"),
    ("EfficientNetB0", (64, 64, 3), 237, 4049571, 4007548, (None, 2, 2, 1280),
     "ce5601ac6c6a0651"),
    ("VGG16", (64, 64, 3), 19, 14714688, 14714688, (None, 2, 2, 512),
     "4b45d8e37f3978a8"),
    ("InceptionV3", (96, 96, 3), 311, 21802784, 21768352, (None, 1, 1, 2048),
     "b6538c98bcb4585e"),
    ("Xception", (96, 96, 3), 132, 20861480, 20806952, (None, 3, 3, 2048),
     "1739ad695a30de54"),
    ("DenseNet121", (64, 64, 3), 427, 7037504, 6953856, (None, 2, 2, 1024),
     "44a42760fed0807d"),
    ("ConvNeXtTiny", (64, 64, 3), 133, 27820128, 27820128, (None, 2, 2, 768),
     "5957baa733dd7b99"),
    ("MobileNetV3Large", (64, 64, 3), 187, 2996352, 2971952, (None, 2, 2, 960),
     "40bd420eb8da6df7"),
    ("MobileNetV3Small", (64, 64, 3), 157, 939120, 927008, (None, 2, 2, 576),
     "1300d82a537421ec"),
    ("EfficientNetV2B0", (64, 64, 3), 270, 5919312, 5858704, (None, 2, 2, 1280),
     "f1bb94f14f2fb5e2"),
    ("ResNet50V2", (64, 64, 3), 190, 23564800, 23519360, (None, 2, 2, 2048),
     "4db9761f5a49856d"),
    ("MobileNet", (64, 64, 3), 86, 3228864, 3206976, (None, 2, 2, 1024),
     "5b24cb0ec9a79a8d"),
]
HEAVY_LISTINGS = [
    ("InceptionResNetV2", (96, 96, 3), 780, 54336736, 54276192, (None, 1, 1, 1536),
     "1da7ee17d3388456"),
    ("NASNetMobile", (64, 64, 3), 769, 4269716, 4232978, (None, 2, 2, 1056),
     "b12d8c5dbf73ed9c"),
    ("DenseNet169", (64, 64, 3), 595, 12642880, 12484480, (None, 2, 2, 1664),
     "0b7c1978799ad5c8"),
    ("EfficientNetB3", (64, 64, 3), 384, 10783535, 10696232, (None, 2, 2, 1536),
     "8237599b5a8be193"),
    ("ResNet101", (64, 64, 3), 345, 42658176, 42552832, (None, 2, 2, 2048),
     "790dcf19b92fc0ef"),
]


def _check_listing(ctor, shape, num_layers, params, trainable, output, digest):
    model = getattr(A, ctor)(input_shape=shape, include_top=False, weights=None)
    assert model.count_params() == params
    assert _count(model.trainable_weights) == trainable
    assert _count(model.non_trainable_weights) == params - trainable
    assert tuple(model.output.shape) == output
    assert _listing(model) == (num_layers, digest)


@pytest.mark.parametrize("ctor,shape,num_layers,params,trainable,output,digest",
                         LISTINGS)
def test_layer_listing_equals_keras(ctor, shape, num_layers, params, trainable,
                                    output, digest):
    _check_listing(ctor, shape, num_layers, params, trainable, output, digest)


@pytest.mark.slow
@pytest.mark.parametrize("ctor,shape,num_layers,params,trainable,output,digest",
                         HEAVY_LISTINGS)
def test_large_layer_listing_equals_keras(ctor, shape, num_layers, params,
                                          trainable, output, digest):
    _check_listing(ctor, shape, num_layers, params, trainable, output, digest)


def test_feature_layers_programs_pick_by_name():
    # shapes from TF 2.21 with the same inputs
    base = A.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    assert base.layers.index(base.get_layer("block_13_expand_relu")) == 118
    assert tuple(base.get_layer("block_13_expand_relu").output.shape) == (
        None, 6, 6, 576)
    assert base.layers[100].name == "block_11_expand_relu"
    base = A.InceptionV3(input_shape=(96, 96, 3), include_top=False, weights=None)
    assert base.layers.index(base.get_layer("mixed7")) == 228
    assert tuple(base.get_layer("mixed7").output.shape) == (None, 4, 4, 768)
    base = A.ResNet50(input_shape=(64, 64, 3), include_top=False, weights=None)
    assert tuple(base.get_layer("conv4_block6_out").output.shape) == (
        None, 4, 4, 1024)
    names = ["conv3_block4_out", "conv4_block6_out", "conv5_block3_out"]
    features = tf.keras.Model(base.input, [base.get_layer(n).output for n in names])
    outputs = features(np.zeros((2, 64, 64, 3), np.float32))
    assert [tuple(o.shape) for o in outputs] == [
        (2, 8, 8, 512), (2, 4, 4, 1024), (2, 2, 2, 2048)]


def test_squeeze_excite_keeps_unknown_spatial_dims():
    # Multiply of (None, None, None, c) by (None, 1, 1, c) is (None, None, None, c)
    model = A.MobileNetV3Small(input_shape=(None, None, 3), include_top=False,
                               weights=None)
    assert tuple(model.output.shape) == (None, None, None, 576)
    gate = tf.keras.layers.Multiply()(
        [tf.keras.Input((None, None, 16)), tf.keras.Input((1, 1, 16))])
    assert tuple(gate.shape) == (None, None, None, 16)
    wide = tf.keras.layers.Add()([tf.keras.Input((1, 5)), tf.keras.Input((None, 1))])
    assert tuple(wide.shape) == (None, None, 5)
    # from TF 2.21: the padding is chosen for unknown sizes, as Keras does
    for size, out in (((40, 48), (1, 1, 1, 576)), ((33, 70), (1, 1, 2, 576))):
        assert tuple(model(np.ones((1, *size, 3), np.float32)).shape) == out


def test_input_tensor_is_taken_as_keras_takes_it():
    Input = tf.keras.Input
    # Keras checks only the given input_shape, not input_tensor's shape
    model = A.ResNet50(weights=None, include_top=False, input_tensor=Input((16, 16, 3)))
    assert tuple(model.output.shape) == (None, 1, 1, 2048)
    model = A.Xception(weights=None, include_top=False, input_tensor=Input((64, 64, 3)))
    assert tuple(model.output.shape) == (None, 2, 2, 2048)
    # model names as TF 2.21 gives them: rows of the resolved input_shape
    rescaled = tf.keras.layers.Rescaling(1 / 255.0)(Input((64, 64, 3)))
    names = {
        (ctor, top, rows): getattr(A, ctor)(
            weights=None, include_top=top, input_tensor=Input((rows, rows, 3))
        ).name
        for ctor in ("MobileNetV2", "MobileNet")
        for top in (False, True)
        for rows in (100, 128)
    }
    assert names == {
        ("MobileNetV2", False, 100): "mobilenetv2_1.00_None",
        ("MobileNetV2", False, 128): "mobilenetv2_1.00_None",
        ("MobileNetV2", True, 100): "mobilenetv2_1.00_224",
        ("MobileNetV2", True, 128): "mobilenetv2_1.00_128",
        ("MobileNet", False, 100): "mobilenet_1.00_None",
        ("MobileNet", False, 128): "mobilenet_1.00_None",
        ("MobileNet", True, 100): "mobilenet_1.00_224",
        ("MobileNet", True, 128): "mobilenet_1.00_224",
    }
    model = A.MobileNetV2(weights=None, include_top=False, input_tensor=rescaled)
    assert tuple(model.output.shape) == (None, 2, 2, 1280)
    # MobileNetV3 reads the shape from input_tensor and checks it
    with pytest.raises(ValueError, match="at least 32x32"):
        A.MobileNetV3Small(weights=None, include_top=False,
                           input_tensor=Input((16, 16, 3)))
    with pytest.raises(ValueError, match=r"input_shape=\(96, 96, 3\)"):
        A.MobileNetV3Small(weights=None, include_top=False,
                           input_tensor=Input((64, 64, 3)), input_shape=(96, 96, 3))
    with pytest.raises(ValueError, match="`input_tensor` must be a KerasTensor"):
        A.ResNet50(weights=None, include_top=False,
                   input_tensor=tf.zeros((1, 64, 64, 3)))


_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


def test_preprocess_input_works_in_place_on_float_arrays():
    rng = np.random.default_rng(0)
    image = (rng.random((2, 4, 4, 3)) * 255).astype(np.float32)
    # 'tf' and 'torch' modes return the array itself, rescaled
    x = image.copy()
    out = A.mobilenet_v2.preprocess_input(x)
    assert out is x
    np.testing.assert_allclose(x, image / 127.5 - 1, rtol=1e-6, atol=1e-6)
    x = image.copy()
    out = A.densenet.preprocess_input(x)
    assert out is x
    torch = (image / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(x, torch, rtol=1e-5, atol=1e-6)
    # 'caffe' returns x's channels reversed (a view): x holds BGR - mean reversed
    x = image.copy()
    out = A.resnet50.preprocess_input(x)
    caffe = image[..., ::-1] - _MEAN_BGR
    np.testing.assert_allclose(out, caffe, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(x, caffe[..., ::-1], rtol=1e-5, atol=1e-4)
    out[0, 0, 0, 0] = 7.0
    assert x[0, 0, 0, 2] == 7.0
    first = np.transpose(image, (0, 3, 1, 2)).copy()
    out = A.vgg16.preprocess_input(first, data_format="channels_first")
    np.testing.assert_allclose(
        out, np.transpose(caffe, (0, 3, 1, 2)), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        first, np.transpose(caffe[..., ::-1], (0, 3, 1, 2)), rtol=1e-5, atol=1e-4)
    single = np.transpose(image[0], (2, 0, 1)).copy()
    A.vgg16.preprocess_input(single, data_format="channels_first")
    np.testing.assert_allclose(single, np.transpose(caffe[0, ..., ::-1], (2, 0, 1)),
                               rtol=1e-5, atol=1e-4)
    # float64 stays float64 and changes in place; integers are copied to floatx
    x64 = image.astype(np.float64)
    out = A.xception.preprocess_input(x64)
    assert out is x64 and out.dtype == np.float64
    ints = image.astype(np.uint8)
    out = A.xception.preprocess_input(ints)
    assert out.dtype == np.float32 and ints.dtype == np.uint8
    np.testing.assert_array_equal(ints, image.astype(np.uint8))
    # modes that never touch the input: EfficientNet's is the identity
    x = image.copy()
    assert A.efficientnet.preprocess_input(x) is x
    np.testing.assert_array_equal(x, image)


def test_fine_tuning_program_keeps_frozen_batchnorm_in_inference_mode():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = (rng.random((64, 32, 32, 3)) * 120).astype(np.float32)
    images[labels == 1, :, :, 0] += 120  # class 1 is redder
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)

    base = A.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                         weights=None)
    base.trainable = False
    assert (len(base.trainable_variables), len(base.non_trainable_variables)) == (
        0, 260)
    inputs = tf.keras.Input((32, 32, 3))
    x = A.mobilenet_v2.preprocess_input(inputs)
    x = base(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    outputs = tf.keras.layers.Dense(1)(x)
    model = tf.keras.Model(inputs, outputs)
    assert [tuple(v.shape) for v in model.trainable_variables] == [(1280, 1), (1,)]
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2),
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0.0,
                                                           name="accuracy")])
    frozen_kernel = base.get_layer("Conv1").kernel.numpy().copy()
    stem_mean = base.get_layer("bn_Conv1").moving_mean.numpy().copy()
    history = model.fit(data, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(base.get_layer("Conv1").kernel.numpy(),
                                  frozen_kernel)
    np.testing.assert_array_equal(base.get_layer("bn_Conv1").moving_mean.numpy(),
                                  stem_mean)

    base.trainable = True
    for layer in base.layers[:100]:
        layer.trainable = False
    assert len(model.trainable_variables) == 56  # as TF 2.21 counts them
    assert next(layer.name for layer in base.layers if layer.trainable) == (
        "block_11_expand_relu")
    model.compile(optimizer=tf.keras.optimizers.RMSprop(1e-4),
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    top_kernel = base.get_layer("Conv_1").kernel.numpy().copy()
    top_mean = base.get_layer("Conv_1_bn").moving_mean.numpy().copy()
    fine = model.fit(data, epochs=5, initial_epoch=history.epoch[-1], verbose=0)
    assert fine.epoch == [2, 3, 4]
    assert not np.allclose(base.get_layer("Conv_1").kernel.numpy(), top_kernel)
    # called with training=False: the trainable BatchNormalization keeps its stats
    np.testing.assert_array_equal(base.get_layer("Conv_1_bn").moving_mean.numpy(),
                                  top_mean)
    np.testing.assert_array_equal(base.get_layer("Conv1").kernel.numpy(),
                                  frozen_kernel)
    # random ImageNet-free features learn slowly, but the loss keeps falling
    assert fine.history["loss"][-1] < history.history["loss"][-1]
    loss, _ = model.evaluate(data, verbose=0)
    assert loss < history.history["loss"][0]
