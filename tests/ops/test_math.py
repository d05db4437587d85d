"""Elementwise math ops against NumPy: forward, gradients, second order, dtype rules."""

import numpy as np
import pytest
import scipy.special as sp

import dlframe as tf
from dlframe.errors import DTypeMismatchError, InvalidArgumentError, ShapeMismatchError
from tests.helpers import check_grad, check_op

RNG = np.random.default_rng(1234)


def _uniform(lo, hi, shape=(2, 3)):
    return RNG.uniform(lo, hi, size=shape)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name, op, NumPy reference, input domain
UNARY = [
    ("negative", tf.negative, np.negative, (-2, 2)),
    ("abs", tf.abs, np.abs, (0.1, 2)),
    ("square", tf.square, np.square, (-2, 2)),
    ("sqrt", tf.sqrt, np.sqrt, (0.2, 3)),
    ("rsqrt", tf.math.rsqrt, lambda x: 1 / np.sqrt(x), (0.2, 3)),
    ("exp", tf.exp, np.exp, (-2, 2)),
    ("expm1", tf.math.expm1, np.expm1, (-2, 2)),
    ("log", tf.math.log, np.log, (0.2, 3)),
    ("log1p", tf.math.log1p, np.log1p, (-0.5, 3)),
    ("reciprocal", tf.math.reciprocal, lambda x: 1 / x, (0.5, 3)),
    ("sin", tf.sin, np.sin, (-3, 3)),
    ("cos", tf.cos, np.cos, (-3, 3)),
    ("tan", tf.tan, np.tan, (-1.2, 1.2)),
    ("asin", tf.asin, np.arcsin, (-0.9, 0.9)),
    ("acos", tf.acos, np.arccos, (-0.9, 0.9)),
    ("atan", tf.atan, np.arctan, (-3, 3)),
    ("sinh", tf.sinh, np.sinh, (-2, 2)),
    ("cosh", tf.cosh, np.cosh, (-2, 2)),
    ("tanh", tf.tanh, np.tanh, (-2, 2)),
    ("asinh", tf.asinh, np.arcsinh, (-2, 2)),
    ("acosh", tf.acosh, np.arccosh, (1.2, 3)),
    ("atanh", tf.atanh, np.arctanh, (-0.9, 0.9)),
    ("sigmoid", tf.sigmoid, _sigmoid, (-4, 4)),
    ("log_sigmoid", tf.math.log_sigmoid, lambda x: -np.logaddexp(0, -x), (-4, 4)),
    ("softplus", tf.math.softplus, lambda x: np.logaddexp(0, x), (-4, 4)),
    ("softsign", tf.math.softsign, lambda x: x / (1 + np.abs(x)), (0.1, 4)),
    ("erf", tf.math.erf, sp.erf, (-2, 2)),
    ("erfc", tf.math.erfc, sp.erfc, (-2, 2)),
    ("erfinv", tf.math.erfinv, sp.erfinv, (-0.8, 0.8)),
    ("ndtri", tf.math.ndtri, sp.ndtri, (0.1, 0.9)),
    ("lgamma", tf.math.lgamma, sp.gammaln, (0.5, 4)),
    ("digamma", tf.math.digamma, sp.digamma, (0.5, 4)),
]


