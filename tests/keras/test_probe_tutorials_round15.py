"""Regressions found by running shrunk tensorflow.org tutorials (round 15)."""

import numpy as np
import pytest

import dlframe as tf


def test_schedule_of_numpy_steps_gives_rate_per_step():
    # "Overfit and underfit" plots lr_schedule(np.linspace(0, 100000))
    sched = tf.keras.optimizers.schedules.InverseTimeDecay(
        0.001, decay_steps=8000, decay_rate=1, staircase=False)
    steps = np.linspace(0, 100000, 7)
    rate = sched(steps)
    assert rate.shape == (7,) and rate.dtype == tf.float32
    np.testing.assert_allclose(rate.numpy(), 0.001 / (1 + steps / 8000), rtol=1e-6)
    exp = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    np.testing.assert_allclose(exp(np.array([0, 10, 20])).numpy(),
                               [0.1, 0.05, 0.025], rtol=1e-6)
    # scalars still give a scalar float32 rate
    assert sched(8000).shape == () and abs(float(sched(8000)) - 0.0005) < 1e-9


def test_loss_object_as_metric_keeps_its_name_for_early_stopping():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 4).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    model.compile(
        optimizer="adam", loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[tf.keras.losses.BinaryCrossentropy(from_logits=True,
                                                    name="binary_crossentropy"),
                 "accuracy"])
    stop = tf.keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy",
                                            patience=0, min_delta=100.0)
    hist = model.fit(x, y, validation_split=0.25, epochs=5, verbose=0, batch_size=16,
                     callbacks=[stop])
    assert sorted(hist.history) == ["accuracy", "binary_crossentropy", "loss",
                                    "val_accuracy", "val_binary_crossentropy",
                                    "val_loss"]
    # the monitored metric exists, so the huge min_delta stops after epoch 2
    assert len(hist.history["loss"]) == 2
    # the metric is the loss itself (no regularization, equal batches)
    np.testing.assert_allclose(hist.history["binary_crossentropy"],
                               hist.history["loss"], rtol=1e-5)


def test_cache_dataset_repr_names_cache_dataset():
    ds = tf.data.Dataset.range(3).cache()
    assert repr(ds).startswith("<CacheDataset element_spec=")
    assert [int(v) for v in ds] == [0, 1, 2]


def test_tf25_structured_data_spellings_still_work():
    # the TF 2.4/2.5 "Classify structured data with preprocessing layers" code:
    # IntegerLookup(max_values=...), CategoryEncoding(max_tokens=index.vocab_size())
    prep = tf.keras.layers.experimental.preprocessing
    with pytest.deprecated_call():
        index = prep.IntegerLookup(max_values=3)
    index.adapt(np.array([1, 1, 2, 3, 3, 3]))
    assert index.get_vocabulary() == [-1, 3, 1]
    assert index.vocab_size() == index.vocabulary_size() == 3
    with pytest.deprecated_call():
        encoder = prep.CategoryEncoding(max_tokens=index.vocab_size(),
                                        output_mode="binary")
    assert encoder.num_tokens == 3
    assert encoder.get_config()["num_tokens"] == 3
    out = encoder(index(tf.constant([[3, 2], [1, 1]])))
    np.testing.assert_array_equal(out.numpy(), [[1, 1, 0], [0, 0, 1]])
    with pytest.deprecated_call():
        masked = tf.keras.layers.IntegerLookup(mask_value=0, oov_value=-7,
                                               vocabulary=[5, 6])
    assert masked.get_vocabulary() == [0, -7, 5, 6]
    np.testing.assert_array_equal(masked(tf.constant([0, 6, 9])).numpy(), [0, 3, 1])


def test_vocab_size_alias_on_string_lookup_and_text_vectorization():
    lookup = tf.keras.layers.StringLookup()
    lookup.adapt(np.array(["a", "b", "a"]))
    assert lookup.vocab_size() == 3
    vectorizer = tf.keras.layers.TextVectorization()
    vectorizer.adapt(np.array(["x y", "y"]))
    assert vectorizer.vocab_size() == vectorizer.vocabulary_size() == 4


def test_renamed_argument_given_twice_is_an_error():
    with pytest.raises(ValueError, match="max_values"):
        tf.keras.layers.IntegerLookup(max_tokens=3, max_values=4)
    with pytest.raises(ValueError, match="max_tokens"):
        tf.keras.layers.CategoryEncoding(num_tokens=3, max_tokens=4)


def _flip_epochs(layer, x, n=8):
    ds = tf.data.Dataset.from_tensors(x).repeat(n).map(
        lambda v: layer(v, training=True))
    return ([float(v.numpy()[0, 0, 0, 0]) for v in ds],
            [float(v.numpy()[0, 0, 0, 0]) for v in ds])


@pytest.mark.parametrize("seed", [None, 5])
def test_augmentation_in_dataset_map_changes_every_epoch(seed):
    # "Image classification" / "Data augmentation": train_ds.map(lambda x, y:
    # (data_augmentation(x, training=True), y)) must not replay the same
    # augmentations each epoch after keras.utils.set_random_seed (Keras 2 and 3
    # give every augmentation layer its own advancing seed state)
    x = np.arange(8.0, dtype="float32").reshape(1, 1, 8, 1)
    tf.keras.utils.set_random_seed(1)
    first, second = _flip_epochs(tf.keras.layers.RandomFlip("horizontal", seed=seed), x)
    assert set(first) <= {0.0, 7.0} and len(set(first)) == 2
    assert first != second
    # ... and set_random_seed still makes a whole run reproducible
    tf.keras.utils.set_random_seed(1)
    again = _flip_epochs(tf.keras.layers.RandomFlip("horizontal", seed=seed), x)
    assert again == (first, second)


def test_unseeded_rotation_differs_between_layers_and_calls():
    tf.keras.utils.set_random_seed(3)
    img = np.arange(64.0, dtype="float32").reshape(1, 8, 8, 1)
    rot = tf.keras.layers.RandomRotation(0.3)
    a, b = rot(img, training=True).numpy(), rot(img, training=True).numpy()
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(rot(img, training=False).numpy(), img)
    # no weights are added by the seed state, as in Keras
    model = tf.keras.Sequential([tf.keras.Input((8, 8, 1)), rot,
                                 tf.keras.layers.Flatten(), tf.keras.layers.Dense(1)])
    assert len(model.weights) == 2 and len(model.get_weights()) == 2
