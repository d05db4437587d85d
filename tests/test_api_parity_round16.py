"""Round-16 API parity: trace-type relations, DeviceSpec, tf.types, legacy dataset
outputs, RaggedTensor.uniform_row_length and SparseTensor.set_shape/op.

Expected values were checked against TensorFlow 2.21."""

import numpy as np
import pytest

import dlframe as tf

S = tf.TensorShape


@pytest.mark.parametrize("a, b, want", [
    ([1, 2], [None, 2], True), ([None, 2], [1, 2], False), ([1, 2], None, True),
    (None, [1], False), ([1], [1, 2], False), ([3], [3], True)])
def test_tensorshape_is_subtype_of(a, b, want):
    assert S(a).is_subtype_of(S(b)) is want


def test_tensorshape_is_subtype_of_non_shape_is_false():
    assert S([1]).is_subtype_of(tf.float32) is False


def test_tensorshape_most_specific_common_supertype():
    assert S([1, 2]).most_specific_common_supertype([S([1, 3]), S([1, 2])]) == S([1, None])
    assert S([1, 2]).most_specific_common_supertype([S([1])]).rank is None
    assert S([1, 2]).most_specific_common_supertype([]) == S([1, 2])
    assert S(None).most_specific_common_supertype([S([1])]).rank is None
    assert S([1, 2]).most_specific_common_supertype([tf.float32]) is None


def test_dtype_is_numeric_and_trace_relations():
    numeric = [tf.float32, tf.int32, tf.complex64, tf.bfloat16, tf.uint8, tf.float16,
               tf.int64, tf.qint8]
    for dt in numeric:
        assert dt.is_numeric, dt
    for dt in (tf.bool, tf.string):
        assert not dt.is_numeric, dt
    assert tf.float32.is_subtype_of(tf.float32)
    assert not tf.int32.is_subtype_of(tf.float32)
    assert tf.int32.most_specific_common_supertype([tf.int32]) is tf.int32
    assert tf.int32.most_specific_common_supertype([tf.float32]) is None


@pytest.mark.parametrize("n1, n2, sub, common", [
    (None, None, True, True), (None, "a", True, False), ("a", None, False, False),
    ("a", "a", True, True), ("a", "b", False, False)])
def test_tensorspec_name_rules(n1, n2, sub, common):
    # TF 2.21: an unnamed spec is a subtype of a named one, a common supertype
    # needs equal names
    a, b = tf.TensorSpec([2], name=n1), tf.TensorSpec([None], name=n2)
    assert a.is_subtype_of(b) is sub
    got = a.most_specific_common_supertype([tf.TensorSpec([3], name=n2)])
    if common:
        assert got == tf.TensorSpec([None], tf.float32, n1)
    else:
        assert got is None


def test_tensorspec_subtype_dtype_and_shape():
    a = tf.TensorSpec([None, 3], tf.float32)
    assert tf.TensorSpec([2, 3]).is_subtype_of(a)
    assert not a.is_subtype_of(tf.TensorSpec([2, 3]))
    assert not tf.TensorSpec([2, 3], tf.int32).is_subtype_of(a)
    assert tf.TensorSpec([2, 3]).most_specific_common_supertype(
        [tf.TensorSpec([2, 3], tf.int32)]) is None


def test_tensorspec_is_compatible_with_values():
    a = tf.TensorSpec([None, 3], tf.float32)
    assert a.is_compatible_with(tf.TensorSpec([2, 3]))
    assert not a.is_compatible_with(tf.TensorSpec([2, 3], tf.int32))
    assert a.is_compatible_with(tf.constant([[1.0, 2.0, 3.0]]))
    assert not a.is_compatible_with(tf.constant([1.0, 2.0, 3.0]))
    assert not a.is_compatible_with(5)
    assert not a.is_compatible_with([[1.0, 2.0, 3.0]])   # TF: False, no TypeError


