"""The shared NumPy-style functions (keras.ops / tnp): Keras 3 dtype promotion,
elementwise math and reductions against NumPy, gradients, eager == function."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import ops
from tests.helpers import check_function_matches_eager, check_grad, check_op

RNG = np.random.default_rng(0)


def _t(values, dtype):
    return tf.constant(np.asarray(values).astype(dtype))


# (function, x1 dtype, x2 (dtype name or Python scalar), expected dtype); expected
# values came from TF 2.21 / Keras 3 (`keras.ops` with the TensorFlow backend).
PROMOTION = [
    (ops.add, "int32", 1.5, "float32"),
    (ops.add, "int32", 2, "int32"),
    (ops.add, "int32", "float32", "float32"),
    (ops.add, "int8", "uint8", "int16"),
    (ops.add, "float16", 1.5, "float16"),
    (ops.add, "int64", "float16", "float16"),
    (ops.add, "int32", "int64", "int64"),
    (ops.add, "float32", "float64", "float64"),
    (ops.add, "bool", 1, "int32"),
    (ops.add, "bool", 1.5, "float32"),
    (ops.divide, "int32", "int32", "float32"),
    (ops.divide, "int64", "int64", "float32"),
    (ops.power, "int32", 2, "int32"),
    (ops.power, "int32", 0.5, "float32"),
    (ops.maximum, "int32", 1.5, "float32"),
    (ops.floor_divide, "int32", 1.5, "float32"),
    (ops.matmul, "int8", "float16", "float16"),
]


@pytest.mark.parametrize("fn,d1,x2,expect", PROMOTION)
def test_keras3_binary_promotion(fn, d1, x2, expect):
    a = np.array([[1, 2], [3, 4]]).astype(d1)
    b = np.array([[2, 1], [1, 2]]).astype(x2) if isinstance(x2, str) else x2
    out = fn(tf.constant(a), tf.constant(b) if isinstance(x2, str) else b)
    assert out.dtype.name == expect
    ref = {ops.add: np.add, ops.divide: np.divide, ops.power: np.power,
           ops.maximum: np.maximum, ops.floor_divide: np.floor_divide,
           ops.matmul: np.matmul}[fn](a.astype(np.float64), np.asarray(b, np.float64))
    np.testing.assert_allclose(out.numpy().astype(np.float64), ref, rtol=1e-3)


def test_keras3_unary_and_reduction_dtypes():
    # from TF 2.21 / Keras 3
    i32, i8 = _t([1, 2], "int32"), _t([1, 2], "int8")
    b = tf.constant([True, False])
    f16 = _t([1, 2], "float16")
    assert ops.sqrt(i32).dtype == tf.float32
    assert ops.exp(i8).dtype == tf.float32
    assert ops.floor(i32).dtype == tf.float32
    assert ops.sign(i32).dtype == tf.int32
    assert ops.abs(i8).dtype == tf.int8 and ops.square(i8).dtype == tf.int8
    assert ops.mean(i32).dtype == tf.float32 and ops.mean(f16).dtype == tf.float16
    assert ops.sum(b).dtype == tf.int32 and ops.sum(i8).dtype == tf.int32
    assert ops.prod(i8).dtype == tf.int32 and ops.max(i8).dtype == tf.int8
    assert ops.var(i32).dtype == tf.float32
    assert ops.cumsum(b).dtype == tf.int32 and ops.cumsum(i8).dtype == tf.int8
    assert ops.argmax(_t([1, 3], "float32")).dtype == tf.int32
    assert ops.count_nonzero(i32).dtype == tf.int32
    assert ops.isnan(i32).numpy().tolist() == [False, False]
    assert ops.equal(i32, 1.5).numpy().tolist() == [False, False]
    assert ops.logical_and(i32, i32).dtype == tf.bool
    assert ops.where(b, i32, 1.5).numpy().tolist() == [1.0, 1.5]
    assert ops.add(1, 2).dtype == tf.int32 and ops.add(1, 2.5).dtype == tf.float32
    # NumPy float64 arrays stay float64 (they are not weak)
    assert ops.add(np.array([1.0, 2.0]), 1).dtype == tf.float64


UNARY = [
    ("sqrt", lambda: RNG.random((3, 4)) + 0.1, np.sqrt),
    ("exp", lambda: RNG.standard_normal((3, 4)), np.exp),
    ("log", lambda: RNG.random((3, 4)) + 0.1, np.log),
    ("log1p", lambda: RNG.random((3, 4)), np.log1p),
    ("log2", lambda: RNG.random((3, 4)) + 0.1, np.log2),
    ("log10", lambda: RNG.random((3, 4)) + 0.1, np.log10),
    ("expm1", lambda: RNG.standard_normal((3, 4)), np.expm1),
    ("sin", lambda: RNG.standard_normal((3, 4)), np.sin),
    ("tanh", lambda: RNG.standard_normal((3, 4)), np.tanh),
    ("arctan", lambda: RNG.standard_normal((3, 4)), np.arctan),
    ("arcsinh", lambda: RNG.standard_normal((3, 4)), np.arcsinh),
    ("square", lambda: RNG.standard_normal((3, 4)), np.square),
    ("negative", lambda: RNG.standard_normal((3, 4)), np.negative),
    ("reciprocal", lambda: RNG.random((3, 4)) + 0.5, np.reciprocal),
    ("cbrt", lambda: RNG.standard_normal((3, 4)), np.cbrt),
    ("exp2", lambda: RNG.standard_normal((3, 4)), np.exp2),
    ("sinc", lambda: RNG.standard_normal((3, 4)), np.sinc),
    ("deg2rad", lambda: RNG.standard_normal((3, 4)), np.deg2rad),
]


@pytest.mark.parametrize("name,make,ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary_forward_and_gradient(name, make, ref):
    check_op(getattr(ops, name), [make()], ref, grad_rtol=1e-4, grad_atol=1e-6)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "sign", "abs", "round"])
def test_piecewise_unary(name):
    x = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.7])
    np.testing.assert_array_equal(getattr(ops, name)(x).numpy(), getattr(np, name)(x))


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
          "arctan2", "hypot", "logaddexp", "mod", "floor_divide", "fmod"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting_forward(name):
    a = RNG.random((2, 3, 4)) + 0.5
    b = RNG.random((3, 1)) + 0.5
    np.testing.assert_allclose(getattr(ops, name)(a, b).numpy(), getattr(np, name)(a, b),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["add", "multiply", "divide", "power", "hypot",
                                  "logaddexp", "arctan2", "maximum"])
def test_binary_gradients(name):
    a = RNG.random((2, 3)) + 0.5
    b = RNG.random((1, 3)) + 0.7
    check_grad(getattr(ops, name), [a, b], rtol=1e-4, atol=1e-6)


def test_comparisons_logic_and_tests():
    a, b = np.array([1, 2, 3]), np.array([3, 2, 1])
    for name in ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
                 "logical_and", "logical_or", "logical_xor"]:
        np.testing.assert_array_equal(getattr(ops, name)(a, b).numpy(),
                                      getattr(np, name)(a, b))
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0])
    for name in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"]:
        np.testing.assert_array_equal(getattr(ops, name)(x).numpy(), getattr(np, name)(x))
    np.testing.assert_array_equal(ops.nan_to_num(x).numpy(), np.nan_to_num(x))
    np.testing.assert_array_equal(ops.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)
                                  .numpy(), np.nan_to_num(x, nan=1.0, posinf=2.0,
                                                          neginf=-2.0))
    y = np.array([1.0, 1.0 + 1e-9, 2.0, np.nan])
    np.testing.assert_array_equal(ops.isclose(y, 1.0).numpy(), np.isclose(y, 1.0))
    np.testing.assert_array_equal(ops.isclose(y, y, equal_nan=True).numpy(),
                                  np.isclose(y, y, equal_nan=True))
    assert bool(ops.allclose(y[:3], y[:3] + 1e-9)) and not bool(ops.allclose(y, 0.0))
    np.testing.assert_allclose(ops.logaddexp2(x[:1], 3.0).numpy(), np.logaddexp2(1.0, 3.0))
    np.testing.assert_array_equal(ops.clip(np.arange(6), 1, 4).numpy(),
                                  np.clip(np.arange(6), 1, 4))
    np.testing.assert_allclose(ops.round(np.array([1.234, 5.678]), 2).numpy(),
                               [1.23, 5.68])
    np.testing.assert_array_equal(ops.round(np.array([125, 135]), -1).numpy(), [120, 140])


REDUCTIONS = ["sum", "mean", "max", "min", "std", "var", "prod", "all", "any", "ptp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, True), ((0, 2), False),
                                           (-1, False)])
def test_reductions_match_numpy(name, axis, keepdims):
    x = RNG.standard_normal((2, 3, 4))
    if name in ("all", "any"):
        x = x > 0
    got = getattr(ops, name)(x, axis=axis, keepdims=keepdims).numpy()
    np.testing.assert_allclose(got, getattr(np, name)(x, axis=axis, keepdims=keepdims),
                               rtol=1e-10)


@pytest.mark.parametrize("name", ["sum", "mean", "std", "var", "max", "logsumexp"])
def test_reduction_gradients(name):
    x = RNG.standard_normal((3, 4))
    check_grad(lambda v: getattr(ops, name)(v, axis=1), [x], rtol=1e-4, atol=1e-6)


def test_arg_and_scan_reductions():
    x = RNG.standard_normal((3, 4, 5))
    for axis in (None, 0, 2):
        np.testing.assert_array_equal(ops.argmax(x, axis).numpy(), np.argmax(x, axis))
        np.testing.assert_array_equal(ops.argmin(x, axis, keepdims=True).numpy(),
                                      np.argmin(x, axis, keepdims=True))
        np.testing.assert_allclose(ops.cumsum(x, axis).numpy(), np.cumsum(x, axis))
        np.testing.assert_allclose(ops.cumprod(x, axis).numpy(), np.cumprod(x, axis))
    np.testing.assert_allclose(ops.sort(x, axis=1).numpy(), np.sort(x, axis=1))
    np.testing.assert_array_equal(ops.argsort(x).numpy(), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(ops.count_nonzero(np.array([[0, 1], [2, 0]]), 0)
                                  .numpy(), [1, 1])
    np.testing.assert_allclose(ops.logsumexp(x, axis=(0, 1)).numpy(),
                               np.log(np.exp(x).sum(axis=(0, 1))))
    w = RNG.random(4)
    np.testing.assert_allclose(ops.average(x, axis=1, weights=w).numpy(),
                               np.average(x, axis=1, weights=w))
    np.testing.assert_allclose(ops.max(x, initial=10.0).numpy(), 10.0)
    check_grad(lambda v: ops.cumsum(v, axis=0), [x[:2, :2, 0]])


@pytest.mark.parametrize("axis", [None, 0, (0, 2)])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_median_percentile(axis, method):
    x = RNG.standard_normal((3, 4, 5))
    np.testing.assert_allclose(ops.quantile(x, [0.1, 0.75], axis=axis, method=method)
                               .numpy(), np.quantile(x, [0.1, 0.75], axis=axis,
                                                     method=method), rtol=1e-10)
    np.testing.assert_allclose(ops.median(x, axis=axis, keepdims=True).numpy(),
                               np.median(x, axis=axis, keepdims=True))
    np.testing.assert_allclose(ops.percentile(x, 30, axis=axis).numpy(),
                               np.percentile(x, 30, axis=axis))
    with pytest.raises(ValueError, match="method"):
        ops.quantile(x, 0.5, method="cubic")


def test_nan_reductions():
    x = np.array([[1.0, np.nan], [3.0, 4.0]])
    np.testing.assert_allclose(ops.nansum(x, 0).numpy(), np.nansum(x, 0))
    np.testing.assert_allclose(ops.nanmean(x, 1).numpy(), np.nanmean(x, 1))
    np.testing.assert_allclose(ops.nanprod(x).numpy(), np.nanprod(x))


def test_elementwise_and_reductions_trace_like_eager():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    y = RNG.standard_normal((4,)).astype(np.float32)

    def f(a, b):
        z = ops.add(ops.multiply(ops.tanh(a), b), 1.5)
        return [ops.mean(z, axis=0), ops.logsumexp(z), ops.argmax(z, axis=1),
                ops.clip(z, -0.5, 0.5), ops.where(ops.greater(z, 0), z, 0.0)]
    check_function_matches_eager(f, [x, y])


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="decimals"):
        ops.round(np.ones(2), 1.5)
    with pytest.raises(ValueError, match="axis"):
        ops.swapaxes(np.ones((2, 2)), 0, 5)
