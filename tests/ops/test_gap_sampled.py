"""tf.nn sparse embedding lookups, sampled_softmax_loss / nce_loss and the tf.random
candidate samplers.

Expected values marked "TF 2.21" were recorded from TensorFlow 2.21 on the same inputs.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_function_matches_eager, check_grad

PARAMS = np.arange(15, dtype=np.float32).reshape(5, 3)
IDX = [[0, 0], [0, 1], [2, 0], [2, 1], [2, 2]]
IDS = [1, 3, 0, 4, 4]
WEIGHTS = [1., 2., 0.5, 1., 3.]


def _ids(ids=IDS, idx=IDX, shape=(4, 3)):
    return tf.SparseTensor(idx, tf.constant(ids, tf.int64), list(shape))


def _lookup_ref(params, ids, weights, combiner):
    rows = {}
    for (r, _), i, w in zip(IDX, ids, weights):
        rows.setdefault(r, []).append((params[i], w))
    out = np.zeros((max(rows) + 1, params.shape[1]))
    for r, items in rows.items():
        total = sum(w * e for e, w in items)
        ws = np.array([w for _, w in items])
        out[r] = {"sum": total, "mean": total / ws.sum(),
                  "sqrtn": total / np.sqrt((ws ** 2).sum())}[combiner]
    return out


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_embedding_lookup_sparse_matches_reference(combiner):
    sp_w = tf.SparseTensor(IDX, WEIGHTS, [4, 3])
    got = tf.nn.embedding_lookup_sparse(PARAMS, _ids(), sp_w, combiner=combiner)
    # rows up to the last one holding ids, as TF 2.21 ([3, 3] here, not [4, 3])
    assert tuple(got.shape) == (3, 3)
    np.testing.assert_allclose(got.numpy(), _lookup_ref(PARAMS, IDS, WEIGHTS, combiner),
                               rtol=1e-6)
    unweighted = tf.nn.embedding_lookup_sparse(PARAMS, _ids(), None, combiner=combiner)
    np.testing.assert_allclose(unweighted.numpy(),
                               _lookup_ref(PARAMS, IDS, [1.0] * 5, combiner), rtol=1e-6)


def test_embedding_lookup_sparse_tf_values_and_gradient():
    # TF 2.21: max_norm clips each embedding before the (default mean) combine
    got = tf.nn.embedding_lookup_sparse(PARAMS, _ids(), None, max_norm=5.0).numpy()
    np.testing.assert_allclose(got[2], [1.7729690074920654, 2.254049777984619,
                                        2.7351303100585938], rtol=1e-6)
    with pytest.raises(ValueError, match="combiner"):
        tf.nn.embedding_lookup_sparse(PARAMS, _ids(), None, combiner="max")

    def fn(params, weights):
        return tf.nn.embedding_lookup_sparse(params, _ids(), tf.SparseTensor(
            IDX, weights, [4, 3]), combiner="sqrtn")

    args = [PARAMS.astype(np.float64) / 7, np.array(WEIGHTS)]
    check_grad(fn, args)
    check_function_matches_eager(fn, args)


def test_safe_embedding_lookup_sparse():
    idx3 = [[0, 0, 0], [0, 1, 1], [1, 0, 0], [1, 1, 0]]
    ids3 = _ids([2, -1, 4, 1], idx3, (2, 2, 2))
    w3 = tf.SparseTensor(idx3, [1., 5., 0., 2.], [2, 2, 2])
    # TF 2.21: invalid ids are dropped, emptied rows are zeros (or default_id); a sum
    # keeps entries of weight 0
    assert tf.nn.safe_embedding_lookup_sparse(PARAMS, ids3, w3).numpy().tolist() == [
        [[6., 7., 8.], [0., 0., 0.]], [[0., 0., 0.], [3., 4., 5.]]]
    assert tf.nn.safe_embedding_lookup_sparse(
        PARAMS, ids3, w3, default_id=3, combiner="sum").numpy().tolist() == [
        [[6., 7., 8.], [9., 10., 11.]], [[0., 0., 0.], [6., 8., 10.]]]
    got = tf.nn.safe_embedding_lookup_sparse(PARAMS, _ids(), None, combiner="sqrtn")
    assert tuple(got.shape) == (4, 3)      # every row of the dense shape
    np.testing.assert_allclose(got.numpy()[:3],
                               _lookup_ref(PARAMS, IDS, [1.0] * 5, "sqrtn"), rtol=1e-6)


# ---------------------------------------------------------------- candidate samplers
SAMPLERS = {
    "log_uniform": (tf.random.log_uniform_candidate_sampler, {},
                    lambda k: np.log((k + 2) / (k + 1)) / np.log(11)),
    "uniform": (tf.random.uniform_candidate_sampler, {}, lambda k: np.full(k.shape, 0.1)),
    "unigram": (tf.random.fixed_unigram_candidate_sampler,
                {"unigrams": list(range(1, 11)), "distortion": 0.5},
                lambda k: np.sqrt(k + 1) / np.sqrt(np.arange(1, 11)).sum()),
}


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
@pytest.mark.parametrize("unique", [True, False])
def test_candidate_samplers(kind, unique):
    sampler, extra, prob = SAMPLERS[kind]
    true_classes = tf.constant([[1, 2], [0, 7]], tf.int64)
    tf.random.set_seed(3)
    sampled, true_exp, sampled_exp = sampler(true_classes, 2, 5, unique, 10, seed=1,
                                             **extra)
    assert (sampled.dtype, true_exp.dtype, sampled_exp.dtype) == (
        tf.int64, tf.float32, tf.float32)
    assert tuple(true_exp.shape) == (2, 2) and tuple(sampled_exp.shape) == (5,)
    s = sampled.numpy()
    assert ((s >= 0) & (s < 10)).all()
    p_true, p_sampled = prob(np.array([[1, 2], [0, 7]])), prob(s)
    if unique:
        assert len(set(s.tolist())) == 5
        # expected counts are P(in sample) after some number of draws >= 5
        tries = np.log1p(-sampled_exp.numpy()) / np.log1p(-p_sampled)
        if not np.allclose(sampled_exp.numpy(), 5 * p_sampled, rtol=1e-5):
            assert np.allclose(tries, np.round(tries[0]), rtol=1e-4) and tries[0] > 5
    else:   # TF 2.21: without `unique` the expected count is num_sampled * P(class)
        np.testing.assert_allclose(true_exp.numpy(), 5 * p_true, rtol=1e-5)
        np.testing.assert_allclose(sampled_exp.numpy(), 5 * p_sampled, rtol=1e-5)
    tf.random.set_seed(3)
    again = sampler(true_classes, 2, 5, unique, 10, seed=1, **extra)[0]
    assert again.numpy().tolist() == s.tolist()


def test_candidate_sampler_distribution_and_errors():
    tf.random.set_seed(0)
    draws = tf.random.log_uniform_candidate_sampler(
        tf.constant([[0]], tf.int64), 1, 20000, False, 10, seed=5)[0].numpy()
    freq = np.bincount(draws, minlength=10) / draws.size
    np.testing.assert_allclose(freq, np.log((np.arange(10) + 2) / (np.arange(10) + 1))
                               / np.log(11), atol=0.012)
    with pytest.raises(tf.errors.InvalidArgumentError, match="range"):
        tf.random.uniform_candidate_sampler(tf.constant([[0]], tf.int64), 1, 5, True, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="true_classes"):
        tf.random.uniform_candidate_sampler(tf.constant([[0, 1]], tf.int64), 1, 2, True,
                                            3)


# ---------------------------------------------------------------- sampled losses
def _loss_case():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 4)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    labels = np.array([[1, 4], [0, 7], [4, 2]], np.int64)
    sampled = (np.array([4, 5, 9]), np.array([[0.3, 0.2], [0.5, 0.1], [0.3, 0.25]]),
               np.array([0.3, 0.15, 0.05]))
    return w, b, x, labels, sampled


def _loss_ref(w, b, x, labels, sampled, kind, remove_hits):
    cand, true_exp, samp_exp = sampled
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels] - np.log(true_exp)
    samp_logits = x @ w[cand].T + b[cand] - np.log(samp_exp)
    if remove_hits:
        hits = (labels[:, :, None] == cand[None, None, :]).any(axis=1)
        samp_logits = np.where(hits, -np.inf, samp_logits)
    logits = np.concatenate([true_logits, samp_logits], 1)
    targets = np.concatenate([np.full(true_logits.shape, 1 / labels.shape[1]),
                              np.zeros(samp_logits.shape)], 1)
    if kind == "softmax":
        top = logits.max(1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(1, keepdims=True))
        return -(targets * np.where(np.isinf(logp), 0, logp)).sum(1)
    finite = np.where(np.isinf(logits), -1e30, logits)
    per = np.maximum(finite, 0) - finite * targets + np.log1p(np.exp(-np.abs(finite)))
    return per.sum(1)


@pytest.mark.parametrize("kind,remove_hits,tf_values", [
    # TF 2.21
    ("softmax", True, [2.6451940536499023, 4.667128086090088, 2.081181526184082]),
    ("softmax", False, [2.6923179626464844, 4.667128086090088, 2.100578546524048]),
    ("nce", False, [11.253571510314941, 14.735254287719727, 8.61320686340332]),
    ("nce", True, [8.82282543182373, 14.735254287719727, 7.3556413650512695]),
])
def test_sampled_losses_match_reference_and_tf(kind, remove_hits, tf_values):
    w, b, x, labels, sampled = _loss_case()
    fn = tf.nn.sampled_softmax_loss if kind == "softmax" else tf.nn.nce_loss
    got = fn(w, b, labels, x, 3, 10, num_true=2, sampled_values=sampled,
             remove_accidental_hits=remove_hits)
    assert tuple(got.shape) == (3,)
    np.testing.assert_allclose(got.numpy(), tf_values, rtol=1e-5)
    np.testing.assert_allclose(got.numpy(), _loss_ref(w, b, x, labels, sampled, kind,
                                                      remove_hits), rtol=1e-5)


def test_sampled_softmax_gradients():
    w, b, x, labels, sampled = _loss_case()
    # TF 2.21: gradient w.r.t. inputs of sum(sampled_softmax_loss)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(tf.nn.sampled_softmax_loss(
            w, b, labels, xt, 3, 10, num_true=2, sampled_values=sampled))
    np.testing.assert_allclose(tape.gradient(loss, xt).numpy()[1],
                               [-0.45762, -0.12359, 0.75594, 1.34312], atol=2e-5)

    def fn(weights, biases, inputs):
        return (tf.nn.sampled_softmax_loss(weights, biases, labels, inputs, 3, 10,
                                           num_true=2, sampled_values=sampled,
                                           remove_accidental_hits=False),
                tf.nn.nce_loss(weights, biases, labels, inputs, 3, 10, num_true=2,
                               sampled_values=sampled))

    args = [w.astype(np.float64), b.astype(np.float64), x.astype(np.float64)]
    check_grad(fn, args, rtol=1e-5, atol=1e-7)
    check_function_matches_eager(fn, args)


def test_sampled_softmax_default_sampler_trains():
    """With the default log-uniform sampler the loss drives a tiny model to the
    right class."""
    tf.random.set_seed(0)
    rng = np.random.default_rng(1)
    w = tf.Variable(rng.standard_normal((50, 8)) * 0.1, dtype=tf.float32)
    b = tf.Variable(np.zeros(50), dtype=tf.float32)
    x = tf.constant(rng.standard_normal((16, 8)), tf.float32)
    labels = tf.constant((np.arange(16) * 3 % 50).reshape(-1, 1), tf.int64)
    opt = tf.keras.optimizers.SGD(0.5)
    for _ in range(150):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(w, b, labels, x, 10, 50,
                                                             seed=7))
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    full = tf.matmul(x, w, transpose_b=True) + b
    accuracy = np.mean(np.argmax(full.numpy(), 1) == labels.numpy()[:, 0])
    assert accuracy > 0.9
