"""The TF vision tutorials, shrunk to synthetic data: image segmentation (U-Net
on a MobileNetV2 encoder), DCGAN, pix2pix pieces, neural style transfer,
transfer learning / fine-tuning and data augmentation run unchanged."""

import numpy as np
import pytest

import dlframe as tf

layers = tf.keras.layers


def _upsample(filters, size, apply_dropout=False):
    initializer = tf.random_normal_initializer(0.0, 0.02)
    result = tf.keras.Sequential()
    result.add(layers.Conv2DTranspose(filters, size, strides=2, padding="same",
                                      kernel_initializer=initializer, use_bias=False))
    result.add(layers.BatchNormalization())
    if apply_dropout:
        result.add(layers.Dropout(0.5))
    result.add(layers.ReLU())
    return result


class Augment(layers.Layer):
    def __init__(self, seed=42):
        super().__init__()
        self.augment_inputs = layers.RandomFlip(mode="horizontal", seed=seed)
        self.augment_labels = layers.RandomFlip(mode="horizontal", seed=seed)

    def call(self, inputs, labels):
        return self.augment_inputs(inputs), self.augment_labels(labels)


def test_image_segmentation_unet():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")
    masks = (images[..., :1] > 0.5).astype("int32") + (images[..., 1:2] > 0.7)

    def load_image(image, mask):
        image = tf.image.resize(image, (32, 32))
        mask = tf.image.resize(mask, (32, 32),
                               method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
        return tf.cast(image, tf.float32), mask

    ds = tf.data.Dataset.from_tensor_slices((images, masks)).map(load_image)
    train_batches = ds.cache().shuffle(8).batch(4).repeat().map(Augment())
    # the two RandomFlip layers share a seed: image and mask flip together
    for image_batch, mask_batch in train_batches.take(4):
        x = image_batch.numpy()
        rebuilt = (x[..., :1] > 0.5).astype("float32") + (x[..., 1:2] > 0.7)
        np.testing.assert_array_equal(rebuilt, mask_batch.numpy())

    base_model = tf.keras.applications.MobileNetV2(
        input_shape=[32, 32, 3], include_top=False, weights=None, alpha=0.35)
    names = ["block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu",
             "block_13_expand_relu", "block_16_project"]
    outputs = [base_model.get_layer(name).output for name in names]
    down_stack = tf.keras.Model(inputs=base_model.input, outputs=outputs)
    down_stack.trainable = False
    inputs = layers.Input(shape=[32, 32, 3])
    skips = down_stack(inputs)
    x = skips[-1]
    for up, skip in zip([_upsample(32, 3), _upsample(16, 3), _upsample(8, 3),
                         _upsample(8, 3)], reversed(skips[:-1])):
        x = layers.Concatenate()([up(x), skip])
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    model = tf.keras.Model(inputs=inputs, outputs=x)
    # trainable count from TF 2.21 for the same model
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 78251
    assert model.count_params() == 339659
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(train_batches, epochs=2, steps_per_epoch=2,
                        validation_data=ds.batch(4), verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    first = model.train_on_batch(images[:4], masks[:4])[0]
    for _ in range(8):
        last = model.train_on_batch(images[:4], masks[:4])[0]
    assert last < first
    pred_mask = tf.math.argmax(model.predict(images[:1], verbose=0), axis=-1)
    assert pred_mask[..., tf.newaxis][0].shape == (32, 32, 1)


def test_dcgan_two_optimizers_and_checkpoint(tmp_path):
    generator = tf.keras.Sequential([
        layers.Dense(7 * 7 * 16, use_bias=False, input_shape=(8,)),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 16)),
        layers.Conv2DTranspose(8, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                               activation="tanh"),
    ])
    assert generator.output_shape == (None, 14, 14, 1)
    discriminator = tf.keras.Sequential([
        layers.Conv2D(8, 5, strides=2, padding="same", input_shape=[14, 14, 1]),
        layers.LeakyReLU(), layers.Dropout(0.3), layers.Flatten(), layers.Dense(1),
    ])
    cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    gen_opt, disc_opt = tf.keras.optimizers.Adam(1e-3), tf.keras.optimizers.Adam(1e-3)
    checkpoint = tf.train.Checkpoint(generator_optimizer=gen_opt,
                                     discriminator_optimizer=disc_opt,
                                     generator=generator, discriminator=discriminator)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([8, 8])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            fake = discriminator(generator(noise, training=True), training=True)
            real = discriminator(images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake), fake)
            disc_loss = (cross_entropy(tf.ones_like(real), real)
                         + cross_entropy(tf.zeros_like(fake), fake))
        gen_opt.apply_gradients(zip(gen_tape.gradient(
            gen_loss, generator.trainable_variables), generator.trainable_variables))
        disc_opt.apply_gradients(zip(disc_tape.gradient(
            disc_loss, discriminator.trainable_variables),
            discriminator.trainable_variables))
        return gen_loss, disc_loss

    images = np.random.default_rng(0).uniform(-1, 1, (16, 14, 14, 1)).astype("float32")
    before = [w.numpy().copy() for w in generator.trainable_weights]
    disc_before = discriminator.layers[0].kernel.numpy().copy()
    for batch in tf.data.Dataset.from_tensor_slices(images).batch(8):
        gen_loss, disc_loss = train_step(batch)
    assert np.isfinite(float(gen_loss)) and np.isfinite(float(disc_loss))
    assert all(not np.allclose(b, w.numpy())
               for b, w in zip(before, generator.trainable_weights))
    assert not np.allclose(disc_before, discriminator.layers[0].kernel.numpy())
    prefix = str(tmp_path / "ckpt")
    checkpoint.save(file_prefix=prefix)
    seed = tf.random.normal([4, 8])
    expected = generator(seed, training=False).numpy()
    generator.set_weights([w * 0 for w in generator.get_weights()])
    checkpoint.restore(tf.train.latest_checkpoint(str(tmp_path)))
    np.testing.assert_allclose(generator(seed, training=False).numpy(), expected,
                               rtol=1e-5, atol=1e-6)   # BLAS threads: last-bit noise
    assert int(gen_opt.iterations.numpy()) == 2


