"""Round-18 probes of keras.io / tensorflow.org vision, generative and RL programs
(ConvMixer, Siamese triplet network, DQN / PPO, Barlow Twins, captcha OCR with CTC):
the differences found against TF 2.21, as regressions."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


# -- ConvMixer: the depthwise kernel is also ``layer.kernel`` (Keras 3) -------------
def test_depthwise_conv2d_kernel_is_the_depthwise_kernel():
    layer = layers.DepthwiseConv2D(5, padding="same")
    layer.build((None, 8, 8, 4))
    assert layer.kernel is layer.depthwise_kernel
    assert tuple(layer.kernel.shape) == (5, 5, 4, 1)
    # the name keeps Keras 2's spelling in weights (h5 files), Keras 3 reads .kernel
    assert len(layer.weights) == 2


def test_depthwise_conv1d_kernel_alias():
    layer = layers.DepthwiseConv1D(3, depth_multiplier=2)
    layer.build((None, 10, 4))
    assert layer.kernel is layer.depthwise_kernel


def test_conv_mixer_block_trains_and_kernel_reads_back():
    tf.keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(8, 2, strides=2)(inputs)
    x = layers.BatchNormalization()(layers.Activation("gelu")(x))
    x0 = x
    x = layers.DepthwiseConv2D(kernel_size=3, padding="same")(x)
    x = layers.Add()([layers.BatchNormalization()(layers.Activation("gelu")(x)), x0])
    x = layers.Conv2D(8, 1)(x)
    outputs = layers.Dense(3, activation="softmax")(layers.GlobalAvgPool2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.AdamW(0.01, weight_decay=1e-4),
                  "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    xs = rng.random((32, 8, 8, 3)).astype("float32")
    ys = (xs[:, :, :, 0].mean(axis=(1, 2)) > 0.5).astype("int32")
    history = model.fit(xs, ys, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    depthwise = [lay for lay in model.layers if isinstance(lay, layers.DepthwiseConv2D)]
    np.testing.assert_array_equal(depthwise[0].kernel.numpy(),
                                  depthwise[0].get_weights()[0])


# -- Barlow Twins: a random crop resized to a fixed size has a static shape ---------
def _random_size_crop_then_resize(x):
    size = tf.random.uniform([], 10, 16, dtype=tf.int32)
    crop = tf.image.random_crop(x, (size, size, 3))
    return tf.image.resize(crop, (16, 16))


def test_map_spec_of_random_size_crop_resized_is_known():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 16, 16, 3), "float32"))
    mapped = ds.map(_random_size_crop_then_resize)
    # TF 2.21: TensorSpec(shape=(16, 16, 3)); the crop itself is (None, None, 3)
    assert mapped.element_spec.shape.as_list() == [16, 16, 3]
    crop = ds.map(lambda x: tf.image.random_crop(
        x, (tf.random.uniform([], 4, 8, tf.int32), 5, 3)))
    assert crop.element_spec.shape.as_list() == [None, 5, 3]
    assert ds.map(lambda x: tf.image.random_crop(x, (5, 5, 3))).element_spec.shape \
        .as_list() == [5, 5, 3]
    batched = mapped.batch(2, drop_remainder=True)
    assert batched.element_spec.shape.as_list() == [2, 16, 16, 3]
    for batch in batched:
        assert tuple(batch.shape) == (2, 16, 16, 3)


def test_value_sized_results_stay_unknown():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(12.0).reshape(3, 4))
    assert ds.map(lambda x: tf.unique(x)[0]).element_spec.shape.as_list() == [None]
    assert ds.map(lambda x: tf.boolean_mask(x, x > 2)).element_spec.shape.as_list() \
        == [None]


def test_traced_random_crop_static_shape():
    @tf.function
    def crop(x, n):
        c = tf.image.random_crop(x, (n, n, 3))
        return c, tf.image.resize(c, (6, 6)), tf.image.random_crop(x, [4, 5, 3])

    concrete = crop.get_concrete_function(tf.TensorSpec([8, 8, 3]),
                                          tf.TensorSpec([], tf.int32))
    shapes = [tuple(s.as_list()) for s in concrete.output_shapes]
    assert shapes == [(None, None, 3), (6, 6, 3), (4, 5, 3)]
    out = crop(np.ones((8, 8, 3), "float32"), tf.constant(5))
    assert [tuple(o.shape) for o in out] == [(5, 5, 3), (6, 6, 3), (4, 5, 3)]
    again = crop(np.ones((8, 8, 3), "float32"), tf.constant(3))
    assert tuple(again[0].shape) == (3, 3, 3)


def test_barlow_loss_on_twin_learns():
    """Barlow Twins' cross-correlation loss (custom Loss, set_diag/diag_part,
    reduce_std) trained through a custom train_step goes down."""

    class BarlowLoss(keras.losses.Loss):
        def __init__(self, batch_size):
            super().__init__()
            self.batch_size = batch_size

        def call(self, z_a, z_b):
            def norm(z):
                return (z - tf.reduce_mean(z, axis=0)) / tf.math.reduce_std(z, axis=0)
            c = tf.transpose(norm(z_a)) @ norm(z_b) / self.batch_size
            on_diag = tf.reduce_sum(tf.pow(tf.linalg.diag_part(c) - 1, 2))
            off = tf.linalg.set_diag(c, tf.zeros(c.shape[-1]))
            return on_diag + 5e-3 * tf.reduce_sum(tf.pow(off, 2))

    z = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")
    w = np.random.default_rng(2).normal(size=(8, 4)).astype("float32")

    def reference(a, b):
        na = (a - a.mean(0)) / a.std(0)
        nb = (b - b.mean(0)) / b.std(0)
        c = na.T @ nb / 8
        off = c - np.diag(np.diag(c))
        return ((np.diag(c) - 1) ** 2).sum() + 5e-3 * (off ** 2).sum()

    np.testing.assert_allclose(float(BarlowLoss(8)(z, w)), reference(z, w), rtol=1e-5)
    # TF 2.21 gives 2.971 for the same arrays
    np.testing.assert_allclose(float(BarlowLoss(8)(z, w)), 2.971, atol=1e-3)

    class Twin(keras.Model):
        def __init__(self):
            super().__init__()
            self.net = keras.Sequential([layers.Dense(16), layers.BatchNormalization(),
                                         layers.ReLU(), layers.Dense(8)])
            self.tracker = keras.metrics.Mean(name="loss")

        @property
        def metrics(self):
            return [self.tracker]

        def train_step(self, batch):
            a, b = batch
            with tf.GradientTape() as tape:
                loss = self.loss(self.net(a, training=True), self.net(b, training=True))
            grads = tape.gradient(loss, self.net.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.net.trainable_variables))
            self.tracker.update_state(loss)
            return {"loss": self.tracker.result()}

    tf.keras.utils.set_random_seed(3)
    x = np.random.default_rng(0).random((64, 12)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, x + 0.05)).batch(16, drop_remainder=True)
    model = Twin()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=BarlowLoss(16))
    losses = model.fit(ds, epochs=10, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]


# -- captcha OCR: model.layers orders a depth's layers as Keras's walk does ---------
class _Two(layers.Layer):
    def call(self, first, second):
        return first + second


def test_layers_of_one_depth_follow_the_walk_from_the_outputs():
    u = layers.Input((2,), name="u")
    v = layers.Input((2,), name="v")
    vd = layers.Dense(2, name="vd")(v)
    # (TF 2.21 orders, as Keras 2's _map_graph_network)
    names = [lay.name for lay in keras.Model([v, u], _Two(name="two")(u, vd)).layers]
    assert names == ["v", "u", "vd", "two"]
    names = [lay.name for lay in keras.Model([v, u], _Two(name="two2")(vd, u)).layers]
    assert names == ["v", "vd", "u", "two2"]
    names = [lay.name for lay in keras.Model([v, u], layers.Add(name="a")([u, vd])).layers]
    assert names == ["v", "u", "vd", "a"]
    p = layers.Input((2,), name="p")
    q = layers.Dense(2, name="q2")(layers.Dense(2, name="q1")(p))
    r = layers.Input((2,), name="r")
    s = layers.Dense(2, name="s1")(r)
    model = keras.Model([p, r], [layers.Add(name="add2")([q, s]), s])
    assert [lay.name for lay in model.layers] == ["p", "q1", "r", "q2", "s1", "add2"]


def test_ocr_ctc_layer_model_order_training_and_decode():
    tf.keras.utils.set_random_seed(7)
    image = layers.Input(shape=(16, 8, 1), name="image")
    labels = layers.Input(name="label", shape=(None,), dtype="float32")
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(image)
    x = layers.MaxPooling2D((2, 2), name="pool")(x)
    x = layers.Reshape((8, 16), name="reshape")(x)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Dense(5, activation="softmax", name="dense2")(x)

    class CTCLayer(layers.Layer):
        def call(self, y_true, y_pred):
            batch = tf.cast(tf.shape(y_true)[0], "int64")
            input_length = tf.cast(tf.shape(y_pred)[1], "int64") * tf.ones(
                (batch, 1), "int64")
            label_length = tf.cast(tf.shape(y_true)[1], "int64") * tf.ones(
                (batch, 1), "int64")
            self.add_loss(keras.backend.ctc_batch_cost(y_true, y_pred, input_length,
                                                       label_length))
            return y_pred

    model = keras.Model([image, labels], CTCLayer(name="ctc_loss")(labels, x))
    # the label input is called first, so Keras lists it before dense2
    assert [lay.name for lay in model.layers][-3:] == ["label", "dense2", "ctc_loss"]
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    rng = np.random.default_rng(0)
    data = {"image": rng.random((32, 16, 8, 1)).astype("float32"),
            "label": rng.integers(0, 4, size=(32, 3)).astype("float32")}
    history = model.fit(data, epochs=6, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    predict = keras.Model(model.get_layer("image").output, model.get_layer("dense2").output)
    preds = predict.predict(data["image"][:4], verbose=0)
    decoded = keras.backend.ctc_decode(preds, input_length=np.full(4, 8), greedy=True)
    assert decoded[0][0].dtype == tf.int64 and decoded[0][0].shape[0] == 4


def test_ctc_decode_and_batch_cost_values():
    probs = np.full((2, 6, 4), 0.01, "float32")
    for b, seq in enumerate([[1, 1, 3, 0, 2, 2], [3, 3, 3, 3, 1, 0]]):
        for step, k in enumerate(seq):
            probs[b, step, k] = 0.97
    decoded, log_probs = keras.backend.ctc_decode(probs, input_length=np.array([6, 5]))
    assert decoded[0].numpy().tolist() == [[1, 0, 2, -1, -1, -1], [1, -1, -1, -1, -1, -1]]
    # the values below came from TF 2.21
    np.testing.assert_allclose(log_probs.numpy(), [[0.183], [0.152]], atol=1e-3)
    cost = keras.backend.ctc_batch_cost(np.array([[1, 2, 0], [2, 1, 1]], "int32"), probs,
                                        np.array([[6], [6]]), np.array([[2], [3]]))
    assert tuple(cost.shape) == (2, 1) and cost.dtype == tf.float32
    assert np.all(np.isfinite(cost.numpy())) and np.all(cost.numpy() > 0)


@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_huber_config_round_trip_keeps_delta(delta):
    loss = keras.losses.Huber(delta=delta)
    again = keras.losses.Huber.from_config(loss.get_config())
    y_true, y_pred = np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.5, 4.0])
    err = np.abs(y_true - y_pred)
    ref = np.where(err <= delta, 0.5 * err ** 2, delta * err - 0.5 * delta ** 2).mean()
    np.testing.assert_allclose(float(again(y_true, y_pred)), ref, rtol=1e-6)


def test_gradient_through_traced_size_random_crop():
    """A crop sized by a traced tensor runs as one graph node; its gradient (a
    gather's IndexedSlices inside) comes back dense, summing to 2 * the crop."""
    x = tf.Variable(np.arange(48, dtype="float32").reshape(4, 4, 3))

    @tf.function
    def step(n):
        with tf.GradientTape() as tape:
            crop = tf.image.random_crop(x, (n, n, 3))
            loss = tf.reduce_sum(crop * crop)
        return tape.gradient(loss, x), crop

    grad, crop = step(tf.constant(2))
    assert tuple(grad.shape) == (4, 4, 3) and tuple(crop.shape) == (2, 2, 3)
    np.testing.assert_allclose(float(tf.reduce_sum(grad)),
                               float(tf.reduce_sum(2 * crop)), rtol=1e-6)
    # the gradient is 2x where the crop took values, 0 elsewhere
    g = grad.numpy()
    assert np.count_nonzero(g) <= 12
    grad3, crop3 = step(tf.constant(3))
    assert tuple(crop3.shape) == (3, 3, 3)
    np.testing.assert_allclose(float(tf.reduce_sum(grad3)),
                               float(tf.reduce_sum(2 * crop3)), rtol=1e-6)


class _Pairs(keras.utils.Sequence):
    """keras.io metric learning (Keras 2 version): sets ``self.num_batches``."""

    def __init__(self, num_batches):
        super().__init__()
        self.num_batches = num_batches

    def __len__(self):
        return self.num_batches

    def __getitem__(self, index):
        rng = np.random.default_rng(index)
        return rng.random((4, 3)).astype("float32"), rng.random((4, 1)).astype("float32")


def test_keras2_sequence_may_set_num_batches():
    pairs = _Pairs(3)
    assert pairs.num_batches == 3 and len(pairs) == 3
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(pairs, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(model.predict(_Pairs(2), verbose=0)) == 8


def test_py_dataset_num_batches_stays_read_only():
    class Data(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return np.zeros((1, 3)), np.zeros((1, 1))

    data = Data()
    assert data.num_batches == 2
    with pytest.raises(AttributeError):
        data.num_batches = 5   # as Keras 3's PyDataset (a property without setter)
