"""tf.nn ops: forward vs NumPy, gradients vs finite differences, TF errors."""

import math

import numpy as np
import pytest
from scipy import special

import dlframe as tf
from tests.helpers import check_grad, check_op, check_second_order

RNG = np.random.default_rng(0)


def _x(*shape, scale=2.0):
    x = RNG.standard_normal(shape) * scale
    return np.where(np.abs(x) < 0.05, 0.3, x)  # keep away from kinks


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _log_softmax(x, axis=-1):
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


# ---------------------------------------------------------------- activations
ACTIVATIONS = [
    ("relu", tf.nn.relu, lambda x: np.maximum(x, 0), False),
    ("relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), False),
    ("elu", tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), True),
    ("selu", tf.nn.selu, lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)), True),
    ("gelu", tf.nn.gelu, lambda x: 0.5 * x * (1 + special.erf(x / math.sqrt(2))), True),
    ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))), True),
    ("leaky_relu", tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), False),
    ("leaky_relu_0.1", lambda x: tf.nn.leaky_relu(x, alpha=0.1),
     lambda x: np.where(x > 0, x, 0.1 * x), False),
    ("silu", tf.nn.silu, lambda x: x * special.expit(x), True),
    ("swish_beta", lambda x: tf.nn.swish(x, beta=1.5), lambda x: x * special.expit(1.5 * x),
     True),
    ("sigmoid", tf.nn.sigmoid, special.expit, True),
    ("tanh", tf.nn.tanh, np.tanh, True),
    ("softplus", tf.nn.softplus, lambda x: np.logaddexp(x, 0), True),
    ("softsign", tf.nn.softsign, lambda x: x / (1 + np.abs(x)), True),
]


@pytest.mark.parametrize("name,fn,ref,second", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, fn, ref, second):
    x = _x(3, 4, scale=4.0 if name == "relu6" else 2.0)
    check_op(fn, [x], ref, second_order=second)
    check_op(fn, [x.astype(np.float32)], ref, grad=False, rtol=1e-5, atol=1e-6)


def test_activation_second_order_piecewise():
    x = _x(5)
    check_second_order(tf.nn.relu, [x])  # zero almost everywhere, but defined
    check_second_order(tf.nn.leaky_relu, [x])