def test_trace_types_registered():
    E = tf.types.experimental
    assert isinstance(S([1]), E.TraceType)
    assert isinstance(tf.float32, E.TraceType)
    assert isinstance(tf.TensorSpec([1]), E.TraceType)


def test_types_experimental_function_classes():
    E = tf.types.experimental
    f = tf.function(lambda x: x * 2.0)
    concrete = f.get_concrete_function(tf.constant(1.0))
    assert isinstance(f, E.GenericFunction)
    assert isinstance(f, E.PolymorphicFunction)
    assert isinstance(f, E.Callable)
    assert isinstance(concrete, E.ConcreteFunction)
    assert not isinstance(concrete, E.GenericFunction)
    assert float(concrete(tf.constant(3.0))) == 6.0


@pytest.mark.parametrize("value, want", [
    (tf.constant(1.0), True), (tf.Variable(1.0), True), (np.float32(1), True),
    (np.zeros(2), True), (1, True), (1.0, True), ([1.0], True), ("a", True),
    (True, True), (None, False)])
def test_tensorlike_isinstance(value, want):
    assert isinstance(value, tf.types.experimental.TensorLike) is want


def test_tensorlike_excludes_composites():
    from dlframe.types.experimental import TensorLike
    assert not isinstance(tf.ragged.constant([[1], [2, 3]]), TensorLike)
    assert not isinstance(tf.sparse.from_dense([[1, 0]]), TensorLike)


def test_devicespec_parse_and_format():
    D = tf.DeviceSpec
    full = "/job:worker/replica:0/task:1/device:GPU:3"
    assert D.from_string(full).to_string() == full
    assert D.from_string("/GPU:0").to_string() == "/device:GPU:0"
    assert D.from_string("/cpu:0").to_string() == "/device:CPU:0"
    assert D.from_string("gpu:1").to_string() == "/device:GPU:1"
    assert D.from_string("").to_string() == ""
    assert D.from_string("/device:CPU:*").to_string() == "/device:CPU:*"
    assert D.from_string("/CPU").to_string() == "/device:CPU:*"
    assert D.from_string("/cpu:*").device_index is None
    d = D.from_string("/job:w/task:2/device:GPU:1")
    assert (d.job, d.replica, d.task, d.device_type, d.device_index) == (
        "w", None, 2, "GPU", 1)
    assert D(job="ps", device_type="cpu", device_index=0).to_string() == \
        "/job:ps/device:CPU:0"
    assert D(device_type="GPU").to_string() == "/device:GPU:*"
    assert D(device_type="tpu", device_index="3").to_string() == "/device:tpu:3"
    assert D(device_index=5).to_string() == ""


def test_devicespec_replace_merge_eq():
    D = tf.DeviceSpec
    d = D.from_string("/job:w/task:2/device:GPU:1")
    assert d.replace(device_type="CPU", device_index=0).to_string() == \
        "/job:w/task:2/device:CPU:0"
    assert D.from_string("/job:a").replace(job=None).to_string() == ""
    assert d.make_merged_spec(D(job="x", device_index=5)).to_string() == \
        "/job:x/task:2/device:GPU:5"
    assert D.from_string("/GPU:0") == D(device_type="GPU", device_index=0)
    assert hash(D.from_string("/GPU:0")) == hash(D(device_type="GPU", device_index=0))
    assert D.from_string("/job:z/GPU:0").parse_from_string("/CPU:1").to_string() == \
        "/device:CPU:1"
    assert repr(D.from_string("/GPU:0")) == ("<DeviceSpec(job=None, replica=None, "
                                             "task=None, device_type=GPU, device_index=0)>")
    with pytest.raises(AttributeError):
        d.job = "b"


def test_devicespec_errors():
    D = tf.DeviceSpec
    with pytest.raises(ValueError, match="Unknown attribute 'foo'"):
        D.from_string("/foo:1")
    with pytest.raises(ValueError, match="Multiple device types"):
        D.from_string("/job:a/GPU:0/CPU:1")
    with pytest.raises(ValueError):
        D.from_string("/task:x")
    assert D.from_string("/job:a/job:b").job == "b"