def test_pix2pix_pieces(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 255, (20, 40, 3)).astype("uint8")
    path = str(tmp_path / "pair.png")
    tf.io.write_file(path, tf.io.encode_png(pixels))

    def load(image_file):
        image = tf.io.decode_png(tf.io.read_file(image_file))
        w = tf.shape(image)[1] // 2
        return tf.cast(image[:, w:, :], tf.float32), tf.cast(image[:, :w, :], tf.float32)

    inp, re = load(path)
    np.testing.assert_array_equal(inp.numpy(), pixels[:, 20:])

    @tf.function()
    def random_jitter(input_image, real_image):
        input_image = tf.image.resize(input_image, [24, 24],
                                      method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
        real_image = tf.image.resize(real_image, [24, 24],
                                     method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
        stacked = tf.stack([input_image, real_image], axis=0)
        cropped = tf.image.random_crop(stacked, size=[2, 16, 16, 3])
        input_image, real_image = cropped[0], cropped[1]
        if tf.random.uniform(()) > 0.5:
            input_image = tf.image.flip_left_right(input_image)
            real_image = tf.image.flip_left_right(real_image)
        return input_image, real_image

    corners = set()
    for _ in range(8):
        a, _ = random_jitter(inp, re)
        assert a.shape == (16, 16, 3)
        # nearest-neighbour resizing only copies pixels of the input
        assert set(np.unique(a.numpy())) <= set(np.unique(inp.numpy()))
        corners.add(float(a[0, 0, 0]))
    assert len(corners) > 1

    x = inputs = layers.Input(shape=[16, 16, 3])
    skips = []
    for filters in (8, 16, 16):
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        skips.append(x)
    for filters, skip in zip((16, 8), reversed(skips[:-1])):
        x = tf.concat([_upsample(filters, 4)(x), skip], axis=-1)
    out = layers.Conv2DTranspose(3, 4, strides=2, padding="same",
                                 activation="tanh")(x)
    generator = tf.keras.Model(inputs, out)
    tar = layers.Input(shape=[16, 16, 3], name="target_image")
    d = layers.concatenate([inputs, tar])
    d = layers.ZeroPadding2D()(layers.Conv2D(8, 4, strides=2, padding="same")(d))
    discriminator = tf.keras.Model([inputs, tar], layers.Conv2D(1, 4)(d))
    assert discriminator.output_shape == (None, 7, 7, 1)
    batch = (inp[tf.newaxis, :16, :16] / 127.5) - 1
    assert generator(batch, training=True).shape == (1, 16, 16, 3)
    assert discriminator([batch, generator(batch)]).shape == (1, 7, 7, 1)


def test_neural_style_transfer():
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (1, 32, 32, 3)).astype("float32")
    vgg = tf.keras.applications.VGG19(include_top=False, weights=None)
    vgg.trainable = False
    names = ["block1_conv1", "block2_conv1", "block5_conv2"]
    extractor = tf.keras.Model([vgg.input], [vgg.get_layer(n).output for n in names])

    def gram_matrix(input_tensor):
        result = tf.linalg.einsum("bijc,bijd->bcd", input_tensor, input_tensor)
        shape = tf.shape(input_tensor)
        return result / tf.cast(shape[1] * shape[2], tf.float32)

    features = extractor(tf.keras.applications.vgg19.preprocess_input(content * 255))
    f = features[0].numpy()
    np.testing.assert_allclose(
        gram_matrix(features[0]).numpy(),
        np.einsum("bijc,bijd->bcd", f, f) / (f.shape[1] * f.shape[2]), rtol=1e-4)
    np.testing.assert_allclose(
        tf.image.total_variation(content).numpy(),
        [np.abs(np.diff(content[0], axis=0)).sum()
         + np.abs(np.diff(content[0], axis=1)).sum()], rtol=1e-5)
    target = rng.uniform(0, 1, (1, 32, 32, 3)).astype("float32")
    image = tf.Variable(content)
    opt = tf.keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)

    @tf.function()
    def train_step(image):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((image - target) ** 2) * 1e3
            loss += 1e-3 * tf.image.total_variation(image)
        grad = tape.gradient(loss, image)
        opt.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, clip_value_min=0.0, clip_value_max=1.0))
        return loss

    losses = [float(np.squeeze(train_step(image).numpy())) for _ in range(5)]
    assert losses[-1] < losses[0]
    assert 0.0 <= float(tf.reduce_min(image)) and float(tf.reduce_max(image)) <= 1.0


