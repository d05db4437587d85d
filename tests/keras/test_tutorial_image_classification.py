"""TF's image tutorials on tiny synthetic data: "Basic classification" (a Softmax
probability model around a trained one), "CNN" (val_accuracy history, evaluate's
verbose=2 line), "Image classification" (an augmentation Sequential as the first
layer of the model, load_img/img_to_array on a PNG, tf.nn.softmax of a prediction),
the "Data augmentation" pipeline that calls one augmentation stack on images of
several sizes, and "Image segmentation" class weights on per-pixel targets."""

import contextlib
import io
import re

import numpy as np
import pytest

import dlframe as tf

layers = tf.keras.layers


def _compiled(model):
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_basic_classification_probability_model():
    rng = np.random.default_rng(0)
    train_images = rng.integers(0, 256, (64, 28, 28)).astype("uint8") / 255.0
    train_labels = rng.integers(0, 10, (64,)).astype("uint8")
    model = _compiled(tf.keras.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(32, activation="relu"),
        layers.Dense(10)]))
    model.fit(train_images, train_labels, epochs=1, verbose=0)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        _, test_acc = model.evaluate(train_images, train_labels, verbose=2)
    assert 0.0 <= test_acc <= 1.0
    line = re.sub(r"[0-9.]+", "N", buf.getvalue().strip())
    # Keras 2 prints "2/2 - 0s - loss: N - accuracy: N - Ns/epoch - Nms/step",
    # Keras 3 "2/2 - 0s - Nms/step - accuracy: N - loss: N"
    assert line.startswith("N/N - Ns - ") and "loss: N" in line, line
    assert "accuracy: N" in line
    probability_model = tf.keras.Sequential([model, layers.Softmax()])
    assert probability_model.built and len(probability_model.layers) == 2
    predictions = probability_model.predict(train_images[:5], verbose=0)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (5, 10)
    logits = model.predict(train_images[:5], verbose=0)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)
    assert np.argmax(predictions[0]) == np.argmax(logits[0])
    single = probability_model.predict(np.expand_dims(train_images[1], 0), verbose=0)
    np.testing.assert_allclose(single[0], expected[1], rtol=1e-5, atol=1e-6)


def test_cnn_history_has_val_accuracy():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (32, 16, 16, 3)).astype("float32")
    labels = rng.integers(0, 10, (32, 1))
    model = tf.keras.models.Sequential()
    model.add(layers.Conv2D(8, (3, 3), activation="relu", input_shape=(16, 16, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(8, (3, 3), activation="relu"))
    assert model.output_shape == (None, 5, 5, 8)
    model.add(layers.Flatten())
    model.add(layers.Dense(10))
    history = _compiled(model).fit(images, labels, epochs=2, verbose=0,
                                   validation_data=(images[:8], labels[:8]))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history.history["val_accuracy"]) == 2


def _write_class_tree(root, rng, per_class=6):
    for ci, name in enumerate(["daisy", "roses", "tulips"]):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 256, (20 + i, 26, 3)).astype("uint8")
            img[..., ci] = 255        # each class has one saturated channel
            tf.io.write_file(str(root / name / f"{i}.png"), tf.io.encode_png(img))