def test_device_accepts_devicespec():
    with tf.device(tf.DeviceSpec(device_type="CPU", device_index=0)):
        x = tf.constant([1.0]) + 1.0
    assert "CPU" in x.device.upper()


def test_aggregation_method_constants():
    A = tf.AggregationMethod
    assert (A.ADD_N, A.DEFAULT, A.EXPERIMENTAL_TREE, A.EXPERIMENTAL_ACCUMULATE_N) == (
        0, 0, 1, 2)


def test_graph_as_default_block_runs():
    # dlframe is eager-only: inside the block ops still run (collections work)
    g = tf.Graph()
    with g.as_default() as gg:
        c = tf.constant(2.0) * 3.0
        tf.compat.v1.add_to_collection("k", 1)
    assert gg is g
    assert float(c) == 6.0
    assert g.get_collection("k") == [1]


def test_ragged_uniform_row_length():
    rt = tf.RaggedTensor.from_uniform_row_length(tf.range(6), 2)
    url = rt.uniform_row_length
    assert url.dtype == tf.int64 and int(url) == 2
    assert tf.ragged.constant([[1], [2, 3]]).uniform_row_length is None
    assert tf.RaggedTensor.from_row_lengths(tf.range(4), [2, 2]).uniform_row_length \
        is None


def test_sparse_set_shape_eager_and_errors():
    sp = tf.SparseTensor([[0, 0]], [1.0], [2, 2])
    sp.set_shape([2, 2])
    sp.set_shape([None, 2])
    assert sp.shape == S([2, 2])
    with pytest.raises(ValueError, match=r"Shapes \(2, 2\) and \(3, 2\) are not "
                                         "compatible"):
        sp.set_shape([3, 2])


def test_sparse_set_shape_refines_traced_shape():
    seen = []

    @tf.function
    def f(x):
        sp = tf.sparse.from_dense(x)
        sp.set_shape([None, 2])
        seen.append(sp.shape.as_list())
        assert sp.op is not None
        return tf.sparse.to_dense(sp)

    x = tf.constant([[1, 0], [0, 2]])
    np.testing.assert_array_equal(f(x).numpy(), x.numpy())
    assert seen[0][1] == 2


def test_sparse_op_graph_eager_raise_attribute_error():
    sp = tf.sparse.from_dense([[1, 0], [0, 2]])
    with pytest.raises(AttributeError):
        sp.op  # noqa: B018
    with pytest.raises(AttributeError):
        sp.graph  # noqa: B018


def _legacy_ds():
    return tf.data.Dataset.from_tensor_slices(({"a": [1, 2]}, [1.0, 2.0]))


def test_iterator_legacy_outputs():
    it = iter(_legacy_ds())
    assert it.output_shapes == ({"a": S([])}, S([]))
    assert it.output_types == ({"a": tf.int32}, tf.float32)
    assert it.output_classes == ({"a": tf.Tensor}, tf.Tensor)
    assert int(next(it)[0]["a"]) == 1   # still iterates


def test_compat_v1_data_get_output_helpers():
    v1 = tf.compat.v1.data
    ds = _legacy_ds()
    assert v1.get_output_shapes(ds) == ({"a": S([])}, S([]))
    assert v1.get_output_types(ds) == ({"a": tf.int32}, tf.float32)
    assert v1.get_output_classes(iter(ds)) == ({"a": tf.Tensor}, tf.Tensor)
    assert v1.Dataset is tf.data.Dataset   # the rest of tf.data is still there
    rds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[1], [2, 3]]))
    assert v1.get_output_shapes(rds).as_list() == [None]
    assert v1.get_output_classes(rds) == rds.element_spec   # TF: the spec itself
    sds = tf.data.Dataset.from_tensors(tf.sparse.from_dense([[1, 0]]))
    assert v1.get_output_classes(sds) is tf.SparseTensor
    with pytest.raises(TypeError, match="Dataset or iterator"):
        v1.get_output_shapes([1, 2])