def _write_tree(root, classes, per_class, rng):
    for ci, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            h, w = rng.integers(20, 40, 2)
            pixels = np.zeros((h, w, 3), np.uint8)
            pixels[..., ci] = 200
            pixels += rng.integers(0, 55, pixels.shape).astype(np.uint8)
            tf.io.write_file(str(root / name / f"{i}.png"), tf.io.encode_png(pixels))


def test_transfer_learning_and_fine_tuning(tmp_path):
    rng = np.random.default_rng(0)
    _write_tree(tmp_path / "train", ("cats", "dogs"), 8, rng)
    _write_tree(tmp_path / "validation", ("cats", "dogs"), 4, rng)
    train = tf.keras.utils.image_dataset_from_directory(
        str(tmp_path / "train"), shuffle=True, batch_size=4, image_size=(32, 32))
    validation = tf.keras.utils.image_dataset_from_directory(
        str(tmp_path / "validation"), shuffle=True, batch_size=4, image_size=(32, 32))
    assert train.class_names == ["cats", "dogs"]
    val_batches = tf.data.experimental.cardinality(validation)
    test = validation.take(val_batches // 2)
    validation = validation.skip(val_batches // 2).prefetch(tf.data.AUTOTUNE)
    augmentation = tf.keras.Sequential([layers.RandomFlip("horizontal"),
                                        layers.RandomRotation(0.2)])
    base_model = tf.keras.applications.MobileNetV2(
        input_shape=(32, 32, 3), include_top=False, weights=None, alpha=0.35)
    base_model.trainable = False
    inputs = tf.keras.Input(shape=(32, 32, 3))
    x = augmentation(inputs)
    x = tf.keras.applications.mobilenet_v2.preprocess_input(x)
    x = base_model(x, training=False)
    x = layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(x))
    model = tf.keras.Model(inputs, layers.Dense(1)(x))

    def compile_model(optimizer):
        model.compile(optimizer=optimizer,
                      loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0,
                                                               name="accuracy")])

    compile_model(tf.keras.optimizers.Adam(1e-3))
    assert len(model.trainable_variables) == 2
    history = model.fit(train, epochs=2, validation_data=validation, verbose=0)
    base_model.trainable = True
    for layer in base_model.layers[:100]:
        layer.trainable = False
    compile_model(tf.keras.optimizers.RMSprop(1e-4))
    assert len(model.trainable_variables) == 56  # as TF 2.21
    history_fine = model.fit(train, epochs=4, initial_epoch=history.epoch[-1],
                             validation_data=validation, verbose=0)
    assert history_fine.epoch == [1, 2, 3]
    images, labels = test.as_numpy_iterator().next()
    predictions = tf.nn.sigmoid(model.predict_on_batch(images).flatten())
    predictions = tf.where(predictions < 0.5, 0, 1)
    assert predictions.shape == labels.shape and predictions.dtype == tf.int32


