"""Review of round 17's LoRA and load_weights changes: constraints, the frozen
weight's regularizer, Keras 3's weight-file layout of LoRA layers, error types."""

import zipfile

import h5py
import numpy as np
import pytest

from dlframe import keras


def _adapted_dense(units=3, inputs=4, **kwargs):
    layer = keras.layers.Dense(units, **kwargs)
    layer.build((None, inputs))
    layer.enable_lora(2)
    rng = np.random.RandomState(0)
    layer.lora_kernel_b.assign(rng.rand(2, units).astype("float32"))
    return layer


def test_lora_refuses_a_constrained_weight():
    # TF 2.21: "Lora is incompatible with kernel constraints ..." (ValueError)
    dense = keras.layers.Dense(3, kernel_constraint="non_neg")
    dense.build((None, 4))
    with pytest.raises(ValueError, match="kernel_constraint"):
        dense.enable_lora(2)
    assert not dense.lora_enabled and dense.kernel.trainable
    with pytest.raises(ValueError, match="embeddings_constraint"):
        keras.layers.Embedding(5, 2, embeddings_constraint="unit_norm",
                               lora_rank=2).build((None,))


def test_frozen_kernel_regularizer_moves_to_the_factors():
    layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.1))
    layer.build((None, 4))
    layer.kernel.assign(np.ones((4, 3), "float32"))
    assert [round(float(v), 4) for v in layer.losses] == [1.2]
    layer.enable_lora(2)
    layer.lora_kernel_a.assign(np.ones((4, 2), "float32"))
    layer.lora_kernel_b.assign(np.full((2, 3), 2.0, "float32"))
    # TF 2.21 gives [0.8, 2.4]: the frozen kernel's 1.2 no longer counts
    got = sorted(round(float(v), 4) for v in layer.losses)
    assert got == [0.8, 2.4]


def test_lora_weight_file_holds_the_merged_kernel(tmp_path):
    inp = keras.Input((4,))
    dense = keras.layers.Dense(3, name="d", lora_rank=2)
    model = keras.Model(inp, dense(inp))
    dense.lora_kernel_b.assign(np.random.RandomState(1).rand(2, 3).astype("float32"))
    x = np.random.RandomState(2).rand(5, 4).astype("float32")
    want = model.predict(x, verbose=0)
    path = str(tmp_path / "lora.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:   # Keras 3's layout: kernel (merged), bias
        group = f["layers/dense/vars"]
        assert sorted(group) == ["0", "1"]
        merged = dense.kernel.numpy()
        np.testing.assert_allclose(group["0"][()], merged, rtol=1e-6)
    plain_in = keras.Input((4,))
    plain = keras.Model(plain_in, keras.layers.Dense(3, name="d")(plain_in))
    plain.load_weights(path)
    np.testing.assert_allclose(plain.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    again_in = keras.Input((4,))
    again = keras.layers.Dense(3, name="d", lora_rank=2)
    again_model = keras.Model(again_in, again(again_in))
    again.lora_kernel_a.assign(np.ones((4, 2), "float32"))
    again.lora_kernel_b.assign(np.ones((2, 3), "float32"))
    again_model.load_weights(path)
    np.testing.assert_array_equal(again.lora_kernel_b.numpy(), 0.0)
    np.testing.assert_array_equal(again.lora_kernel_a.numpy(), 0.0)
    np.testing.assert_allclose(again_model.predict(x, verbose=0), want, rtol=1e-5,
                               atol=1e-6)


def test_lora_keras_archive_round_trip_keeps_outputs(tmp_path):
    emb = keras.layers.Embedding(6, 3, lora_rank=1, name="e")
    inp = keras.Input((2,), dtype="int32")
    model = keras.Model(inp, emb(inp))
    emb.lora_embeddings_b.assign(np.array([[0.5, -1.0, 2.0]], "float32"))
    ids = np.array([[0, 5], [3, 1]])
    path = str(tmp_path / "e.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("e")
    assert layer.lora_enabled and [v.shape for v in layer.get_weights()] == [
        (6, 3), (6, 1), (1, 3)]
    np.testing.assert_allclose(loaded.predict(ids, verbose=0),
                               model.predict(ids, verbose=0), rtol=1e-6, atol=1e-6)


def test_load_weights_of_another_format_is_a_value_error(tmp_path):
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.txt", "no weights here")
    for path in (archive, tmp_path):   # TF 2.21: ValueError for both
        with pytest.raises(ValueError, match="File format not supported"):
            model.load_weights(str(path))


def test_unadapted_layers_keep_their_weight_files(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2, name="d")(inp))
    path = str(tmp_path / "plain.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert sorted(f["layers/dense/vars"]) == ["0", "1"]
    adapted = _adapted_dense(2, 4)
    assert [v.shape for v in adapted._own_variables()] == [(4, 2), (2,)]
