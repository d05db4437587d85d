"""Round 19 Keras gaps: TextVectorization's frozen bag-of-words width, EinsumDense's
Keras 2 / Keras 3 positional orders and ``model.metrics_names`` after compile and
fit. Expected values marked "TF 2.21" were printed by TensorFlow 2.21 (Keras 3)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


# ------------------------------------------- TextVectorization frozen vocabulary
def _idf(n):
    return {"idf_weights": [1.0 + i for i in range(n)]}


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
def test_text_vectorization_vocabulary_size_frozen_after_call(mode):
    extra = _idf if mode == "tf_idf" else (lambda n: {})
    layer = keras.layers.TextVectorization(output_mode=mode)
    layer.set_vocabulary(["a", "b", "c"], **extra(3))
    out = layer(tf.constant(["a b", "c d"]))
    assert out.shape == (2, 4)
    msg = (f"When using `output_mode={mode}` and `pad_to_max_tokens=False`, the "
           "vocabulary size cannot be changed after the layer is called. Old vocab "
           "size is 4, new vocab size is 5")   # TF 2.21
    with pytest.raises(RuntimeError, match=msg.replace("`", ".")):
        layer.set_vocabulary(["a", "b", "c", "d"], **extra(4))
    assert layer.vocabulary_size() == 4   # unchanged
    layer.set_vocabulary(["x", "y", "z"], **extra(3))   # the same size is fine
    got = layer(tf.constant(["x y"])).numpy()
    expected = {"multi_hot": [[0, 1, 1, 0]], "count": [[0, 1, 1, 0]],
                "tf_idf": [[0.0, 1.0, 2.0, 0.0]]}[mode]   # TF 2.21
    np.testing.assert_allclose(got, expected)


def test_text_vectorization_adapt_after_call_refuses_new_size():
    layer = keras.layers.TextVectorization(output_mode="multi_hot")
    layer.adapt(["a b", "c"])
    assert layer(tf.constant(["a"])).shape == (1, 4)
    with pytest.raises(RuntimeError, match="Old vocab size is 4, new vocab size is 7"):
        layer.adapt(["a b c d e f"])


def test_text_vectorization_int_and_padded_modes_stay_free():
    layer = keras.layers.TextVectorization(output_mode="int")
    layer.set_vocabulary(["a", "b"])
    layer(tf.constant(["a b"]))
    layer.set_vocabulary(["a", "b", "c", "d"])   # 'int' output has no width
    np.testing.assert_array_equal(layer(tf.constant(["d a"])).numpy(), [[5, 2]])
    padded = keras.layers.TextVectorization(output_mode="multi_hot", max_tokens=10,
                                            pad_to_max_tokens=True)
    padded.adapt(["a b", "c"])
    assert padded(tf.constant(["a"])).shape == (1, 10)
    padded.adapt(["a b c d e f"])
    out = padded(tf.constant(["f"])).numpy()
    assert out.shape == (1, 10) and out.sum() == 1


# ------------------------------------------------- EinsumDense positional orders
def test_einsum_dense_keras3_positional_constraints():
    # Keras 3: (..., kernel_regularizer, bias_regularizer, kernel_constraint,
    # bias_constraint, lora_rank, lora_alpha)
    layer = keras.layers.EinsumDense(
        "ab,bc->ac", 4, "relu", "c", "ones", "zeros", "l2", None,
        keras.constraints.NonNeg(), keras.constraints.MaxNorm(2.0))
    assert isinstance(layer.kernel_constraint, keras.constraints.NonNeg)
    assert isinstance(layer.bias_constraint, keras.constraints.MaxNorm)
    assert layer.activity_regularizer is None
    named = keras.layers.EinsumDense("ab,bc->ac", 4, None, None, "ones", "zeros",
                                     None, None, "non_neg")
    assert isinstance(named.kernel_constraint, keras.constraints.NonNeg)
    assert named.bias_constraint is None and named.activity_regularizer is None
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(named(x).numpy(), np.full((2, 4), 3.0))


def test_einsum_dense_keras3_positional_lora():
    layer = keras.layers.EinsumDense("ab,bc->ac", 4, "relu", "c", "ones", "zeros",
                                     "l2", None, None, None, 2, 4)
    layer.build((None, 3))
    assert (layer.lora_rank, layer.lora_alpha, layer.lora_enabled) == (2, 4, True)
    assert layer.kernel_constraint is None and layer.bias_constraint is None


def test_einsum_dense_keras2_positional_order_kept():
    # Keras 2: (..., bias_regularizer, activity_regularizer, kernel_constraint,
    # bias_constraint)
    layer = keras.layers.EinsumDense(
        "ab,bc->ac", 4, None, "c", "ones", "zeros", None, None, "l2",
        keras.constraints.NonNeg(), keras.constraints.MaxNorm(2.0))
    assert isinstance(layer.activity_regularizer, keras.regularizers.L2)
    assert isinstance(layer.kernel_constraint, keras.constraints.NonNeg)
    assert isinstance(layer.bias_constraint, keras.constraints.MaxNorm)
    assert layer.lora_rank is None
    config = layer.get_config()
    clone = keras.layers.EinsumDense.from_config(config)
    assert isinstance(clone.activity_regularizer, keras.regularizers.L2)
    assert isinstance(clone.bias_constraint, keras.constraints.MaxNorm)


# ------------------------------------------------------ metrics names after fit
def _data():
    x = np.random.RandomState(0).rand(32, 3).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_metrics_names_keras3_before_fit_keras2_after():
    """Decision: before the metrics are built the names are Keras 3's (TF 2.21:
    ['loss', 'compile_metrics']); once built they are Keras 2's flat names, which
    line up one to one with ``evaluate()``'s list (Keras 3 keeps
    'compile_metrics', which a ``dict(zip(metrics_names, scores))`` mislabels).
    History keys are the same in both."""
    x, y = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert model.metrics_names == [] and model.metrics == []
    model.compile("adam", "mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "compile_metrics"]   # TF 2.21
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert model.metrics_names == ["loss", "mae"]
    scores = model.evaluate(x, y, verbose=0)
    named = dict(zip(model.metrics_names, scores))
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert named == pytest.approx(as_dict)
    pred = model.predict(x, verbose=0)
    assert named["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)


def test_metrics_names_multi_output_align_with_evaluate():
    x, y = _data()
    inputs = keras.Input((3,))
    a = keras.layers.Dense(1, name="a", kernel_initializer="ones")(inputs)
    b = keras.layers.Dense(1, name="b", kernel_initializer="zeros")(inputs)
    model = keras.Model(inputs, [a, b])
    model.compile("adam", ["mse", "mae"], metrics=[["mae"], ["mse"]])
    scores = model.evaluate(x, [y, 2 * y], verbose=0)
    # TF 2.21 prints the same list: [loss, a_loss, b_loss, a_mae, b_mse]
    b_mae = float(np.mean(np.abs(2 * y)))
    np.testing.assert_allclose(scores, [b_mae, 0.0, b_mae, 0.0,
                                        float(np.mean((2 * y) ** 2))], rtol=1e-5)
    assert model.metrics_names == ["loss", "a_loss", "b_loss", "a_mae", "b_mse"]
    assert len(model.metrics_names) == len(scores)
