"""IoU metric family and correlation metrics (expected numbers from TF 2.21 where
noted, otherwise NumPy references)."""

import numpy as np
import pytest

import dlframe as tf

M = tf.keras.metrics


def _result(metric, *args, **kwargs):
    metric.update_state(*args, **kwargs)
    return float(metric.result().numpy())


def test_iou_family_matches_tf():
    yt, yp = [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]
    assert _result(M.IoU(3, [0, 2], ignore_class=1), yt, yp) == pytest.approx(0.75)
    assert _result(M.MeanIoU(4), yt, yp) == pytest.approx(0.5555555)
    assert _result(M.IoU(3, [0, 2]), yt, [0.2, 1.7, 2.0, 1, 1]) == pytest.approx(0.75)
    assert _result(M.BinaryIoU(), [0, 1, 1, 0], [0.5, 0.2, 0.5, 0.9]) == \
        pytest.approx(0.125)
    assert _result(M.BinaryIoU([1], 0.5), [0, 1, 1, 0], [0.5, 0.2, 0.5, 0.5]) == \
        pytest.approx(0.25)   # a score equal to the threshold predicts 1
    assert _result(M.BinaryIoU([1], 0.3), [[0, 1], [1, 0]], [[0.5, 0.2], [0.5, 0.1]],
                   sample_weight=[[1, 2], [3, 4]]) == pytest.approx(0.5)
    onehot = np.eye(3)[[0, 1, 2, 2]]
    scores = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .6, .3], [.1, .1, .8]])
    assert _result(M.OneHotIoU(3, [1, 2]), onehot, scores) == pytest.approx(0.5)
    assert _result(M.OneHotMeanIoU(3), onehot, scores) == pytest.approx(2 / 3)
    assert _result(M.OneHotMeanIoU(3, sparse_y_pred=True), onehot, [0, 1, 1, 2]) == \
        pytest.approx(2 / 3)


def test_iou_weights_accumulate_and_reset():
    m = M.IoU(3, [0, 2])
    m.update_state([0, 2], [0, 2], sample_weight=[1.0, 0.5])
    m.update_state([2], [1])
    # class 2: tp 0.5, row 1.5, column 0.5 -> 0.5 / 1.5; class 0: 1
    assert float(m.result()) == pytest.approx((1 + 0.5 / 1.5) / 2)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_iou_configs_round_trip():
    for metric in (M.IoU(3, [0, 2]), M.MeanIoU(3), M.BinaryIoU(threshold=0.3),
                   M.OneHotIoU(3, [1]), M.OneHotMeanIoU(3)):
        config = metric.get_config()
        clone = type(metric).from_config(config)
        assert clone.get_config() == config
    assert "target_class_ids" not in M.MeanIoU(3).get_config()
    assert M.BinaryIoU().get_config()["target_class_ids"] == [0, 1]
    with pytest.raises(ValueError, match="out of range"):
        M.IoU(3, [5])


def _pearson(a, b):
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    return (a * b).mean(-1) / (a.std(-1) * b.std(-1))


def _ccc(a, b):
    cov = ((a - a.mean(-1, keepdims=True)) * (b - b.mean(-1, keepdims=True))).mean(-1)
    return 2 * cov / (a.var(-1) + b.var(-1) + (a.mean(-1) - b.mean(-1)) ** 2 + 1e-7)


def test_correlations():
    rng = np.random.default_rng(0)
    yt, yp = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    np.testing.assert_allclose(M.pearson_correlation(yt, yp).numpy(), _pearson(yt, yp),
                               rtol=1e-6)
    np.testing.assert_allclose(M.concordance_correlation(yt, yp).numpy(), _ccc(yt, yp),
                               rtol=1e-6)
    np.testing.assert_allclose(M.pearson_correlation(yt, yp, axis=0).numpy(),
                               _pearson(yt.T, yp.T), rtol=1e-6)
    m = M.PearsonCorrelation()
    m.update_state(yt, yp)
    m.update_state(yt[:2], yp[:2], sample_weight=[2.0, 0.0])
    p = _pearson(yt, yp)
    assert float(m.result()) == pytest.approx((p.sum() + 2 * p[0]) / 7, rel=1e-5)
    # TF 2.21 values
    a = np.array([[1.0, 2, 3, 4], [2, 1, 0, 5]])
    b = np.array([[1.5, 2, 2.5, 5], [1, 1, 1, 1.2]])
    assert _result(M.ConcordanceCorrelation(), a, b) == pytest.approx(0.4740136, rel=1e-6)
    assert isinstance(M.get("PearsonCorrelation"), M.PearsonCorrelation)
    assert M.ConcordanceCorrelation(axis=0).get_config()["axis"] == 0
