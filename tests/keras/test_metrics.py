"""Every metric equals a NumPy reference (with sample weights), accumulates over
batches and resets."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import metrics

RNG = np.random.default_rng(2)
N, C = 12, 5
LABELS = RNG.integers(0, C, size=(N,))
ONEHOT = np.eye(C, dtype=np.float32)[LABELS]
SCORES = RNG.uniform(size=(N, C)).astype(np.float32)
BIN_T = RNG.integers(0, 2, size=(N, 1)).astype(np.float32)
PROB = RNG.uniform(size=(N, 1)).astype(np.float32)
REG_T = RNG.normal(size=(N, 3)).astype(np.float32)
REG_P = RNG.normal(size=(N, 3)).astype(np.float32)
SW = RNG.uniform(0, 2, size=(N,)).astype(np.float32)


def _wmean(per, w=None):
    return per.mean() if w is None else (per * w).sum() / w.sum()


def _topk(scores, labels, k):
    target = scores[np.arange(len(labels)), labels]
    return ((scores > target[:, None]).sum(-1) < k).astype(np.float64)


def _l2n(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))


PER_SAMPLE = {
    "accuracy": (metrics.Accuracy, LABELS, np.where(RNG.uniform(size=N) > .5, LABELS, 0),
                 lambda t, p: (t == p).astype(float)),
    "binary_accuracy": (metrics.BinaryAccuracy, BIN_T, PROB,
                        lambda t, p: ((p > 0.5) == t).mean(-1)),
    "categorical_accuracy": (metrics.CategoricalAccuracy, ONEHOT, SCORES,
                             lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype(float)),
    "sparse_categorical_accuracy": (metrics.SparseCategoricalAccuracy, LABELS, SCORES,
                                    lambda t, p: (t == p.argmax(-1)).astype(float)),
    "top_k": (lambda: metrics.TopKCategoricalAccuracy(k=2), ONEHOT, SCORES,
              lambda t, p: _topk(p, t.argmax(-1), 2)),
    "sparse_top_k": (lambda: metrics.SparseTopKCategoricalAccuracy(k=3), LABELS, SCORES,
                     lambda t, p: _topk(p, t, 3)),
    "mse": (metrics.MeanSquaredError, REG_T, REG_P, lambda t, p: ((t - p) ** 2).mean(-1)),
    "mae": (metrics.MeanAbsoluteError, REG_T, REG_P, lambda t, p: np.abs(t - p).mean(-1)),
    "cosine": (metrics.CosineSimilarity, REG_T, REG_P,
               lambda t, p: (_l2n(t) * _l2n(p)).sum(-1)),
}


@pytest.mark.parametrize("name", sorted(PER_SAMPLE))
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_metrics_match_numpy(name, weighted):
    make, t, p, ref = PER_SAMPLE[name]
    m = make()
    w = SW if weighted else None
    half = N // 2
    m.update_state(t[:half], p[:half], sample_weight=None if w is None else w[:half])
    m.update_state(tf.constant(t[half:]), tf.constant(p[half:]),
                   sample_weight=None if w is None else w[half:])
    np.testing.assert_allclose(m.result().numpy(), _wmean(ref(t, p), w), rtol=1e-5)
    m.reset_state()
    assert float(m.result().numpy()) == 0.0
    assert all(not v.trainable for v in m.variables)


def test_rmse():
    m = metrics.RootMeanSquaredError()
    m.update_state(REG_T, REG_P, sample_weight=SW)
    ref = np.sqrt(_wmean(((REG_T - REG_P) ** 2).mean(-1), SW))
    np.testing.assert_allclose(m.result().numpy(), ref, rtol=1e-5)


def test_mean_and_sum():
    vals = RNG.normal(size=(N,)).astype(np.float32)
    m, s = metrics.Mean(), metrics.Sum()
    m.update_state(vals, sample_weight=SW)
    s.update_state(vals, sample_weight=SW)
    np.testing.assert_allclose(m.result().numpy(), _wmean(vals, SW), rtol=1e-5)
    np.testing.assert_allclose(s.result().numpy(), (vals * SW).sum(), rtol=1e-5)
    m2 = metrics.Mean()
    assert abs(float(m2([1.0, 3.0]).numpy()) - 2.0) < 1e-7   # __call__ updates + returns
    m2.reset_states()
    assert float(m2.result().numpy()) == 0.0


def _counts(t, p, thr, w):
    w = np.ones(len(t)) if w is None else w
    t, p = t.ravel() > 0, p.ravel()
    out = []
    for th in thr:
        pr = p > th
        out.append([(w * (pr & t)).sum(), (w * (pr & ~t)).sum(), (w * (~pr & ~t)).sum(),
                    (w * (~pr & t)).sum()])
    return np.array(out)


@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_counts_precision_recall(weighted):
    w = SW if weighted else None
    thr = [0.3, 0.5, 0.8]
    ref = _counts(BIN_T, PROB, thr, w)
    for i, cls in enumerate([metrics.TruePositives, metrics.FalsePositives,
                             metrics.TrueNegatives, metrics.FalseNegatives]):
        m = cls(thresholds=thr)
        m.update_state(BIN_T, PROB, sample_weight=w)
        np.testing.assert_allclose(m.result().numpy(), ref[:, i], rtol=1e-5)
        single = cls()
        single.update_state(BIN_T, PROB, sample_weight=w)
        np.testing.assert_allclose(single.result().numpy(),
                                   _counts(BIN_T, PROB, [0.5], w)[0, i], rtol=1e-5)
    p, r = metrics.Precision(), metrics.Recall()
    p.update_state(BIN_T, PROB, sample_weight=w)
    r.update_state(BIN_T, PROB, sample_weight=w)
    tp, fp, _tn, fn = _counts(BIN_T, PROB, [0.5], w)[0]
    np.testing.assert_allclose(p.result().numpy(), tp / (tp + fp), rtol=1e-5)
    np.testing.assert_allclose(r.result().numpy(), tp / (tp + fn), rtol=1e-5)


def test_precision_top_k_and_class_id():
    p = metrics.Precision(top_k=2)
    p.update_state(ONEHOT, SCORES)
    in_top = np.argsort(-SCORES, axis=-1)[:, :2]
    tp = sum(ONEHOT[i, j] for i in range(N) for j in in_top[i])
    np.testing.assert_allclose(p.result().numpy(), tp / (2 * N), rtol=1e-5)
    r = metrics.Recall(class_id=1)
    r.update_state(ONEHOT, SCORES)
    t1, p1 = ONEHOT[:, 1] > 0, SCORES[:, 1] > 0.5
    np.testing.assert_allclose(r.result().numpy(), (t1 & p1).sum() / max(t1.sum(), 1),
                               rtol=1e-5)


def _auc_ref(t, p, w, num=200, curve="ROC"):
    eps = 1e-7
    thr = [0 - eps] + [(i + 1) / (num - 1) for i in range(num - 2)] + [1 + eps]
    tp, fp, tn, fn = _counts(t, p, thr, w).T
    rec = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    if curve == "ROC":
        x = np.divide(fp, fp + tn, out=np.zeros_like(fp), where=(fp + tn) > 0)
        y = rec
        return ((x[:-1] - x[1:]) * (y[:-1] + y[1:]) / 2).sum()
    # PR with Davis-Goadrich interpolation
    dtp = tp[:-1] - tp[1:]
    pp = tp + fp
    dp = pp[:-1] - pp[1:]
    slope = np.divide(dtp, np.maximum(dp, 0), out=np.zeros_like(dtp),
                      where=np.maximum(dp, 0) > 0)
    inter = tp[1:] - slope * pp[1:]
    ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0),
                     np.divide(pp[:-1], np.maximum(pp[1:], 0), out=np.ones_like(dp),
                               where=pp[1:] > 0), 1.0)
    den = np.maximum(tp[1:] + fn[1:], 0)
    num_ = slope * (dtp + inter * np.log(ratio))
    return np.divide(num_, den, out=np.zeros_like(num_), where=den > 0).sum()


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc(curve, weighted):
    w = SW if weighted else None
    m = metrics.AUC(curve=curve)
    m.update_state(BIN_T[:6], PROB[:6], sample_weight=None if w is None else w[:6])
    m.update_state(BIN_T[6:], PROB[6:], sample_weight=None if w is None else w[6:])
    np.testing.assert_allclose(m.result().numpy(), _auc_ref(BIN_T, PROB, w, curve=curve),
                               rtol=1e-4)
    # exact ROC AUC for well-separated thresholds: the rank statistic
    if curve == "ROC" and not weighted:
        t, p = BIN_T.ravel() > 0, PROB.ravel()
        pairs = [(a > b) + 0.5 * (a == b) for a in p[t] for b in p[~t]]
        np.testing.assert_allclose(m.result().numpy(), np.mean(pairs), atol=0.02)


def test_auc_multi_label_and_logits():
    t = (RNG.uniform(size=(N, 3)) > 0.5).astype(np.float32)
    logits = RNG.normal(size=(N, 3)).astype(np.float32)
    m = metrics.AUC(multi_label=True, from_logits=True)
    m.update_state(t, logits)
    probs = 1 / (1 + np.exp(-logits))
    ref = np.mean([_auc_ref(t[:, j], probs[:, j], None) for j in range(3)])
    np.testing.assert_allclose(m.result().numpy(), ref, rtol=1e-4)


def test_mean_iou():
    t = RNG.integers(0, 3, size=(20,))
    p = RNG.integers(0, 3, size=(20,))
    w = RNG.uniform(size=(20,)).astype(np.float32)
    m = metrics.MeanIoU(num_classes=3)
    m.update_state(t, p, sample_weight=w)
    cm = np.zeros((3, 3))
    for a, b, ww in zip(t, p, w):
        cm[a, b] += ww
    tp = np.diag(cm)
    iou = tp / (cm.sum(0) + cm.sum(1) - tp)
    np.testing.assert_allclose(m.result().numpy(), iou.mean(), rtol=1e-5)
    m2 = metrics.MeanIoU(num_classes=3, sparse_y_pred=False)
    m2.update_state(t, np.eye(3)[p])
    assert 0 <= float(m2.result().numpy()) <= 1


def test_custom_metric_with_add_weight():
    class Lottery(metrics.Metric):
        """Counts predictions that exactly hit the label."""

        def __init__(self, name="lottery", **kw):
            super().__init__(name=name, **kw)
            self.hits = self.add_weight(name="hits", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hit = tf.cast(tf.equal(tf.cast(y_true, tf.float32), y_pred), tf.float32)
            self.hits.assign_add(tf.reduce_sum(hit))

        def result(self):
            return self.hits

    m = Lottery()
    m.update_state([1.0, 2.0, 3.0], [1.0, 0.0, 3.0])
    assert float(m.result().numpy()) == 2.0
    assert len(m.variables) == 1 and m.variables[0].trainable is False
    m.reset_state()
    assert float(m.result().numpy()) == 0.0


def test_get_and_config():
    assert metrics.get("accuracy") is metrics.accuracy
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    m = metrics.TopKCategoricalAccuracy(k=3, name="top3")
    again = metrics.deserialize(metrics.serialize(m))
    assert isinstance(again, metrics.TopKCategoricalAccuracy)
    assert again.get_config()["k"] == 3 and again.name == "top3"
    with pytest.raises(ValueError, match="Unknown metric"):
        metrics.get("nonexistent")