# -- tf.quantization (expected numbers from TF 2.21) ----------------------------------
Q = tf.quantization


def _np_fake_quant(x, lo, hi, num_bits, narrow):
    """NumPy reference of the documented nudge-clamp-round algorithm."""
    qmin, qmax = (1.0 if narrow else 0.0), 2.0 ** num_bits - 1
    scale = (hi - lo) / (qmax - qmin)
    zero = np.clip(np.floor(qmin - lo / scale + 0.5), qmin, qmax)
    nmin, nmax = (qmin - zero) * scale, (qmax - zero) * scale
    c = np.clip(x, nmin, nmax)
    return np.floor((c - nmin) / scale + 0.5) * scale + nmin


def test_fake_quant_args_matches_tf_values():
    x = np.linspace(-8, 8, 17).astype("float32")
    got = Q.fake_quant_with_min_max_args(x).numpy()
    want = [-6.02353, -6.02353, -5.97647, -4.988235, -4.0, -3.011765, -1.976471,
            -0.988235, 0.0, 0.988235, 2.02353, 3.011765, 4.0, 4.988235, 5.97647,
            5.97647, 5.97647]
    np.testing.assert_allclose(got, want, atol=2e-5)
    got = Q.fake_quant_with_min_max_args(x, min=-1.3, max=2.7, num_bits=4,
                                         narrow_range=True).numpy()
    np.testing.assert_allclose(got[6:11], [-1.428571, -0.857143, 0.0, 1.142857, 2.0],
                               atol=1e-5)
    got = Q.fake_quant_with_min_max_args(x, min=0.5, max=3.0, num_bits=3).numpy()
    np.testing.assert_allclose(got[8:12], [0.0, 1.071429, 2.142857, 2.5], atol=1e-5)


def test_fake_quant_args_matches_numpy_reference():
    r = np.random.RandomState(0).randn(500).astype("float32") * 3
    for lo, hi, bits, narrow in [(-2.1, 3.3, 6, False), (-1.0, 1.0, 2, True),
                                 (0.2, 5.0, 8, False)]:
        got = Q.fake_quant_with_min_max_args(r, lo, hi, bits, narrow).numpy()
        want = _np_fake_quant(r.astype("float64"), lo, hi, bits, narrow)
        step = (hi - lo) / (2 ** bits - 1)
        close = np.isclose(got, want, atol=1e-4)
        # a float32 tie at an exact half level may round to the neighbour level
        assert close.mean() > 0.99
        np.testing.assert_allclose(got[~close], want[~close], atol=step * 1.01)


