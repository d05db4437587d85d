"""Round 20 tf.function gaps, each probed against TF 2.21: ``set_shape`` in a
``get_concrete_function`` trace refines the static shape to the given sizes (the
placeholder values follow them); ``tf.image.resize`` with a size read from the
function's tensors (None dims, the size read when the graph runs)."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad

# --- 1. set_shape in a trace on placeholders --------------------------------------


@pytest.mark.parametrize("use_set_shape", [True, False])
def test_set_shape_refines_concrete_function_trace(use_set_shape):
    seen = []

    @tf.function
    def f(x):
        y = tf.reshape(x, [-1, 4])
        if use_set_shape:
            y.set_shape([3, 4])
        else:
            y = tf.ensure_shape(y, [3, 4])
        seen.append(y.shape.as_list())
        # Python code reading the refined size: three rows, as TF's graph has
        rows = tf.stack([y[i] * float(i) for i in range(y.shape[0])])
        return rows + y, tf.reduce_sum(y, 0)

    cf = f.get_concrete_function(tf.TensorSpec([None, None], tf.float32))
    # TF 2.21: the traced shape is (3, 4), so are the output specs
    assert seen[0] == [3, 4]
    assert cf.structured_outputs[0].shape.as_list() == [3, 4]
    assert cf.output_shapes[0].as_list() == [3, 4]
    values = np.arange(12, dtype="float32")
    expected = values.reshape(3, 4) * np.array([[1.0], [2.0], [3.0]])
    for shape in [(3, 4), (12, 1), (2, 6)]:
        rows, total = cf(tf.constant(values.reshape(shape)))
        np.testing.assert_allclose(rows.numpy(), expected)
        np.testing.assert_allclose(total.numpy(), values.reshape(3, 4).sum(0))


def test_set_shape_in_input_signature_function_keeps_values():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        y = tf.reshape(x, [-1, 4])
        y.set_shape([3, 4])
        return y * 2.0, tf.shape(y)

    cf = f.get_concrete_function()
    assert cf.output_shapes[0].as_list() == [3, 4]
    out, shape = f(tf.range(12, dtype=tf.float32))
    np.testing.assert_allclose(out.numpy(), np.arange(12).reshape(3, 4) * 2.0)
    assert shape.numpy().tolist() == [3, 4]


def test_set_shape_partial_refinement_keeps_unknown_dims():
    @tf.function
    def f(x):
        y = tf.reshape(x, [-1, 2, 2])
        y.set_shape([None, 2, 2])
        return y

    cf = f.get_concrete_function(tf.TensorSpec([None], tf.float32))
    assert cf.output_shapes.as_list() == [None, 2, 2]
    assert f(tf.range(8, dtype=tf.float32)).shape == (2, 2, 2)


# --- 4. tf.image.resize with a size computed in the function -----------------------


def _image(shape):
    return tf.constant(np.arange(np.prod(shape), dtype="float32").reshape(shape) / 10)


@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic", "area",
                                    "lanczos3"])
def test_resize_with_size_argument_tensor(method):
    seen = []

    @tf.function
    def f(x, size):
        y = tf.image.resize(x, size, method=method, antialias=True)
        seen.append(y.shape.as_list())
        return y

    x = _image((1, 6, 5, 2))
    for size in ([3, 4], [9, 7]):
        got = f(x, tf.constant(size))
        want = tf.image.resize(x, size, method=method, antialias=True)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
    # TF 2.21: the size is read when the graph runs: one trace, spatial dims None
    assert seen == [[1, None, None, 2]]


def test_resize_size_from_shape_of_none_dims_input():
    seen = []

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def f(x):
        h = tf.shape(x)[1]
        y = tf.image.resize(x, [h * 2, 5], method="nearest")
        z = tf.image.resize(x, tf.shape(x)[1:3] * 2)
        seen.append((y.shape.as_list(), z.shape.as_list()))
        return y, z

    for shape in [(1, 4, 6, 3), (2, 3, 3, 3)]:
        x = _image(shape)
        y, z = f(x)
        np.testing.assert_allclose(
            y.numpy(), tf.image.resize(x, [shape[1] * 2, 5], method="nearest").numpy())
        np.testing.assert_allclose(
            z.numpy(), tf.image.resize(x, [shape[1] * 2, shape[2] * 2]).numpy(),
            atol=1e-6)
    # TF 2.21: (None, None, 5, 3) and (None, None, None, 3)
    assert seen[0] == ([None, None, 5, 3], [None, None, None, 3])


def test_resize_size_tensor_unbatched_and_aspect_ratio():
    @tf.function
    def f(x, n):
        return (tf.image.resize(x[0], [n, n + 1]),
                tf.image.resize(x, tf.stack([n, n * 3]), preserve_aspect_ratio=True))

    x = _image((1, 8, 6, 1))
    a, b = f(x, tf.constant(4))
    assert a.shape == (4, 5, 1)
    np.testing.assert_allclose(a.numpy(), tf.image.resize(x[0], [4, 5]).numpy(),
                               atol=1e-6)
    assert b.shape == (1, 4, 3, 1)   # TF 2.21: fits 4x12 keeping 8:6


def test_resize_size_tensor_gradient_and_bad_size():
    x0 = np.random.default_rng(0).normal(size=(1, 5, 4, 1))
    size = tf.constant([3, 6])

    @tf.function
    def grad(x, s):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.image.resize(x, s) ** 2)
        return tape.gradient(loss, x)

    def loss(x):
        return tf.reduce_sum(tf.image.resize(x, [3, 6]) ** 2)

    got = grad(tf.constant(x0, tf.float64), size)
    # resize computes in float32: a quadratic loss, so wide central differences
    want = numeric_grad(loss, [x0], 0, eps=1e-2)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-3, atol=1e-3)
    with tf.GradientTape() as tape:
        x = tf.constant(x0, tf.float32)
        tape.watch(x)
        eager = tape.gradient(loss(x), x)
    np.testing.assert_allclose(got.numpy(), eager.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        grad(tf.constant(x0, tf.float64), tf.constant([0, 3]))


# --- 5. composite outputs of a concrete function -----------------------------------


def test_concrete_function_ragged_and_sparse_outputs():
    @tf.function
    def f(r, s, d):
        return {"sum": d["a"] + d["b"]}, r * 2.0, r.row_lengths(), s

    cf = f.get_concrete_function(
        tf.RaggedTensorSpec([None, None], tf.float32),
        tf.SparseTensorSpec([2, 3], tf.float32),
        {"a": tf.TensorSpec([None, 3], tf.float32),
         "b": tf.TensorSpec([None, 3], tf.float32)})
    # TF 2.21: a composite output lists its components
    shapes, dtypes = cf.output_shapes, cf.output_dtypes
    assert [s.as_list() for s in shapes[1]] == [[None], [None]]
    assert dtypes[1] == [tf.float32, tf.int64]
    assert [s.as_list() for s in shapes[3]] == [[None, 2], [None], [2]]
    assert dtypes[3] == [tf.int64, tf.float32, tf.int64]
    ragged = cf.structured_outputs[1]
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.values.name == "Identity_1:0"
    assert ragged.row_splits.name == "Identity_2:0"
    sparse = cf.structured_outputs[3]
    assert isinstance(sparse, tf.SparseTensor)
    assert sparse.dense_shape.shape.as_list() == [2]
    outputs = cf.outputs
    assert [o.name for o in outputs] == [
        "Identity:0"] + [f"Identity_{i}:0" for i in range(1, 7)]
    assert [o.dtype for o in outputs] == [
        tf.float32, tf.float32, tf.int64, tf.int64, tf.int64, tf.float32, tf.int64]
    text = cf.pretty_printed_signature()
    assert "RaggedTensorSpec(TensorShape([None, None]), tf.float32, 1, tf.int64)" \
        in text
    assert "SparseTensorSpec(TensorShape([2, 3]), tf.float32)" in text
    # the function still runs
    x = tf.ones([2, 3])
    out, doubled, lengths, back = cf(
        tf.ragged.constant([[1.0, 2.0], [3.0]]),
        tf.sparse.from_dense(tf.constant([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])),
        {"a": x, "b": x})
    assert doubled.to_list() == [[2.0, 4.0], [6.0]]
    assert lengths.numpy().tolist() == [2, 1]
    np.testing.assert_allclose(tf.sparse.to_dense(back).numpy(),
                               [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    np.testing.assert_allclose(out["sum"].numpy(), np.full([2, 3], 2.0))


def test_concrete_function_nested_ragged_output_order():
    @tf.function
    def f(x):
        inner = tf.RaggedTensor.from_row_lengths(x, [1, 2, 1])
        return tf.RaggedTensor.from_row_lengths(inner, [2, 1])

    cf = f.get_concrete_function(tf.TensorSpec([4], tf.float32))
    # TF 2.21: flat values, then the row splits from the outermost
    assert [s.as_list() for s in cf.output_shapes] == [[4], [3], [4]]
    assert cf.output_dtypes == [tf.float32, tf.int64, tf.int64]
    out = cf.structured_outputs
    assert out.values.values.name == "Identity:0"
    assert out.row_splits.name == "Identity_1:0"
    assert cf(tf.ones([4])).to_list() == [[[1.0], [1.0, 1.0]], [[1.0]]]


# --- 6. programs: dataset loops, custom gradients -----------------------------------


def test_dataset_enumerate_loop_into_tensor_array():
    ds = tf.data.Dataset.range(1, 20).map(lambda i: tf.cast(i, tf.float32) * 0.5)

    @tf.function
    def batch_means(ds, stop):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[])
        for step, batch in ds.batch(4).enumerate():
            ta = ta.write(tf.cast(step, tf.int32), tf.reduce_mean(batch))
            if step >= stop:
                break
        return ta.stack()

    values = np.arange(1, 20) * 0.5
    means = [values[i:i + 4].mean() for i in range(0, 19, 4)]
    np.testing.assert_allclose(batch_means(ds, tf.constant(2, tf.int64)).numpy(),
                               means[:3])
    np.testing.assert_allclose(batch_means(ds, tf.constant(9, tf.int64)).numpy(),
                               means)


def _softplus_with_custom_gradient():
    @tf.custom_gradient
    def softplus(x):
        e = tf.exp(x)

        def grad(dy):
            return dy * (1 - 1 / (1 + e))
        return tf.math.log(1 + e), grad
    return softplus


@pytest.mark.parametrize("compiled", [False, True])
def test_second_derivative_through_custom_gradient(compiled):
    softplus = _softplus_with_custom_gradient()

    def second(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = softplus(x)
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)

    if compiled:
        second = tf.function(second)
    x = np.array([-1.0, 0.0, 1.0], dtype="float32")
    g, h = second(tf.constant(x))
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(g.numpy(), sig, rtol=1e-6)
    # TF 2.21: the grad function's use of the forward's exp(x) is differentiable
    np.testing.assert_allclose(h.numpy(), sig * (1 - sig), rtol=1e-5)


def test_custom_gradient_first_order_unchanged_when_forward_is_taped():
    @tf.custom_gradient
    def clip_grad(x):
        def grad(dy):
            return tf.clip_by_value(dy, -0.5, 0.5)
        return x * 1.0, grad

    @tf.custom_gradient
    def passthrough(x):
        return x, lambda dy: dy * 3.0

    x = tf.Variable([-2.0, 0.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(clip_grad(x * 3.0))
        z = tf.reduce_sum(passthrough(x) * 2.0)
    # only grad_fn's gradient: 0.5 clipped, times 3 from x * 3
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.5, 1.5, 1.5])
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [6.0, 6.0, 6.0])
