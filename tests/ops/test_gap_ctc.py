"""tf.nn.ctc_loss / decoders and the Keras CTC helpers (DESIGN.md §8)."""

import itertools

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad


def _brute_ctc(logits, labels, blank):
    """-log sum over every frame path that collapses to ``labels`` (tiny sizes only)."""
    t_len, k = logits.shape
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(k), repeat=t_len):
        out, prev = [], None
        for c in path:
            if c != blank and c != prev:
                out.append(c)
            prev = c
        if out == list(labels):
            total += np.exp(sum(logp[i, c] for i, c in enumerate(path)))
    return -np.log(total)


def _case():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 3, 4))
    labels = np.array([[1, 2, 0], [3, 3, 0], [2, 0, 0]], dtype=np.int32)
    return logits, labels, np.array([2, 2, 1]), np.array([5, 5, 4])


@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss_matches_enumeration(blank):
    logits, labels, label_len, logit_len = _case()
    if blank == 3:
        labels = np.where(labels == 3, 1, labels)
    got = tf.nn.ctc_loss(labels, tf.constant(logits), label_len, logit_len,
                         blank_index=blank).numpy()
    want = [_brute_ctc(logits[:logit_len[b], b], labels[b, :label_len[b]], blank)
            for b in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_ctc_loss_batch_major_and_negative_blank():
    logits, labels, label_len, logit_len = _case()
    labels = np.where(labels == 3, 1, labels)
    a = tf.nn.ctc_loss(labels, tf.constant(logits), label_len, logit_len, blank_index=-1)
    b = tf.nn.ctc_loss(labels, tf.constant(logits.transpose(1, 0, 2)), label_len,
                       logit_len, logits_time_major=False, blank_index=3)
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_ctc_loss_gradient_and_function():
    logits, labels, label_len, logit_len = _case()

    def fn(x):
        return tf.nn.ctc_loss(labels, x, label_len, logit_len)
    check_grad(fn, [logits], rtol=1e-5, atol=1e-7)
    check_function_matches_eager(fn, [logits])


def test_ctc_loss_values_from_tf():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 3, 5)).astype("float32")
    labels = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 4]], dtype="int32")
    loss = tf.nn.ctc_loss(labels, logits, [3, 2, 4], [6, 5, 6]).numpy()
    # TF 2.21: [8.255633, 5.2158136, ~712.8]; the infeasible last row is inf here
    np.testing.assert_allclose(loss[:2], [8.255633, 5.2158136], rtol=1e-6)
    assert np.isinf(loss[2])
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.nn.ctc_loss(labels, x, [3, 2, 4], [6, 5, 6]))
    grad = tape.gradient(total, x).numpy()
    assert np.all(grad[5, 1] == 0) and np.all(grad[:, 2] == 0)   # past length / infeasible
    np.testing.assert_allclose(grad[0, 0], [-0.07931, -0.56194, 0.3386, 0.1982, 0.10445],
                               atol=1e-5)


def test_ctc_loss_sparse_labels_and_errors():
    logits, labels, label_len, logit_len = _case()
    sp = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]], [1, 2, 3, 3, 2], [3, 3])
    a = tf.nn.ctc_loss(sp, tf.constant(logits), None, logit_len, blank_index=0)
    b = tf.nn.ctc_loss(labels, tf.constant(logits), label_len, logit_len)
    np.testing.assert_allclose(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="label_length"):
        tf.nn.ctc_loss(labels, tf.constant(logits), [1, 2], logit_len)
    with pytest.raises(ValueError, match="blank_index"):
        tf.nn.ctc_loss(labels, tf.constant(logits), label_len, logit_len, blank_index=9)


def _decoder_case():
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 3, 5)).astype("float32"), np.array([6, 5, 6])


def test_greedy_decoder_matches_tf():
    x, lengths = _decoder_case()
    (st,), neg = tf.nn.ctc_greedy_decoder(x, lengths)
    assert st.values.numpy().tolist() == [2, 3, 2, 1, 3, 1, 1, 1, 2]   # TF 2.21
    assert st.dense_shape.numpy().tolist() == [3, 3]
    np.testing.assert_allclose(neg.numpy().ravel(),
                               [-x[:n, b].max(-1).sum() for b, n in enumerate(lengths)],
                               rtol=1e-6)
    (st,), _ = tf.nn.ctc_greedy_decoder(x, lengths, merge_repeated=False, blank_index=0)
    assert st.dense_shape.numpy().tolist() == [3, 6]


def test_beam_search_decoder_matches_tf():
    x, lengths = _decoder_case()
    decoded, logp = tf.nn.ctc_beam_search_decoder(x, lengths, beam_width=10, top_paths=3)
    assert decoded[0].values.numpy().tolist() == [2, 3, 2, 1, 3, 1, 3, 1, 2]   # TF 2.21
    assert decoded[1].values.numpy().tolist() == [3, 2, 1, 3, 2, 1, 2]
    np.testing.assert_allclose(logp.numpy()[0], [-2.7101145, -3.2513824, -3.2865038],
                               rtol=1e-5)


def test_keras_backend_ctc():
    x, lengths = _decoder_case()
    probs = tf.nn.softmax(tf.transpose(tf.constant(x), [1, 0, 2]))
    cost = tf.keras.backend.ctc_batch_cost(np.array([[1, 2, 2, 0], [3, 1, 0, 0]]),
                                           probs[:2], lengths[:2, None], [[3], [2]])
    np.testing.assert_allclose(cost.numpy().ravel(), [5.5070143, 5.9287143], rtol=1e-5)
    dense, logp = tf.keras.backend.ctc_decode(probs, lengths)
    assert dense[0].numpy().tolist()[0] == [2, 3, 2, -1, -1, -1]
    np.testing.assert_allclose(logp.numpy().ravel(), [4.9297705, 4.2277718, 5.752788],
                               rtol=1e-5)
    dense, _ = tf.keras.backend.ctc_decode(probs, lengths, greedy=False, beam_width=5,
                                           top_paths=2)
    assert dense[1].numpy().tolist()[0] == [3, 2, -1, -1, -1, -1]
