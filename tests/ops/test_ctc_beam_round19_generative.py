"""tf.nn.ctc_beam_search_decoder follows TF's beam search step for step (round 19).

The expected paths and log-probabilities came from TF 2.21. They are cases where a
textbook prefix beam search (which merges every candidate, then keeps the best
``beam_width``) picks other beams than TF. TF's beam admits each extension only if it
beats the cheapest kept prefix, evicts that prefix at once, and forgets evicted prefixes.
"""

import numpy as np
import pytest

import dlframe as tf


def _case(seed):
    rs = np.random.RandomState(seed)
    n_time, n_class = rs.randint(1, 9), rs.randint(2, 6)
    width = rs.randint(1, 7)
    top = rs.randint(1, width + 1)
    logits = (rs.randn(n_time, 1, n_class) * 2).astype("float32")
    return logits, n_time, width, top


@pytest.mark.parametrize("seed, paths, log_probs", [
    (37, [[2, 0, 2, 3, 0], [2, 1, 0, 2, 3, 0], [3, 0, 2, 3, 0], [2, 3, 0, 2, 3, 0]],
     [-2.1352415, -2.5574102, -2.9270127, -3.2733457]),
    (92, [[2, 0], [0], [0, 0]], [-0.4911773, -2.477777, -3.042779]),
    (106, [[2, 1, 0, 2], [2, 1, 2]], [-3.0310488, -3.1559494]),
])
def test_beam_search_matches_tf_where_textbook_search_differs(seed, paths, log_probs):
    logits, n_time, width, top = _case(seed)
    decoded, logp = tf.nn.ctc_beam_search_decoder(tf.constant(logits), [n_time],
                                                  beam_width=width, top_paths=top)
    assert [d.values.numpy().tolist() for d in decoded] == paths
    np.testing.assert_allclose(logp.numpy()[0], log_probs, rtol=1e-5)


def test_beam_search_batch_with_lengths_matches_tf():
    logits = np.random.RandomState(2).randn(6, 2, 5).astype("float32")
    decoded, logp = tf.nn.ctc_beam_search_decoder(tf.constant(logits),
                                                  tf.constant([6, 5]), beam_width=5,
                                                  top_paths=2)
    dense = [tf.sparse.to_dense(d).numpy().tolist() for d in decoded]
    assert dense == [[[3, 1, 3], [1, 2, 0]], [[3, 1, 3, 0], [1, 2, 0, 1]]]   # TF 2.21
    np.testing.assert_allclose(logp.numpy(), [[-3.3251848, -3.4458923],
                                              [-3.161118, -3.202525]], rtol=1e-5)


def test_beam_search_wide_beam_finds_most_probable_labelling():
    # With a wide beam nothing is pruned: the best path's score is the exact
    # probability of its labelling, i.e. minus its CTC loss.
    logits = np.random.RandomState(2).randn(6, 2, 5).astype("float32")
    logits = tf.constant(logits[:, :1])
    decoded, logp = tf.nn.ctc_beam_search_decoder(logits, [6], beam_width=200)
    labels = decoded[0].values.numpy()
    assert labels.tolist() == [3, 1, 3]
    loss = tf.nn.ctc_loss(tf.constant([labels]), logits, [3], [6], blank_index=-1)
    np.testing.assert_allclose(logp.numpy()[0, 0], -loss.numpy()[0], rtol=1e-5)


def test_beam_search_too_few_leaves_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Less leaves"):
        tf.nn.ctc_beam_search_decoder(tf.zeros((1, 1, 2)), [1], beam_width=4,
                                      top_paths=3)