@pytest.mark.parametrize("name,fn,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_float64_grad_and_second_order(name, fn, ref, domain):
    x = _uniform(*domain)
    linear = name == "negative"  # its second derivative is unconnected (None)
    check_op(fn, [x], ref, second_order=not linear, rtol=1e-7, grad_rtol=1e-5, grad_atol=1e-6)


@pytest.mark.parametrize("name,fn,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_float32_keeps_dtype(name, fn, ref, domain):
    x = _uniform(*domain, shape=(4,)).astype(np.float32)
    out = fn(tf.constant(x))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(x.astype(np.float64)), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,fn,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_empty_and_scalar(name, fn, ref, domain):
    empty = fn(tf.zeros([0, 3]))
    assert tuple(empty.shape) == (0, 3) and empty.dtype == tf.float32
    x = float(np.mean(domain))
    out = fn(tf.constant(x, tf.float64))
    assert tuple(out.shape) == ()
    np.testing.assert_allclose(out.numpy(), ref(np.float64(x)), rtol=1e-7)


FLOAT_ONLY = [tf.sqrt, tf.math.rsqrt, tf.exp, tf.math.log, tf.math.log1p, tf.math.expm1,
              tf.sin, tf.cos, tf.tan, tf.tanh, tf.sigmoid, tf.math.softplus,
              tf.math.softsign, tf.math.erf, tf.math.lgamma, tf.math.reciprocal,
              tf.floor, tf.math.ceil, tf.math.is_nan, tf.math.is_inf, tf.math.is_finite,
              tf.math.log_sigmoid, tf.asin, tf.atanh]


@pytest.mark.parametrize("fn", FLOAT_ONLY, ids=lambda f: f.__name__)
def test_int_input_to_float_only_op_raises(fn):
    with pytest.raises(InvalidArgumentError, match="int32"):
        fn(tf.constant([1, 2]))


def test_signed_and_bool_rules():
    np.testing.assert_array_equal(tf.abs(tf.constant([-3, 2])).numpy(), [3, 2])
    np.testing.assert_array_equal(tf.sign(tf.constant([-3, 0, 2])).numpy(), [-1, 0, 1])
    np.testing.assert_array_equal(tf.negative(tf.constant([-3, 2])).numpy(), [3, -2])
    np.testing.assert_array_equal(tf.square(tf.constant([20, 2], tf.uint8)).numpy(),
                                  [144, 4])  # wraps like TF
    for fn in (tf.abs, tf.negative, tf.square):
        with pytest.raises(InvalidArgumentError, match="bool"):
            fn(tf.constant([True]))
    with pytest.raises(InvalidArgumentError, match="uint8"):
        tf.sign(tf.constant([2], tf.uint8))
    # (tf.multiply has a bool kernel in TF 2.21: logical and)
    for fn in (tf.add, tf.subtract, tf.maximum, tf.minimum, tf.pow):
        with pytest.raises(InvalidArgumentError, match="bool"):
            fn(tf.constant(True), tf.constant(False))
    with pytest.raises(InvalidArgumentError, match="complex"):
        tf.maximum(tf.constant(1j), tf.constant(2j))


def test_abs_of_complex_is_real_magnitude():
    out = tf.abs(tf.constant([3 + 4j], tf.complex64))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [5.0])


# ---------------------------------------------------------------- binary
def _pos(shape):
    return RNG.uniform(0.5, 2.0, size=shape)


BINARY = [
    ("add", tf.add, np.add),
    ("subtract", tf.subtract, np.subtract),
    ("multiply", tf.multiply, np.multiply),
    ("divide", tf.divide, np.divide),
    ("realdiv", tf.realdiv, np.divide),
    ("pow", tf.pow, np.power),
    ("maximum", tf.maximum, np.maximum),
    ("minimum", tf.minimum, np.minimum),
    ("squared_difference", tf.math.squared_difference, lambda x, y: (x - y) ** 2),
    ("atan2", tf.atan2, np.arctan2),
    ("divide_no_nan", tf.math.divide_no_nan, np.divide),
    ("xlogy", tf.math.xlogy, lambda x, y: x * np.log(y)),
    ("xdivy", tf.math.xdivy, np.divide),
    ("xlog1py", tf.math.xlog1py, lambda x, y: x * np.log1p(y)),
    ("multiply_no_nan", tf.math.multiply_no_nan, np.multiply),
]
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 2)), ((3,), ())]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting_and_grad(name, fn, ref, shapes):
    x, y = _pos(shapes[0]), _pos(shapes[1])
    if name in ("maximum", "minimum"):
        y = y + 0.01  # keep the kink away from ties
    check_op(fn, [x, y], ref, rtol=1e-7)