def test_data_augmentation_pipeline():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 40, 40, 3)).astype("uint8")
    labels = rng.integers(0, 5, 6)

    def augment(image_label, seed):
        image, label = image_label
        image = tf.image.resize(tf.cast(image, tf.float32), [32, 32]) / 255.0
        image = tf.image.resize_with_crop_or_pad(image, 38, 38)
        new_seed = tf.random.experimental.stateless_split(seed, num=1)[0, :]
        image = tf.image.stateless_random_crop(image, size=[32, 32, 3], seed=seed)
        image = tf.image.stateless_random_brightness(image, max_delta=0.5,
                                                     seed=new_seed)
        return tf.clip_by_value(image, 0, 1), label

    def run():
        counter = tf.data.experimental.Counter()
        ds = tf.data.Dataset.zip(
            (tf.data.Dataset.from_tensor_slices((images, labels)), (counter, counter)))
        return np.concatenate([x.numpy() for x, _ in ds.map(augment).batch(3)])

    first, second = run(), run()
    assert first.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(first, second)  # stateless: reproducible
    assert 0.0 <= first.min() and first.max() <= 1.0
    bbox = tf.constant([0.1, 0.1, 0.8, 0.9], dtype=tf.float32, shape=[1, 1, 4])

    def inception_crop(image):
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            tf.shape(image), bounding_boxes=bbox, min_object_covered=0.1)
        return tf.image.resize(tf.slice(image, begin, size), (24, 24))

    crops = tf.data.Dataset.from_tensor_slices(images).map(inception_crop).batch(6)
    assert next(iter(crops)).shape == (6, 24, 24, 3)
    gray = tf.image.rgb_to_grayscale(images[0])
    assert gray.shape == (40, 40, 1) and gray.dtype == tf.uint8
    saturated = tf.image.adjust_saturation(
        tf.image.convert_image_dtype(images[0], tf.float32), 3)
    assert saturated.shape == (40, 40, 3)


@pytest.mark.parametrize("quality", [40, 90])
def test_stateless_jpeg_quality_in_pipeline(quality):
    images = np.random.default_rng(3).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(images).map(
        lambda x: tf.image.stateless_random_jpeg_quality(x, quality, quality + 5,
                                                         seed=(1, 2)))
    out = np.stack([x.numpy() for x in ds])
    assert out.shape == images.shape and out.dtype == np.float32