def test_image_classification_with_augmentation_first(tmp_path):
    rng = np.random.default_rng(0)
    _write_class_tree(tmp_path, rng)
    train_ds = tf.keras.utils.image_dataset_from_directory(
        tmp_path, validation_split=0.25, subset="training", seed=123,
        image_size=(24, 24), batch_size=4)
    val_ds = tf.keras.utils.image_dataset_from_directory(
        tmp_path, validation_split=0.25, subset="validation", seed=123,
        image_size=(24, 24), batch_size=4)
    class_names = train_ds.class_names
    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=tf.data.AUTOTUNE)
    data_augmentation = tf.keras.Sequential([
        layers.RandomFlip("horizontal", input_shape=(24, 24, 3)),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1)])
    model = _compiled(tf.keras.Sequential([
        data_augmentation,
        layers.Rescaling(1. / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(len(class_names), name="outputs")]))
    # the augmentation stack's input shape builds the outer model (TF 2.21: 97827)
    assert model.built and model.output_shape == (None, 3)
    assert model.count_params() == 97827
    history = model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    img = tf.keras.utils.load_img(str(tmp_path / "roses" / "0.png"),
                                  target_size=(24, 24))
    img_array = tf.expand_dims(tf.keras.utils.img_to_array(img), 0)
    assert img_array.shape == (1, 24, 24, 3) and img_array.dtype == tf.float32
    expected = tf.image.resize(tf.io.decode_png(tf.io.read_file(
        str(tmp_path / "roses" / "0.png"))), (24, 24), method="nearest")
    np.testing.assert_array_equal(img_array.numpy()[0], expected.numpy())
    predictions = model.predict(img_array, verbose=0)
    score = tf.nn.softmax(predictions[0])
    assert score.shape == (3,)
    assert abs(float(tf.reduce_sum(score)) - 1.0) < 1e-5
    assert class_names[np.argmax(score)] in class_names


def test_augmentation_stack_called_on_several_image_sizes():
    rng = np.random.default_rng(2)
    resize_and_rescale = tf.keras.Sequential([layers.Resizing(16, 16),
                                              layers.Rescaling(1. / 255)])
    one = rng.integers(0, 256, (20, 20, 3)).astype("uint8")
    assert resize_and_rescale(one).shape == (16, 16, 3)   # built on one image
    assert resize_and_rescale(rng.integers(0, 256, (30, 10, 3))).shape == (16, 16, 3)
    augment = tf.keras.Sequential([layers.RandomFlip("horizontal_and_vertical"),
                                   layers.RandomRotation(0.2)])
    assert augment(tf.expand_dims(one, 0)).shape == (1, 20, 20, 3)
    # later batches of another size relax the inferred shape, as Keras 2 does
    batch = rng.uniform(0, 1, (4, 16, 16, 3)).astype("float32")
    out = augment(batch, training=False)
    np.testing.assert_array_equal(out.numpy(), batch)
    assert augment(batch, training=True).shape == (4, 16, 16, 3)
    # and a dataset pipeline mapping it over batches of the new size runs
    ds = tf.data.Dataset.from_tensor_slices(batch).batch(2).map(
        lambda x: augment(x, training=True))
    assert [tuple(x.shape) for x in ds] == [(2, 16, 16, 3)] * 2
    # a model whose input shape the user declared still checks it
    fixed = tf.keras.Sequential([layers.Input((20, 20, 3)), layers.Rescaling(2.0)])
    with pytest.raises(ValueError, match="incompatible"):
        fixed(batch)


def _unet(seed):
    tf.keras.utils.set_random_seed(seed)
    inputs = layers.Input(shape=[8, 8, 3])
    down = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
    up = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(down)
    x = layers.Concatenate()([up, inputs])
    model = tf.keras.Model(inputs, layers.Conv2D(3, 1)(x))
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_segmentation_class_weight_weighs_each_pixel():
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 1, (4, 8, 8, 3)).astype("float32")
    masks = rng.integers(0, 3, (4, 8, 8, 1)).astype("uint8")
    by_class_weight = _unet(0)
    start = [w.copy() for w in by_class_weight.get_weights()]
    by_class_weight.fit(images, masks, batch_size=4, epochs=1, shuffle=False,
                        verbose=0, class_weight={0: 2.0, 1: 2.0, 2: 1.0})

    def add_sample_weights(image, label):   # the tutorial's per-pixel weights
        class_weights = tf.constant([2.0, 2.0, 1.0])
        sample_weights = tf.gather(class_weights, indices=tf.cast(label, tf.int32))
        return image, label, sample_weights

    by_sample_weight = _unet(0)
    by_sample_weight.set_weights(start)
    ds = tf.data.Dataset.from_tensor_slices((images, masks)).batch(4)
    by_sample_weight.fit(ds.map(add_sample_weights), epochs=1, verbose=0)
    for a, b in zip(by_class_weight.get_weights(), by_sample_weight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in
                   zip(start, by_class_weight.get_weights()))
