"""Round 20 probe: saving in real programs (checked against TF 2.21 / Keras 2):
``load_weights(by_name=True)`` of a TF-format checkpoint, ModelCheckpoint's
weights-only path check, atomic model files and best-only checkpoint names."""

import os

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
X = np.random.RandomState(0).randn(16, 3).astype("float32")


def _model(units=4):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, name="d1"),
                             keras.layers.Dense(2, name="d2")])


def test_by_name_of_tf_checkpoint_is_not_implemented(tmp_path):
    # Keras 2 raises NotImplementedError: a checkpoint matches by object graph only
    src = _model()
    src.save_weights(str(tmp_path / "w"))
    with pytest.raises(NotImplementedError, match="by_name=True"):
        _model().load_weights(str(tmp_path / "w"), by_name=True)
    dst = _model()
    dst.load_weights(str(tmp_path / "w")).assert_existing_objects_matched()
    np.testing.assert_allclose(dst(X).numpy(), src(X).numpy(), rtol=1e-6)


def test_by_name_h5_skips_mismatched_layers(tmp_path):
    src = _model()
    src.save_weights(str(tmp_path / "old.h5"))
    dst = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="d1"),
                            keras.layers.Dense(7, name="d2")])
    with pytest.raises(ValueError):
        dst.load_weights(str(tmp_path / "old.h5"), by_name=True)
    with pytest.warns(UserWarning):
        dst.load_weights(str(tmp_path / "old.h5"), by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(dst.layers[0].kernel.numpy(),
                                  src.layers[0].kernel.numpy())


def test_weights_only_checkpoint_rejects_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match="x.keras"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "x.keras"),
                                        save_weights_only=True)
    # Keras 2 spellings stay accepted
    keras.callbacks.ModelCheckpoint(str(tmp_path / "x.h5"), save_weights_only=True)
    keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt"), save_weights_only=True)


def test_best_only_weights_file_names(tmp_path):
    keras.utils.set_random_seed(3)
    x = np.random.RandomState(0).randn(128, 4).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    model = _binary_model()
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    template = str(tmp_path / "w-{epoch:02d}-{val_loss:.2f}.weights.h5")
    cb = keras.callbacks.ModelCheckpoint(template, monitor="val_loss",
                                         save_best_only=True, save_weights_only=True)
    hist = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.25,
                     verbose=0, callbacks=[cb]).history["val_loss"]
    best = [i for i in range(5) if hist[i] == min(hist[:i + 1])]
    assert sorted(os.listdir(tmp_path)) == sorted(
        f"w-{i + 1:02d}-{hist[i]:.2f}.weights.h5" for i in best)
    assert cb.best == min(hist)
    last = _binary_model()
    last.load_weights(str(tmp_path / f"w-{best[-1] + 1:02d}-{hist[best[-1]]:.2f}"
                                     ".weights.h5"))
    assert last.get_weights()[0].shape == (4, 8)


def _binary_model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, "relu"),
                             keras.layers.Dense(1, "sigmoid")])


class _Unserializable(keras.layers.Layer):
    def call(self, x):
        return x

    def get_config(self):
        raise RuntimeError("boom in get_config")


@pytest.mark.parametrize("name", ["a.keras", "a.h5", "a.weights.h5"])
def test_failed_save_leaves_old_file_loadable(tmp_path, name):
    # TF 2.21 (Keras 3) truncates a.keras first and leaves an unreadable file;
    # dlframe writes to a temporary file and renames it (atomic)
    path = str(tmp_path / name)
    good = keras.Sequential([keras.Input((3,)),
                             keras.layers.Dense(2, kernel_initializer="ones")])
    if name.endswith(".weights.h5"):
        good.save_weights(path)
        newer = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        newer.layers[-1].kernel.assign(np.full((3, 2), 5.0, "float32"))

        def boom(*args, **kwargs):
            raise OSError("disk full")
        newer.layers[-1].save_own_variables = boom    # fails mid-write
        with pytest.raises(OSError, match="disk full"):
            newer.save_weights(path)
        fresh = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        fresh.load_weights(path)
        loaded = fresh
    else:
        good.save(path)
        with pytest.raises(RuntimeError, match="boom"):
            keras.Sequential([keras.Input((3,)), _Unserializable()]).save(path)
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3), "float32"), verbose=0),
                               [[3.0, 3.0]])
    assert sorted(os.listdir(tmp_path)) == [name]