def test_relu_int_dtype_and_hot_path():
    out = tf.nn.relu(tf.constant([-1, 2], dtype=tf.int32))
    assert out.dtype == tf.int32 and out.numpy().tolist() == [0, 2]
    x = tf.constant([-1.0, 0.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu(x)
    assert tape.gradient(y, x).numpy().tolist() == [0.0, 0.0, 1.0]
    assert tf.nn.relu(x).dtype == tf.float32


def test_activation_dtype_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Relu.*bool"):
        tf.nn.relu(tf.constant([True]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Elu.*int32"):
        tf.nn.elu(tf.constant([-1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Softmax.*int32"):
        tf.nn.softmax(tf.constant([1, 2]))
    out = tf.nn.leaky_relu(tf.constant([-1, 2]))  # TF casts integers to float32
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [-0.2, 2.0])


def test_relu6_gradient_at_bounds():
    x = tf.constant([-1.0, 3.0, 7.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu6(x)
    assert tape.gradient(y, x).numpy().tolist() == [0.0, 1.0, 0.0]


def test_elu_no_overflow_in_gradient():
    x = tf.constant([1000.0, -1000.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.elu(x)
    g = tape.gradient(y, x).numpy()
    assert np.all(np.isfinite(g)) and g.tolist() == [1.0, 0.0]


# ---------------------------------------------------------------- softmax
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = _x(3, 4, 2)
    check_op(lambda v: tf.nn.softmax(v, axis=axis), [x], lambda v: _softmax(v, axis))
    check_op(lambda v: tf.nn.log_softmax(v, axis=axis), [x], lambda v: _log_softmax(v, axis))


def test_softmax_second_order():
    x = _x(2, 5)
    w = RNG.standard_normal((2, 5))
    check_second_order(lambda v: tf.nn.softmax(v) * tf.constant(w), [x])
    check_second_order(lambda v: tf.nn.log_softmax(v) * tf.constant(w), [x])


def test_softmax_stable_for_large_logits():
    x = tf.constant([[1000.0, 1001.0, -1000.0]])
    np.testing.assert_allclose(tf.nn.softmax(x).numpy(), _softmax(np.array(
        [[1000.0, 1001.0, -1000.0]])), rtol=1e-6)
    assert np.all(np.isfinite(tf.nn.log_softmax(x).numpy()))
    assert tf.nn.softmax(tf.constant([1.0, 2.0], dtype=tf.float16)).dtype == tf.float16


def test_softmax_axis_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[-2, 2\).*dim=3"):
        tf.nn.softmax(tf.constant([[1.0, 2.0]]), axis=3)


# ---------------------------------------------------------------- cross-entropies
def _xent_ref(labels, logits, axis=-1):
    return -(labels * _log_softmax(logits, axis)).sum(axis)


def _xent_composite(labels, logits, axis=-1):
    return -tf.reduce_sum(labels * tf.nn.log_softmax(logits, axis=axis), axis=axis)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_cross_entropy(axis):
    logits = _x(4, 3)
    labels = _softmax(RNG.standard_normal((4, 3)), axis)
    fn = lambda lab, lg: tf.nn.softmax_cross_entropy_with_logits(
        labels=lab, logits=lg, axis=axis)
    check_op(fn, [labels, logits], lambda lab, lg: _xent_ref(lab, lg, axis))
    # the fused primitive agrees with the composite, values and gradients
    lab_t, lg_t = tf.constant(labels), tf.constant(logits)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([lab_t, lg_t])
        fused = fn(lab_t, lg_t)
        comp = _xent_composite(lab_t, lg_t, axis)
    np.testing.assert_allclose(fused.numpy(), comp.numpy(), rtol=1e-12)
    for a, b in zip(tape.gradient(fused, [lab_t, lg_t]), tape.gradient(comp, [lab_t, lg_t])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_cross_entropy_unnormalized_labels_and_second_order():
    logits = _x(2, 4)
    labels = np.abs(RNG.standard_normal((2, 4)))  # not summing to one: exact gradient
    check_grad(lambda lab, lg: tf.nn.softmax_cross_entropy_with_logits(lab, lg),
               [labels, logits])
    lab = tf.constant(labels)

    def first(v):
        return tf.nn.softmax_cross_entropy_with_logits(lab, v)
    check_second_order(first, [logits])


def test_softmax_cross_entropy_stable_and_errors():
    out = tf.nn.softmax_cross_entropy_with_logits(
        labels=[[0.0, 1.0]], logits=tf.constant([[1000.0, -1000.0]]))
    np.testing.assert_allclose(out.numpy(), [2000.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"logits_size=\[2, 3\] "
                       r"labels_size=\[2, 4\]"):
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.zeros([2, 4]), logits=tf.zeros([2, 3]))


def test_sparse_softmax_cross_entropy():
    logits = _x(5, 4)
    labels = np.array([0, 3, 1, 1, 2], dtype=np.int64)

    def fn(lg):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=lg)
    check_op(fn, [logits], lambda lg: -_log_softmax(lg)[np.arange(5), labels])
    check_second_order(lambda lg: fn(lg) * tf.constant(RNG.standard_normal(5)), [logits])
    dense = np.eye(4)[labels]
    np.testing.assert_allclose(
        fn(tf.constant(logits)).numpy(),
        tf.nn.softmax_cross_entropy_with_logits(dense, logits).numpy(), rtol=1e-12)
    # higher rank, int32 labels
    lg3 = _x(2, 3, 4)
    lab3 = RNG.integers(0, 4, (2, 3)).astype(np.int32)
    check_op(lambda v: tf.nn.sparse_softmax_cross_entropy_with_logits(lab3, v), [lg3],
             lambda v: -np.take_along_axis(_log_softmax(v), lab3[..., None], -1)[..., 0])


def test_sparse_softmax_cross_entropy_errors():
    # pinned to the CPU: TF's GPU kernel gives NaN for out-of-range labels instead
    # (tests/ops/test_gpu_fixes_round21_d.py checks both devices)
    with tf.device("/CPU:0"):
        _sparse_softmax_cross_entropy_errors()


def _sparse_softmax_cross_entropy_errors():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Received a label value of 5 which is outside the valid range "
                             r"of \[0, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[5, 0], logits=tf.zeros([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="-1"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[-1, 0], logits=tf.zeros([2, 3]))
    with pytest.raises(ValueError, match=r"labels.shape=\(3,\) and logits.shape=\(2, 3\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 0, 1], logits=tf.zeros([2, 3]))


def _sigmoid_xent_ref(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def test_sigmoid_cross_entropy():
    logits = _x(3, 4)
    labels = RNG.uniform(size=(3, 4))
    check_op(lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
             [labels, logits], _sigmoid_xent_ref)
    check_second_order(lambda x: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.constant(labels), logits=x), [logits])
    # matches the composite -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)) and is stable
    x = tf.constant([-200.0, 0.0, 200.0])
    out = tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.5, 0.0], logits=x).numpy()
    np.testing.assert_allclose(out, [200.0, math.log(2), 200.0], rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.25, 0.0], logits=x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [-1.0, 0.25, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\) vs \(2, 4\)"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([2, 4]), logits=tf.zeros([2, 3]))


def test_weighted_cross_entropy():
    logits = _x(3, 4)
    labels = RNG.uniform(size=(3, 4))

    def ref(z, x):
        lw = 1 + (2.5 - 1) * z
        return (1 - z) * x + lw * np.logaddexp(0, -x)
    check_op(lambda z, x: tf.nn.weighted_cross_entropy_with_logits(z, x, 2.5),
             [labels, logits], ref)
    one = tf.nn.weighted_cross_entropy_with_logits(labels, logits, 1.0).numpy()
    np.testing.assert_allclose(one, _sigmoid_xent_ref(labels, logits), rtol=1e-10)


def test_log_poisson_loss():
    log_input = _x(6, scale=0.5)
    targets = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 7.0])
    check_op(lambda z, x: tf.nn.log_poisson_loss(z, x), [targets, log_input],
             lambda z, x: np.exp(x) - x * z, wrt=[1])

    def full_ref(z, x):
        st = z * np.log(np.where(z > 0, z, 1)) - z + 0.5 * np.log(2 * np.pi * np.where(
            z > 0, z, 1))
        return np.exp(x) - x * z + np.where((z >= 0) & (z <= 1), 0, st)
    check_op(lambda z, x: tf.nn.log_poisson_loss(z, x, compute_full_loss=True),
             [targets, log_input], full_ref, wrt=[1])


def test_l2_loss_and_l2_normalize():
    x = _x(3, 4)
    check_op(tf.nn.l2_loss, [x], lambda v: np.sum(v ** 2) / 2)
    assert tf.nn.l2_loss(tf.constant([1.0, 2.0])).numpy() == 2.5
    for axis in (None, 0, 1, [0, 1]):
        ax = tuple(axis) if isinstance(axis, list) else axis
        check_op(lambda v, axis=axis: tf.nn.l2_normalize(v, axis=axis), [x],
                 lambda v, ax=ax: v / np.sqrt(np.maximum(np.sum(v ** 2, ax, keepdims=True),
                                                         1e-12)))
    z = tf.nn.l2_normalize(tf.zeros([3]), axis=0)
    assert np.all(z.numpy() == 0)


# ---------------------------------------------------------------- normalization
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments(keepdims):
    x = _x(4, 3, 2)
    for axes in ([0], [0, 1], [2]):
        mean, var = tf.nn.moments(tf.constant(x), axes, keepdims=keepdims)
        np.testing.assert_allclose(mean.numpy(), x.mean(tuple(axes), keepdims=keepdims))
        np.testing.assert_allclose(var.numpy(), x.var(tuple(axes), keepdims=keepdims))
        check_grad(lambda v, axes=axes: tf.nn.moments(v, axes, keepdims=keepdims), [x])
    mean, var = tf.nn.moments(tf.constant([[1.0, 2.0], [3.0, 5.0]]), axes=[0])
    assert mean.dtype == tf.float32 and var.numpy().tolist() == [1.0, 2.25]
    half = tf.nn.moments(tf.constant(x, dtype=tf.float16), [0])
    assert half[0].dtype == tf.float16 and half[1].dtype == tf.float16


def test_weighted_moments():
    x = _x(5, 3)
    w = RNG.uniform(size=(5, 1))
    mean, var = tf.nn.weighted_moments(tf.constant(x), [0], tf.constant(w))
    ref_mean = (w * x).sum(0) / w.sum()
    np.testing.assert_allclose(mean.numpy(), ref_mean)
    np.testing.assert_allclose(var.numpy(), (w * (x - ref_mean) ** 2).sum(0) / w.sum())


def test_batch_normalization():
    x = _x(4, 3)
    mean, var = x.mean(0), x.var(0) + 0.5
    offset, scale = RNG.standard_normal(3), RNG.standard_normal(3)

    def ref(v, mu, s2, b, g):
        return g * (v - mu) / np.sqrt(s2 + 1e-3) + b
    check_op(lambda v, mu, s2, b, g: tf.nn.batch_normalization(v, mu, s2, b, g, 1e-3),
             [x, mean, var, offset, scale], ref)
    out = tf.nn.batch_normalization(tf.constant(x), mean, var, None, None, 1e-3)
    np.testing.assert_allclose(out.numpy(), (x - mean) / np.sqrt(var + 1e-3))


def test_bias_add():
    x = _x(2, 3, 4)
    b = RNG.standard_normal(4)
    check_op(lambda v, c: tf.nn.bias_add(v, c), [x, b], lambda v, c: v + c)
    bc = RNG.standard_normal(3)
    check_op(lambda v, c: tf.nn.bias_add(v, c, data_format="NCHW"), [x, bc],
             lambda v, c: v + c[:, None])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"as many biases as the last dimension.*\[3\] vs. \[2, 4\]"):
        tf.nn.bias_add(tf.ones([2, 4]), tf.ones([3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Biases must be 1D: \[1, 4\]"):
        tf.nn.bias_add(tf.ones([2, 4]), tf.ones([1, 4]))


# ---------------------------------------------------------------- dropout
def test_dropout_scales_and_drops():
    x = tf.ones([200, 100])
    y = tf.nn.dropout(x, rate=0.25, seed=3).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    frac = 1 - kept.mean()
    assert abs(frac - 0.25) < 4 * math.sqrt(0.25 * 0.75 / y.size)
    assert y.dtype == np.float32
    assert tf.nn.dropout(tf.ones([3], tf.float16), 0.5).dtype == tf.float16
    assert tf.nn.dropout(x, 0.0) is x


def test_dropout_gradient_uses_mask():
    x = tf.constant(_x(10, 10))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, rate=0.5)
    g = tape.gradient(y, x).numpy()
    mask = (y.numpy() != 0)
    np.testing.assert_allclose(g, mask * 2.0)


def test_dropout_noise_shape_and_seed():
    x = tf.ones([50, 8])
    y = tf.nn.dropout(x, rate=0.5, noise_shape=[1, 8]).numpy()
    assert np.all(y == y[:1])  # one mask row broadcast over the batch
    y2 = tf.nn.dropout(x, rate=0.5, noise_shape=[None, 1]).numpy()
    assert np.all(y2 == y2[:, :1])
    tf.random.set_seed(5)
    a = tf.nn.dropout(x, 0.5, seed=1).numpy()
    tf.random.set_seed(5)
    b = tf.nn.dropout(x, 0.5, seed=1).numpy()
    np.testing.assert_array_equal(a, b)
    tf.random.set_seed(None)


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"range \[0, 1\). Received: rate=1.0"):
        tf.nn.dropout(tf.ones([3]), rate=1.0)
    with pytest.raises(ValueError, match="rate=-0.1"):
        tf.nn.dropout(tf.ones([3]), rate=-0.1)
    with pytest.raises(ValueError, match="floating point.*int32"):
        tf.nn.dropout(tf.ones([3], tf.int32), rate=0.5)
    with pytest.raises(ValueError, match="noise_shape"):
        tf.nn.dropout(tf.ones([3, 2]), rate=0.5, noise_shape=[2, 2])


# ---------------------------------------------------------------- embeddings
def test_embedding_lookup():
    params = _x(6, 3)
    ids = np.array([[0, 5], [2, 2]], dtype=np.int32)
    check_op(lambda p: tf.nn.embedding_lookup(p, ids), [params], lambda p: p[ids])
    # repeated ids accumulate in the gradient
    p = tf.constant(params)
    with tf.GradientTape() as tape:
        tape.watch(p)
        y = tf.reduce_sum(tf.nn.embedding_lookup(p, [1, 1, 4]))
    g = tf.convert_to_tensor(tape.gradient(y, p)).numpy()   # IndexedSlices, as TF
    assert g[1].tolist() == [2.0] * 3 and g[4].tolist() == [1.0] * 3 and g[0].sum() == 0


def test_embedding_lookup_sharded_max_norm_and_errors():
    params = _x(5, 2)
    shards = [params[:3], params[3:]]
    out = tf.nn.embedding_lookup([tf.constant(s) for s in shards], [0, 3, 4])
    np.testing.assert_allclose(out.numpy(), params[[0, 3, 4]])
    clipped = tf.nn.embedding_lookup(tf.constant(params * 10), [0, 1], max_norm=1.0).numpy()
    np.testing.assert_allclose(np.linalg.norm(clipped, axis=-1), [1.0, 1.0], rtol=1e-6)
    check_grad(lambda v: tf.nn.embedding_lookup(v, [0, 2, 2], max_norm=0.5), [params])
    # TF raises on the CPU; a GPU gives zero rows (test_gpu_gather_scatter_round21_i2)
    with tf.device("cpu:0"), pytest.raises(tf.errors.InvalidArgumentError,
                                           match=r"indices\[0,1\] = 5 is not in \[0, 3\)"):
        tf.nn.embedding_lookup(tf.ones([3, 2]), [[0, 5]])


# ---------------------------------------------------------------- loss helpers
def test_compute_average_loss_and_regularization():
    assert tf.nn.compute_average_loss([1.0, 2.0, 3.0]).numpy() == pytest.approx(2.0)
    assert tf.nn.compute_average_loss([[1.0, 2.0, 3.0]]).numpy() == pytest.approx(6.0)
    out = tf.nn.compute_average_loss(tf.constant([1, 2]))
    assert out.dtype == tf.float64 and out.numpy() == 1.5
    weighted = tf.nn.compute_average_loss([1.0, 2.0, 3.0], sample_weight=[1, 2, 0])
    assert weighted.numpy() == pytest.approx(5 / 3)
    assert tf.nn.compute_average_loss([1.0, 3.0], global_batch_size=8).numpy() == 0.5
    with pytest.raises(ValueError, match="at least rank 1.*rank 0"):
        tf.nn.compute_average_loss(2.0)
    assert tf.nn.scale_regularization_loss([1.0, 2.0]).numpy() == 3.0
    check_grad(lambda v: tf.nn.compute_average_loss(v), [np.array([1.0, 2.0, 4.0])])


def test_zero_fraction():
    assert tf.nn.zero_fraction(tf.constant([0.0, 1.0, 0.0, 2.0])).numpy() == 0.5


def test_nn_namespace_exports():
    for name in ("relu", "softmax", "sigmoid", "tanh", "softplus", "softsign", "dropout",
                 "moments", "embedding_lookup", "compute_average_loss"):
        assert callable(getattr(tf.nn, name))
    assert tf.nn.swish is tf.nn.silu


def test_crelu_and_sufficient_statistics():
    x = _x(3, 2)
    check_op(tf.nn.crelu, [x], lambda v: np.concatenate([np.maximum(v, 0),
                                                         np.maximum(-v, 0)], -1))
    count, mean_ss, var_ss, shift = tf.nn.sufficient_statistics(tf.constant(x), [0])
    assert float(count) == 3 and shift is None
    mean, var = tf.nn.normalize_moments(count, mean_ss, var_ss, None)
    np.testing.assert_allclose(mean.numpy(), x.mean(0))
    np.testing.assert_allclose(var.numpy(), x.var(0), atol=1e-12)
    c2, m2, v2, s2 = tf.nn.sufficient_statistics(tf.constant(x), [0], shift=0.5)
    mean2, var2 = tf.nn.normalize_moments(c2, m2, v2, s2)
    np.testing.assert_allclose(mean2.numpy(), x.mean(0))
    np.testing.assert_allclose(var2.numpy(), x.var(0), atol=1e-12)


HALF_OPS = {
    "relu": tf.nn.relu, "relu6": tf.nn.relu6, "elu": tf.nn.elu, "selu": tf.nn.selu,
    "leaky_relu": tf.nn.leaky_relu, "gelu": tf.nn.gelu, "silu": tf.nn.silu,
    "softmax": tf.nn.softmax, "log_softmax": tf.nn.log_softmax, "l2_loss": tf.nn.l2_loss,
    "sparse_xent": lambda q: tf.nn.sparse_softmax_cross_entropy_with_logits([1], q),
    "dropout": lambda q: tf.nn.dropout(q, 0.3),
}


@pytest.mark.parametrize("name", sorted(HALF_OPS))
def test_narrow_float_dtypes_preserved(name):
    fn = HALF_OPS[name]
    x = tf.constant([[1.0, -2.0, 0.5]], dtype=tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    assert y.dtype == tf.float16 and tape.gradient(y, x).dtype == tf.float16
    if tf.bfloat16 is not None:
        assert fn(tf.constant([[1.0, -2.0, 0.5]], dtype=tf.bfloat16)).dtype == tf.bfloat16
