"""Round 16 probe of the TF guides on ragged/sparse tensors, random numbers and
tf.experimental.numpy: regression tests for the differences found against TF 2.21.

Expected values marked "TF 2.21" were printed by TensorFlow 2.21 running the same
calls; the rest are hand-computed or NumPy references.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import numeric_grad

DIGITS = [[3, 1, 4, 1], [], [5, 9, 2], [6], []]
NESTED = [[[1, 2, 3], [4]], [[5], [], [6]], [[7]], [[8, 9], [10]]]


def _value(x):
    return x.to_list() if isinstance(x, tf.RaggedTensor) else x.numpy().tolist()


# ------------------------------------------------------------ tf.gather_nd of ragged
_compiled_gather_nd = tf.function(tf.gather_nd, reduce_retracing=True)


@pytest.mark.parametrize("params, indices, expected, ragged", [
    # rows (ragged result), TF 2.21
    (DIGITS, [[2], [0]], [[5, 9, 2], [3, 1, 4, 1]], True),
    # elements (dense result)
    (DIGITS, [[2, 1], [0, 3]], [9, 1], False),
    # a single element / a single row (TF keeps the leading 1 of a row index)
    (DIGITS, [2, 1], 9, False),
    (DIGITS, [2], [[5, 9, 2]], True),
    # two ragged levels: inner rows, then elements
    (NESTED, [[1, 2], [3, 0]], [[6], [8, 9]], True),
    (NESTED, [[1, 2, 0], [3, 0, 1]], [6, 9], False),
    (NESTED, [1, 2], [6], False),
    # a batch of index rows of rank 2
    (DIGITS, [[[2], [0]], [[3], [1]]], [[[5, 9, 2], [3, 1, 4, 1]], [[6], []]], True),
    (DIGITS, [[[2, 0], [0, 0]], [[3, 0], [0, 1]]], [[5, 3], [6, 1]], False),
])
def test_gather_nd_ragged_matches_tf(params, indices, expected, ragged):
    rt = tf.ragged.constant(params)
    out = tf.gather_nd(rt, indices)
    assert isinstance(out, tf.RaggedTensor) == ragged
    assert _value(out) == expected
    compiled = _compiled_gather_nd(rt, tf.constant(indices, tf.int64))
    assert _value(compiled) == expected


def test_gather_nd_ragged_with_uniform_inner_dimension():
    rt = tf.RaggedTensor.from_row_lengths(tf.reshape(tf.range(12.0), [6, 2]),
                                          [2, 0, 3, 1])
    # row 2 holds flat rows 2..4, so [2, 1] is flat row 3 = [6, 7]   (TF 2.21)
    assert tf.gather_nd(rt, [[2, 1], [0, 0]]).numpy().tolist() == [[6.0, 7.0],
                                                                   [0.0, 1.0]]
    assert tf.gather_nd(rt, [[2, 1, 1], [0, 0, 0]]).numpy().tolist() == [7.0, 0.0]


def test_gather_nd_ragged_errors():
    rt = tf.ragged.constant(DIGITS)
    with pytest.raises(tf.errors.InvalidArgumentError, match="7"):
        tf.gather_nd(rt, [[7]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="-1"):
        tf.gather_nd(rt, [[-1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32"):
        tf.gather_nd(rt, [[2.0]])
    with pytest.raises(ValueError, match="batch_dims"):
        tf.gather_nd(rt, [[2, 1]], batch_dims=1)


def test_gather_nd_ragged_gradient_matches_finite_differences():
    splits = [0, 2, 2, 5]
    flat = np.array([0.5, -1.0, 2.0, 3.0, -0.25])
    idx = [[2, 1], [0, 0], [2, 1]]
    weights = np.array([1.5, -2.0, 0.5])

    def loss(values):
        rt = tf.RaggedTensor.from_row_splits(values, splits)
        return tf.reduce_sum(tf.gather_nd(rt, idx) * weights)

    values = tf.constant(flat)
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = loss(values)
    grad = tf.convert_to_tensor(tape.gradient(out, values)).numpy()   # IndexedSlices
    expected = numeric_grad(lambda v: float(loss(tf.constant(v))), [flat.copy()], 0)
    np.testing.assert_allclose(grad, expected, atol=1e-6)
    np.testing.assert_allclose(grad, [-2.0, 0, 0, 2.0, 0])


# ------------------------------------------------------------ tf.experimental.numpy
def _run(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_numpy_behavior_prefer_float32_dtypes_match_tf():
    out = _run("""
        import numpy as np
        import dlframe as tf
        import dlframe.experimental.numpy as tnp
        tnp.experimental_enable_numpy_behavior(prefer_float32=True)
        results = [
            tnp.asarray(1.5), tnp.asarray([1, 2]), tnp.asarray(1j),
            tnp.asarray([1, 2.5]), tnp.asarray(np.ones(2)),
            tnp.ones([1], tnp.int8) + 1.5, tf.ones([2], tf.float16) + 1.5,
            tf.ones([2], tf.int32) + 1.5, tf.constant(1) + tf.constant(2.2),
            tnp.ones([1], tnp.int8) + 2, tnp.ones([1], tnp.float64) + 1.5,
            tnp.ones([1], tnp.float32) + 1j, tnp.zeros([2]), tnp.eye(2),
            tnp.full([2], 1.5), tnp.arange(3.0), tnp.arange(3),
            tnp.mean(tnp.arange(3)), tnp.random.randn(2)]
        print(*[r.dtype.name for r in results])
        print(tnp.result_type(1.5, tnp.int32).name, tnp.result_type(1j).name)
        print(round(float(tf.constant(1) + tf.constant(2.2)), 5))
    """)
    # all from TF 2.21
    assert out[:19] == [
        "float32", "int64", "complex64", "float32", "float64",
        "float32", "float32", "float64", "float64", "int8", "float64", "complex64",
        "float64", "float64", "float32", "float32", "int64", "float64", "float64"]
    assert out[19:21] == ["float64", "complex64"]
    assert out[21] == "3.2"


def test_numpy_behavior_numpy_interop_matches_tf():
    out = _run("""
        import numpy as np
        import dlframe as tf
        import dlframe.experimental.numpy as tnp
        tnp.experimental_enable_numpy_behavior()
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        print(float(np.sum(x)), float(np.mean(x)), float(np.max(x)), float(np.min(x)))
        print(np.sum(x, axis=0).tolist() if hasattr(np.sum(x, axis=0), "tolist")
              else None)
        print(int(x.size), x.size.dtype.name, x.data is x)
        print(float(x.sum(dtype=tnp.int32)), x.sum(dtype=tnp.int32).dtype.name)
        try:
            x.sum(out=np.zeros(()))
        except NotImplementedError as e:
            print("out-refused" if "out" in str(e) else "bad")
        print((x + np.ones(2)).dtype.name, (x * np.ones(2, np.float32)).dtype.name)
        print((tf.constant([1, 2]) + np.ones(2, np.int64)).dtype.name)
        print((tf.ones([2], tf.float16) + 1.5).dtype.name)
        r = tnp.random.random((3, 2))
        print(r.dtype.name, r.shape == (3, 2), bool(np.all((r.numpy() >= 0)
                                                              & (r.numpy() < 1))))
        print(tnp.result_type(tnp.int32, tnp.float32) == tf.float64,
              type(tnp.result_type(1.5)).__name__)
    """)
    assert out[:4] == ["10.0", "2.5", "4.0", "1.0"]
    assert out[4] == "[4.0,"
    assert out[6:9] == ["4", "int64", "True"]
    assert out[9:11] == ["10.0", "int32"]
    assert out[11] == "out-refused"
    # float32 tensor + float64 array is float64, as TF 2.21's NumPy behaviour
    assert out[12:14] == ["float64", "float32"]
    assert out[14] == "int64"
    # without prefer_float32 a Python float is weak: float16 stays float16 (TF 2.21)
    assert out[15] == "float16"
    assert out[16:19] == ["float64", "True", "True"]
    assert out[19:21] == ["True", "DType"]