@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_float32_and_empty(name, fn, ref):
    x, y = _pos((3,)).astype(np.float32), _pos((3,)).astype(np.float32)
    out = fn(tf.constant(x), tf.constant(y))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), ref(x.astype(np.float64), y), rtol=1e-5)
    empty = fn(tf.zeros([0, 2]), tf.ones([2]))
    assert tuple(empty.shape) == (0, 2)


def test_binary_shape_and_dtype_errors():
    with pytest.raises(ShapeMismatchError, match=r"\[2, 3\] vs. \[4\]"):
        tf.maximum(tf.ones([2, 3]), tf.ones([4]))
    with pytest.raises(InvalidArgumentError, match="Incompatible shapes"):
        tf.subtract(tf.ones([2, 3]), tf.ones([2]))
    with pytest.raises(DTypeMismatchError, match="float64"):
        tf.multiply(tf.ones([2]), tf.ones([2], tf.float64))


def test_pow_negative_base_exponent_grad_and_int_rules():
    x = np.array([-1.5, 2.0, 0.5])
    y = np.array([2.0, -1.0, 3.0])
    check_op(tf.pow, [x, y], np.power, wrt=[0])
    np.testing.assert_array_equal(tf.pow(tf.constant([2, 3]), 2).numpy(), [4, 9])
    with pytest.raises(InvalidArgumentError, match="negative integer powers"):
        tf.pow(tf.constant(2), tf.constant(-1))


def test_divide_int_promotion():
    out = tf.divide(tf.constant([7, -7]), tf.constant([2, 2]))
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), [3.5, -3.5])
    assert tf.divide(tf.constant([1], tf.int16), tf.constant([2], tf.int16)).dtype == \
        tf.float32
    assert tf.math.divide_no_nan(tf.constant([1.0]), tf.constant([0.0])).numpy()[0] == 0


def test_floor_and_truncate_division_and_mod():
    x = tf.constant([-7, 7, -7, 7])
    y = tf.constant([2, -2, -2, 2])
    np.testing.assert_array_equal(tf.math.floordiv(x, y).numpy(), [-4, -4, 3, 3])
    np.testing.assert_array_equal(tf.truncatediv(x, y).numpy(), [-3, -3, 3, 3])
    np.testing.assert_array_equal(tf.math.floormod(x, y).numpy(), [1, -1, -1, 1])
    np.testing.assert_array_equal(tf.truncatemod(x, y).numpy(), [-1, 1, -1, 1])
    xf, yf = np.array([-7.5, 7.5, 3.0]), np.array([2.0, -2.0, 0.7])
    np.testing.assert_allclose(tf.truncatediv(tf.constant(xf), tf.constant(yf)).numpy(),
                               np.trunc(xf / yf))
    check_op(tf.truncatemod, [xf, yf], np.fmod)
    check_op(tf.math.floormod, [xf, yf], np.mod)
    for fn in (tf.math.floordiv, tf.truncatediv, tf.math.floormod, tf.truncatemod):
        with pytest.raises(InvalidArgumentError, match="division by zero"):
            fn(tf.constant([1]), tf.constant([0]))


def test_maximum_minimum_tie_gradient_goes_to_x():
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.constant([1.0, 1.0, 4.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        hi = tf.maximum(x, y)
        lo = tf.minimum(x, y)
    np.testing.assert_array_equal(tape.gradient(hi, x).numpy(), [1, 1, 0])
    np.testing.assert_array_equal(tape.gradient(hi, y).numpy(), [0, 0, 1])
    np.testing.assert_array_equal(tape.gradient(lo, x).numpy(), [1, 0, 1])


# ---------------------------------------------------------------- clipping
def test_clip_by_value_float_grad_only_inside_range():
    x = tf.constant([-2.0, 0.5, 1.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.clip_by_value(x, -1.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), [-1, 0.5, 1, 1])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 0])
    x = RNG.uniform(-2, 2, size=(3, 4))
    check_op(lambda v: tf.clip_by_value(v, -0.7, 0.9), [x],
             lambda v: np.clip(v, -0.7, 0.9))


def test_clip_by_value_int_tensor_bounds_and_errors():
    out = tf.clip_by_value(tf.constant([1, 5, 9]), 2, 7)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), [2, 5, 7])
    out = tf.clip_by_value(tf.constant([1.0, 5.0, 9.0]), 2, 7)
    np.testing.assert_array_equal(out.numpy(), [2.0, 5.0, 7.0])
    lo = np.array([[0.0, 1.0, 2.0]])
    check_op(lambda v, b: tf.clip_by_value(v, b, 2.5), [RNG.uniform(-1, 3, (2, 3)), lo],
             lambda v, b: np.clip(v, b, 2.5))
    with pytest.raises(ValueError, match="incompatible"):
        tf.clip_by_value(tf.ones([3]), tf.zeros([2, 3]), 1.0)
    with pytest.raises(InvalidArgumentError, match="Incompatible shapes"):
        tf.clip_by_value(tf.ones([3]), tf.zeros([2]), 1.0)


