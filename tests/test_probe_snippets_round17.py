"""Regressions found by diffing Q&A-style TF2 snippets against TF 2.21 (round 17).

Expected strings were produced by TensorFlow 2.21 running the same snippets.
"""

import sys

import numpy as np
import pytest

import dlframe as tf


def _logits():
    return tf.constant(np.random.RandomState(0).randn(5, 2, 4).astype("float32"))


# ---------------------------------------------------------------- ctc_loss
def test_ctc_sparse_labels_require_blank_index():
    sparse = tf.sparse.from_dense(tf.constant([[1, 2], [3, 1]]))
    with pytest.raises(ValueError, match="blank_index"):
        tf.nn.ctc_loss(sparse, _logits(), None, [5, 5])
    dense = tf.nn.ctc_loss(tf.constant([[1, 2], [3, 1]]), _logits(), [2, 2], [5, 5],
                           blank_index=0)
    np.testing.assert_allclose(
        tf.nn.ctc_loss(sparse, _logits(), None, [5, 5], blank_index=0).numpy(),
        dense.numpy())


@pytest.mark.parametrize("use_function", [False, True])
def test_ctc_zero_frames(use_function):
    """No frames: an empty label has probability 1, any other label 0 (loss inf)."""
    def loss(logits):
        return tf.nn.ctc_loss(tf.constant([[1, 2], [3, 1]]), logits, [0, 2], [0, 0],
                              blank_index=0)
    fn = tf.function(loss) if use_function else loss
    logits = tf.Variable(_logits())
    with tf.GradientTape() as tape:
        out = fn(logits)
        total = tf.reduce_sum(tf.where(tf.math.is_finite(out), out, 0.0))
    np.testing.assert_array_equal(out.numpy(), [0.0, np.inf])
    np.testing.assert_array_equal(tape.gradient(total, logits).numpy(), 0.0)
    # one frame for a 2-label sequence is impossible as well; 4 frames are enough
    few = tf.nn.ctc_loss(tf.constant([[1, 2]]), _logits()[:, :1], [2], [1],
                         blank_index=0)
    enough = tf.nn.ctc_loss(tf.constant([[1, 2]]), _logits()[:, :1], [2], [4],
                            blank_index=0)
    assert np.isinf(few.numpy()[0]) and np.isfinite(enough.numpy()[0])


# ---------------------------------------------------------------- number formatting
_VALUES = [0.1, 1 / 3, 1e-7, 16777217.0]


@pytest.mark.parametrize("dtype, expected", [
    # TF 2.21: 6 (15) significant digits when they read back exactly, else 9 (17);
    # half and bfloat16 print as the float32 they widen to
    ("float32", "[0.1 0.333333343 1e-07 16777216]"),
    ("float64", "[0.1 0.33333333333333331 1e-07 16777217]"),
    ("float16", "[0.0999755859 0.333251953 1.1920929e-07 inf]"),
    ("bfloat16", "[0.100097656 0.333984375 1.00117177e-07 16777216]"),
])
@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_format_and_print_float_precision(dtype, expected, capsys):
    x = tf.constant(_VALUES, dtype)
    assert tf.strings.format("{}", x).numpy().decode() == expected
    tf.print(x, output_stream=sys.stdout)
    assert capsys.readouterr().out == expected + "\n"


# ---------------------------------------------------------------- composite printing
def _print_composites(ragged, sparse):
    tf.print(ragged, output_stream=sys.stdout)
    tf.print("x", [ragged], {"s": sparse}, output_stream=sys.stdout)
    tf.print(ragged, summarize=1, output_stream=sys.stdout)
    return tf.strings.format("r={}", ragged, summarize=1)


@pytest.mark.parametrize("use_function", [False, True])
def test_print_ragged_and_sparse(use_function, capsys):
    fn = tf.function(_print_composites) if use_function else _print_composites
    ragged = tf.ragged.constant([[1, 2, 3], [], [4]])
    sparse = tf.sparse.from_dense(tf.constant([[0.0, 1.5]]))
    formatted = fn(ragged, sparse)
    # run-time values, also from a traced function (not the symbolic repr)
    assert capsys.readouterr().out == (
        "[[1, 2, 3], [], [4]]\n"
        "x [[[1, 2, 3], [], [4]]] {'s': 'SparseTensor(indices=[[0 1]], "
        "values=[1.5], shape=[1 2])'}\n"
        "[[1, ..., 3], ..., [4]]\n")
    assert formatted.numpy().decode() == "r=[[1, ..., 3], ..., [4]]"


def test_print_ragged_element_styles(capsys):
    tf.print(tf.ragged.constant([[1.5, 2.0], [3.0]]), output_stream=sys.stdout)
    tf.print(tf.ragged.constant([["a", "b"], []]), output_stream=sys.stdout)
    tf.print(tf.ragged.constant([[True], []]), output_stream=sys.stdout)
    tf.print(tf.ragged.constant([[[1, 2]], [[3, 4]]], ragged_rank=1),
             output_stream=sys.stdout)
    assert capsys.readouterr().out == (
        "[[1.500000, 2.000000], [3.000000]]\n"
        "[['a', 'b'], []]\n"
        "[[true], []]\n"
        "[[[1, 2]], [[3, 4]]]\n")
