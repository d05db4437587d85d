"""Review of round 19's CTC beam search: TF's admission rule and input checks.

Expected paths and log-probabilities came from TF 2.21.
"""

import numpy as np
import pytest

import dlframe as tf


def _paths(decoded):
    return [d.values.numpy().tolist() for d in decoded]


def test_beam_admits_an_extension_only_if_strictly_better():
    # uniform frames: every extension ties the cheapest kept prefix, and TF keeps
    # the prefix it has (the all-blank one with beam_width=1)
    decoded, logp = tf.nn.ctc_beam_search_decoder(tf.zeros((4, 1, 3)), [4],
                                                  beam_width=1)
    assert _paths(decoded) == [[]]
    np.testing.assert_allclose(logp.numpy(), [[4 * np.log(1 / 3)]], rtol=1e-6)
    decoded, logp = tf.nn.ctc_beam_search_decoder(tf.zeros((4, 1, 3)), [4],
                                                  beam_width=2, top_paths=2)
    assert _paths(decoded) == [[0, 1], [0]]
    np.testing.assert_allclose(logp.numpy(), [[-1.9095426, -2.1972246]], rtol=1e-6)


@pytest.mark.parametrize("decode", [
    lambda x, n: tf.nn.ctc_beam_search_decoder(x, n),
    lambda x, n: tf.nn.ctc_greedy_decoder(x, n),
])
def test_empty_inputs_are_invalid_argument(decode):
    with pytest.raises(tf.errors.InvalidArgumentError, match="must not be empty"):
        decode(tf.zeros((0, 2, 3)), [0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must not be empty"):
        decode(tf.zeros((3, 0, 3)), tf.zeros((0,), "int32"))


@pytest.mark.parametrize("decode", [
    lambda x, n: tf.nn.ctc_beam_search_decoder(x, n),
    lambda x, n: tf.nn.ctc_greedy_decoder(x, n),
])
def test_length_beyond_max_time_is_failed_precondition(decode):
    with pytest.raises(tf.errors.FailedPreconditionError, match=r"sequence_length\(1\)"):
        decode(tf.zeros((3, 2, 3)), [3, 5])


def test_negative_length_runs_no_frame():
    x = tf.constant(np.arange(24, dtype="float32").reshape(4, 2, 3) % 5)
    decoded, logp = tf.nn.ctc_beam_search_decoder(x, [-2, 3], beam_width=3)
    assert tf.sparse.to_dense(decoded[0]).numpy().tolist() == [[0, 0], [1, 0]]
    np.testing.assert_allclose(logp.numpy(), [[0.0], [-0.665]], atol=1e-5)
    decoded, neg_sum = tf.nn.ctc_greedy_decoder(x, [-2, 3])
    assert tf.sparse.to_dense(decoded[0]).numpy().tolist() == [[0, 0], [1, 0]]
    np.testing.assert_allclose(neg_sum.numpy(), [[0.0], [-10.0]])


@pytest.mark.parametrize("top_paths", [0, 3])
def test_top_paths_outside_beam_is_invalid_argument(top_paths):
    with pytest.raises(tf.errors.InvalidArgumentError, match="top_paths"):
        tf.nn.ctc_beam_search_decoder(tf.zeros((3, 1, 3)), [3], beam_width=2,
                                      top_paths=top_paths)