def test_clip_by_norm_and_global_norm():
    x = RNG.standard_normal((3, 4))

    def ref(v, axes=None):
        n = np.sqrt(np.sum(v * v, axis=axes, keepdims=True))
        return v * 1.5 / np.maximum(n, 1.5)
    check_op(lambda v: tf.clip_by_norm(v, 1.5), [x], ref)
    check_op(lambda v: tf.clip_by_norm(v, 1.5, axes=[1]), [x], lambda v: ref(v, 1))
    zero = tf.clip_by_norm(tf.zeros([3]), 1.0)
    np.testing.assert_array_equal(zero.numpy(), [0, 0, 0])
    a, b = RNG.standard_normal((2, 2)), RNG.standard_normal(3)
    gn = np.sqrt(np.sum(a * a) + np.sum(b * b))
    clipped, norm = tf.clip_by_global_norm([tf.constant(a), None, tf.constant(b)], 1.0)
    np.testing.assert_allclose(norm.numpy(), gn)
    assert clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), a / max(gn, 1.0))
    np.testing.assert_allclose(tf.linalg.global_norm([tf.constant(a), tf.constant(b)]).numpy(),
                               gn)


# ---------------------------------------------------------------- rounding, predicates
def test_round_floor_ceil():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.7, 2.2])
    np.testing.assert_array_equal(tf.round(tf.constant(x)).numpy(), np.rint(x))
    np.testing.assert_array_equal(tf.floor(tf.constant(x)).numpy(), np.floor(x))
    np.testing.assert_array_equal(tf.math.ceil(tf.constant(x)).numpy(), np.ceil(x))
    assert tf.round(tf.constant(3)).numpy() == 3
    check_grad(tf.round, [np.array([0.3, 1.2])])  # zero gradient