def test_fake_quant_vars_values_and_gradients():
    x = tf.constant([-2.0, -0.5, 0.1, 0.26, 1.0, 2.5, 4.0])
    lo, hi = tf.Variable(-0.4), tf.Variable(2.2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = Q.fake_quant_with_min_max_vars(x, lo, hi, num_bits=5)
        s = tf.reduce_sum(y * tf.range(1.0, 8.0))
    gx, glo, ghi = tape.gradient(s, [x, lo, hi])
    np.testing.assert_allclose(y.numpy(), [-0.419355, -0.419355, 0.083871, 0.251613,
                                           1.006452, 2.180645, 2.180645], atol=1e-5)
    np.testing.assert_allclose(gx.numpy(), [0, 0, 3, 4, 5, 0, 0])
    assert float(glo) == 3.0 and float(ghi) == 13.0   # 1+2 clamped low, 6+7 high


def test_fake_quant_args_straight_through_gradient():
    x = tf.constant([-2.0, -0.5, 0.1, 0.26, 1.0, 2.5, 4.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = Q.fake_quant_with_min_max_args(x, -0.4, 2.2)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0, 1, 1, 1, 0, 0])


def test_fake_quant_per_channel():
    x = tf.constant(np.arange(-3, 3, 0.5, dtype="float32").reshape(4, 3))
    lo, hi = tf.Variable([-1.0, 0.0, -2.0]), tf.Variable([1.0, 2.0, 0.5])
    with tf.GradientTape() as tape:
        y = Q.fake_quant_with_min_max_vars_per_channel(x, lo, hi, num_bits=3)
    glo, ghi = tape.gradient(y, [lo, hi])
    np.testing.assert_allclose(y.numpy(), [[-0.857143, 0.0, -2.142857],
                                           [-0.857143, 0.0, -0.357143],
                                           [0.0, 0.571429, 0.357143],
                                           [1.142857, 2.0, 0.357143]], atol=1e-5)
    np.testing.assert_array_equal(glo.numpy(), [2, 2, 0])
    np.testing.assert_array_equal(ghi.numpy(), [1, 0, 2])


def test_fake_quant_eager_equals_function():
    x = tf.constant(np.random.RandomState(1).randn(4, 3).astype("float32"))
    lo, hi = tf.Variable(-1.0), tf.Variable(1.5)
    f = tf.function(lambda t: Q.fake_quant_with_min_max_vars(t, lo, hi, num_bits=4))
    np.testing.assert_allclose(f(x).numpy(), Q.fake_quant_with_min_max_vars(
        x, lo, hi, num_bits=4).numpy(), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_bits": 1}, "num_bits must be between 2 and 16"),
    ({"num_bits": 17}, "num_bits must be between 2 and 16"),
    ({"min": 2.0, "max": 1.0}, "min has to be smaller than max"),
    ({"min": 1.0, "max": 1.0}, "min has to be smaller than max")])
def test_fake_quant_argument_errors(kwargs, match):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        Q.fake_quant_with_min_max_args(tf.constant([1.0]), **kwargs)