def test_is_nan_inf_finite():
    x = tf.constant([1.0, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(tf.math.is_nan(x).numpy(), [0, 1, 0, 0])
    np.testing.assert_array_equal(tf.math.is_inf(x).numpy(), [0, 0, 1, 1])
    np.testing.assert_array_equal(tf.math.is_finite(x).numpy(), [1, 0, 0, 0])
    assert tf.math.is_nan(x).dtype == tf.bool


def test_stable_activations_at_extremes():
    x = tf.constant([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    np.testing.assert_allclose(tf.sigmoid(x).numpy(), [0, _sigmoid(-50.0), 0.5, 1, 1])
    np.testing.assert_allclose(tf.math.softplus(x).numpy(),
                               [0, np.log1p(np.exp(-50.0)), np.log(2), 50, 1000])
    np.testing.assert_allclose(tf.math.log_sigmoid(x).numpy(), [-1000, -50, -np.log(2), 0, 0],
                               atol=1e-6)


# ---------------------------------------------------------------- comparisons, logic
def test_comparisons_broadcast():
    x = RNG.integers(0, 3, (2, 3))
    y = RNG.integers(0, 3, (3,))
    for fn, ref in [(tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
                    (tf.less_equal, np.less_equal), (tf.greater, np.greater),
                    (tf.greater_equal, np.greater_equal)]:
        out = fn(tf.constant(x), tf.constant(y))
        assert out.dtype == tf.bool
        np.testing.assert_array_equal(out.numpy(), ref(x, y))
    assert tf.equal(tf.constant([True]), True).numpy()[0]
    with pytest.raises(InvalidArgumentError):
        tf.less(tf.constant([True]), tf.constant([False]))


def test_logical_ops():
    a = np.array([[True, False, True, False]])
    b = np.array([[True], [False]])
    for fn, ref in [(tf.logical_and, np.logical_and), (tf.logical_or, np.logical_or),
                    (tf.math.logical_xor, np.logical_xor)]:
        np.testing.assert_array_equal(fn(tf.constant(a), tf.constant(b)).numpy(), ref(a, b))
    np.testing.assert_array_equal(tf.logical_not(tf.constant(a)).numpy(), ~a)
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.logical_and(tf.constant(1), tf.constant(0))
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.logical_not(tf.constant(1))


# ---------------------------------------------------------------- complex parts
def test_conj_real_imag_complex_angle():
    z = np.array([1 + 2j, -3 - 0.5j], dtype=np.complex64)
    zt = tf.constant(z)
    np.testing.assert_allclose(tf.math.conj(zt).numpy(), np.conj(z))
    assert tf.math.real(zt).dtype == tf.float32
    np.testing.assert_allclose(tf.math.real(zt).numpy(), z.real)
    np.testing.assert_allclose(tf.math.imag(zt).numpy(), z.imag)
    np.testing.assert_allclose(tf.math.angle(zt).numpy(), np.angle(z), rtol=1e-6)
    built = tf.complex(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))
    assert built.dtype == tf.complex64
    np.testing.assert_allclose(built.numpy(), [1 + 3j, 2 + 4j])
    assert tf.complex(tf.constant(1.0, tf.float64), 2.0).dtype == tf.complex128
    with pytest.raises(TypeError, match="incorrect types"):
        tf.complex(tf.constant(1), tf.constant(2))
    x = tf.constant([3.0, -1.0])
    assert tf.math.conj(x) is x and tf.math.real(x) is x
    np.testing.assert_array_equal(tf.math.imag(x).numpy(), [0, 0])
    np.testing.assert_allclose(tf.math.angle(x).numpy(), [0, np.pi])


def test_complex_part_gradients():
    # f = real(c)**2 + 3 * imag(c) with c = complex(a, b): df/da = 2a, df/db = 3
    a, b = tf.constant([1.5, -2.0], tf.float64), tf.constant([0.5, 4.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        c = tf.complex(a, b)
        f = tf.reduce_sum(tf.square(tf.math.real(c)) + 3.0 * tf.math.imag(tf.math.conj(c)))
    ga, gb = tape.gradient(f, [a, b])
    np.testing.assert_allclose(ga.numpy(), [3.0, -4.0])
    np.testing.assert_allclose(gb.numpy(), [-3.0, -3.0])


# ---------------------------------------------------------------- composites
def test_polyval_polygamma_monotonic():
    x = RNG.uniform(-2, 2, (3,))
    check_op(lambda v: tf.math.polyval([1.0, -2.0, 3.0], v), [x],
             lambda v: np.polyval([1.0, -2.0, 3.0], v))
    v = RNG.uniform(0.5, 3, (4,))
    check_op(lambda u: tf.math.polygamma(1, u), [v], lambda u: sp.polygamma(1, u),
             grad_rtol=1e-4)
    assert tf.math.is_non_decreasing(tf.constant([1, 2, 2])).numpy()
    assert not tf.math.is_strictly_increasing(tf.constant([1, 2, 2])).numpy()
    assert tf.math.is_strictly_increasing(tf.constant([[1], [3]])).numpy()
    np.testing.assert_allclose(tf.math.accumulate_n([tf.ones([2]), tf.ones([2])]).numpy(),
                               [2, 2])
    np.testing.assert_allclose(tf.math.reciprocal_no_nan(tf.constant([0.0, 4.0])).numpy(),
                               [0, 0.25])


def test_special_extras():
    np.testing.assert_allclose(tf.math.erfcinv(tf.constant([0.5, 1.3], tf.float64)).numpy(),
                               sp.erfcinv([0.5, 1.3]))
    x = RNG.uniform(0.5, 3.0, (2, 3))
    check_op(tf.math.lbeta, [x],
             lambda v: np.sum(sp.gammaln(v), -1) - sp.gammaln(np.sum(v, -1)))
    out = tf.math.nextafter(tf.constant([1.0]), tf.constant([2.0]))
    np.testing.assert_array_equal(out.numpy(), np.nextafter(np.float32(1), np.float32(2)))
    np.testing.assert_array_equal(tf.math.invert_permutation([3, 4, 0, 2, 1]).numpy(),
                                  [2, 4, 3, 0, 1])
    with pytest.raises(InvalidArgumentError, match="permutation"):
        tf.math.invert_permutation([0, 0, 1])


def test_cast_saturate_cast_where():
    np.testing.assert_array_equal(tf.cast(tf.constant([-1.7, 2.9]), tf.int32).numpy(),
                                  [-1, 2])
    np.testing.assert_array_equal(
        tf.saturate_cast(tf.constant([-300.0, 300.0]), tf.uint8).numpy(), [0, 255])
    check_op(lambda a, b: tf.where(tf.constant([[True, False, True]]), a, b),
             [RNG.standard_normal((2, 3)), RNG.standard_normal((3,))],
             lambda a, b: np.where([[True, False, True]], a, b))


# ---------------------------------------------------------------- name tables
def test_names_match_tensorflow():
    top = ["abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "asin", "asinh",
           "atan", "atan2", "atanh", "cast", "clip_by_global_norm", "clip_by_norm",
           "clip_by_value", "complex", "cos", "cosh", "cumsum", "divide", "einsum", "equal",
           "exp", "floor", "greater", "greater_equal", "less", "less_equal", "logical_and",
           "logical_not", "logical_or", "matmul", "maximum", "minimum", "multiply",
           "negative", "norm", "not_equal", "ones_like", "pow", "realdiv", "reduce_all",
           "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min",
           "reduce_prod", "reduce_sum", "round", "saturate_cast", "scalar_mul", "sigmoid",
           "sign", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh", "tensordot",
           "truediv", "truncatediv", "truncatemod", "where", "zeros_like"]
    for n in top:
        assert callable(getattr(tf, n)), n
    math = ["abs", "accumulate_n", "angle", "approx_max_k", "approx_min_k", "argmax",
            "argmin", "bincount", "ceil", "confusion_matrix", "conj", "erfcinv",
            "invert_permutation", "lbeta", "nextafter",
            "count_nonzero", "cumprod", "cumsum", "cumulative_logsumexp", "digamma",
            "divide_no_nan", "erf", "erfc", "erfinv", "expm1", "floordiv", "floormod",
            "imag", "in_top_k", "is_finite", "is_inf", "is_nan", "lgamma", "log", "log1p",
            "log_sigmoid", "logical_xor", "mod", "multiply_no_nan", "ndtri", "polygamma",
            "polyval", "real", "reciprocal", "reciprocal_no_nan", "reduce_all",
            "reduce_any", "reduce_euclidean_norm", "reduce_logsumexp", "reduce_std",
            "reduce_variance", "rint", "rsqrt", "softplus", "softsign",
            "squared_difference", "top_k", "xdivy", "xlog1py", "xlogy"]
    for n in math:
        assert callable(getattr(tf.math, n)), n
    # aliases are the same objects, never second implementations
    assert tf.math.add is tf.add and tf.math.argmax is tf.argmax
    assert tf.math.cumsum is tf.cumsum and tf.math.reduce_sum is tf.reduce_sum
    assert tf.math.divide is tf.divide and tf.math.mod is tf.math.floormod
    # TF 2 has no top-level log/ceil/rsqrt
    for n in ("log", "ceil", "rsqrt", "erf", "reduce_std", "top_k"):
        assert not hasattr(tf, n), n