def test_fake_quant_shape_errors():
    # TF 2.21 raises InvalidArgumentError for both (the op's shape checks)
    with pytest.raises(tf.errors.InvalidArgumentError, match="min"):
        Q.fake_quant_with_min_max_vars(tf.constant([1.0]), [0.0, 1.0], 2.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[3\]"):
        Q.fake_quant_with_min_max_vars_per_channel(tf.zeros((2, 3)), [0.0, 1.0],
                                                   [1.0, 2.0])


def test_function_name():
    def myfun(x):
        return x + 1

    assert tf.function(myfun).name == "myfun"
    assert tf.function(lambda x: x).name == "<lambda>"


# -- tf.linalg.experimental.conjugate_gradient ---------------------------------------
def _spd_system(seed=0, n=5):
    rng = np.random.RandomState(seed)
    a = rng.randn(n, n)
    return a @ a.T + 5 * np.eye(n), rng.randn(n)


def _spd_operator(matrix):
    return tf.linalg.LinearOperatorFullMatrix(matrix.astype("float32"),
                                              is_self_adjoint=True,
                                              is_positive_definite=True)


def test_conjugate_gradient_solves_spd_system():
    A, b = _spd_system()
    state = tf.linalg.experimental.conjugate_gradient(_spd_operator(A), b.astype("f4"))
    assert state._fields == ("i", "x", "r", "p", "gamma")
    assert state.i.dtype == tf.int32 and int(state.i) == 5   # n steps (TF 2.21: 5)
    np.testing.assert_allclose(state.x.numpy(), np.linalg.solve(A, b), atol=1e-5)
    np.testing.assert_allclose(state.r.numpy(), b - A @ state.x.numpy(), atol=1e-5)
    assert float(state.gamma) == pytest.approx(float(np.sum(state.r.numpy() ** 2)),
                                               abs=1e-10)


def test_conjugate_gradient_tol_max_iter_preconditioner_start():
    A, b = _spd_system()
    op, rhs = _spd_operator(A), tf.constant(b.astype("float32"))
    cg = tf.linalg.experimental.conjugate_gradient
    loose = cg(op, rhs, tol=1e-2)
    assert int(loose.i) == 4   # TF 2.21: 4 iterations, |r| = 0.004759
    assert float(tf.norm(loose.r)) == pytest.approx(0.004759, abs=1e-5)
    two = cg(op, rhs, max_iter=2)
    assert int(two.i) == 2
    np.testing.assert_allclose(two.x.numpy(), [-0.08299, -0.05944, -0.0434, 0.25035,
                                               0.10911], atol=1e-4)   # TF 2.21
    jacobi = tf.linalg.LinearOperatorDiag((1.0 / np.diag(A)).astype("float32"))
    pre = cg(op, rhs, preconditioner=jacobi)
    np.testing.assert_allclose(pre.x.numpy(), np.linalg.solve(A, b), atol=1e-5)
    warm = cg(op, rhs, x=tf.ones(5))
    np.testing.assert_allclose(warm.x.numpy(), np.linalg.solve(A, b), atol=1e-5)


def test_conjugate_gradient_batched_and_in_function():
    A, _ = _spd_system()
    mats = np.stack([A, A + np.eye(5), 2 * A])
    rhs = np.random.RandomState(3).randn(3, 5)
    state = tf.linalg.experimental.conjugate_gradient(
        _spd_operator(mats), rhs.astype("float32"), tol=1e-4)
    assert state.gamma.shape == (3,)
    want = np.stack([np.linalg.solve(m, r) for m, r in zip(mats, rhs)])
    np.testing.assert_allclose(state.x.numpy(), want, atol=1e-4)
    op = _spd_operator(A)
    f = tf.function(lambda r: tf.linalg.experimental.conjugate_gradient(op, r).x)
    r0 = tf.constant(rhs[0].astype("float32"))
    np.testing.assert_allclose(f(r0).numpy(),
                               tf.linalg.experimental.conjugate_gradient(op, r0).x.numpy(),
                               atol=1e-6)


def test_conjugate_gradient_requires_spd_hints():
    A, b = _spd_system()
    with pytest.raises(ValueError, match="self-adjoint, positive definite"):
        tf.linalg.experimental.conjugate_gradient(
            tf.linalg.LinearOperatorFullMatrix(A.astype("float32")), b.astype("f4"))


def test_strategy_unwrap_is_local_results():
    strategy = tf.distribute.get_strategy()
    value = tf.constant(1.0)
    assert strategy.unwrap(value) == strategy.experimental_local_results(value)
    assert tf.distribute.MirroredStrategy.unwrap is \
        tf.distribute.MirroredStrategy.experimental_local_results


@pytest.mark.parametrize("value, complex_", [
    (1, False), (1j, True), ([1.0], False), (np.complex64(1), True),
    (np.zeros(2, complex), True), ("a", False)])
def test_tnp_iscomplexobj_isrealobj(value, complex_):
    tnp = tf.experimental.numpy
    assert tnp.iscomplexobj(value) is complex_
    assert tnp.isrealobj(value) is (not complex_)


def test_tnp_iscomplexobj_tensors():
    tnp = tf.experimental.numpy
    assert tnp.iscomplexobj(tf.constant([1 + 0j]))
    assert tnp.isrealobj(tf.constant([1.0]))


# -- quantize_and_dequantize (expected numbers from TF 2.21) -------------------------
_X13 = np.linspace(-3, 3, 13).astype("float32")


@pytest.mark.parametrize("kwargs, want", [
    ({"input_min": -1.0, "input_max": 1.0},
     [-3.0, -2.50394, -2.00787, -1.51181, -0.99213, -0.49606, 0.0]),
    ({"input_min": -1.0, "input_max": 1.0, "range_given": True},
     [-1.00787, -1.00787, -1.00787, -1.00787, -1.0, -0.50394, 0.0]),
    ({"input_min": -1.0, "input_max": 2.0, "range_given": True, "num_bits": 3},
     [-2.66667, -2.66667, -2.0, -1.33333, -1.33333, -0.66667, 0.0]),
    ({"input_min": -1.0, "input_max": 2.0, "range_given": True, "num_bits": 3,
      "narrow_range": True}, [-2.0, -2.0, -2.0, -1.33333, -1.33333, -0.66667, 0.0]),
    ({"input_min": -1.0, "input_max": 2.0, "range_given": True, "num_bits": 3,
      "round_mode": "HALF_UP"},
     [-2.66667, -2.66667, -2.0, -1.33333, -0.66667, -0.66667, 0.0])])
def test_quantize_and_dequantize_v2_values(kwargs, want):
    got = tf.quantization.quantize_and_dequantize_v2(_X13, **kwargs).numpy()
    np.testing.assert_allclose(got[:7], want, atol=1e-5)


def test_quantize_and_dequantize_v2_unsigned_and_data_range():
    qdq = tf.quantization.quantize_and_dequantize_v2
    got = qdq(np.abs(_X13), 0.0, 2.0, signed_input=False, range_given=True,
              num_bits=3).numpy()
    np.testing.assert_allclose(got[:6], [2.0, 2.0, 2.0, 1.42857, 1.14286, 0.57143],
                               atol=1e-5)
    got = qdq(_X13 * 0.37, 0.0, 0.0, num_bits=4).numpy()
    np.testing.assert_allclose(got[:4], [-1.11, -0.95143, -0.79286, -0.63429],
                               atol=1e-5)
    got = qdq(np.abs(_X13) * 0.37, 0.0, 0.0, signed_input=False, num_bits=4).numpy()
    np.testing.assert_allclose(got[:4], [1.11, 0.888, 0.74, 0.592], atol=1e-5)
    assert qdq(tf.constant(_X13, tf.float64), -1.0, 1.0).dtype == tf.float64


def test_quantize_and_dequantize_v2_per_channel_data_range():
    x = np.arange(-3, 3, 0.5, dtype="float32").reshape(4, 3)
    got = tf.quantization.quantize_and_dequantize_v2(x, [0.0] * 3, [0.0] * 3,
                                                     num_bits=3, axis=-1).numpy()
    np.testing.assert_allclose(got, [[-3.0, -2.66667, -1.66667],
                                     [-1.5, -1.33333, -0.83333],
                                     [0.0, 0.66667, 0.83333],
                                     [1.5, 2.0, 2.5]], atol=1e-5)


def test_quantize_and_dequantize_gradients():
    x = tf.constant([-2.0, -0.5, 0.1, 0.26, 1.0, 2.5, 4.0])
    for range_given in (True, False):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.quantization.quantize_and_dequantize_v2(x, -1.0, 2.0,
                                                           range_given=range_given)
        # TF 2.21: the mask uses the given input_min/input_max either way
        np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 1, 1, 0, 0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.quantization.quantize_and_dequantize(x, -1.0, 2.0, range_given=True)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones(7))
    f = tf.function(lambda t: tf.quantization.quantize_and_dequantize_v2(t, -1.0, 2.0))
    np.testing.assert_allclose(f(x).numpy(), tf.quantization.quantize_and_dequantize_v2(
        x, -1.0, 2.0).numpy())


@pytest.mark.parametrize("kwargs, match", [
    ({"num_bits": 0}, "num_bits is out of range: 0"),
    ({"round_mode": "X"}, "round_mode"),
    ({"input_min": 2.0, "input_max": 1.0, "range_given": True},
     "Invalid range: input_min 2 > input_max 1")])
def test_quantize_and_dequantize_errors(kwargs, match):
    args = {"input_min": -1.0, "input_max": 1.0, **kwargs}
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        tf.quantization.quantize_and_dequantize_v2(_X13, **args)


def test_compat_v1_fake_quant_names():
    v1 = tf.compat.v1
    assert v1.fake_quant_with_min_max_args is Q.fake_quant_with_min_max_args
    assert v1.fake_quant_with_min_max_vars_per_channel is \
        Q.fake_quant_with_min_max_vars_per_channel
