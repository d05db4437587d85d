"""``tf.train.ExponentialMovingAverage``: TF's input checks (observed with TF 2.21)
and a checkpoint whose keys do not depend on object ids."""

import numpy as np
import pytest

import dlframe as tf


def test_integer_variable_is_rejected():
    ema = tf.train.ExponentialMovingAverage(0.9)
    with pytest.raises(TypeError, match="must be half, float, or double: v:0"):
        ema.apply([tf.Variable(1, name="v")])


def test_plain_tensor_is_rejected():
    ema = tf.train.ExponentialMovingAverage(0.9)
    with pytest.raises(TypeError, match="non-Variable tensors"):
        ema.apply([tf.constant(1.0)])


def test_rejected_list_creates_no_shadow():
    ema = tf.train.ExponentialMovingAverage(0.9)
    v = tf.Variable(1.0)
    with pytest.raises(TypeError):
        ema.apply([v, tf.Variable(1)])
    assert ema.average(v) is None


def _averaged(values):
    v = tf.Variable(0.0)
    w = tf.Variable([0.0, 0.0])
    ema = tf.train.ExponentialMovingAverage(0.5)
    for a in values:
        v.assign(a)
        w.assign([a, 2 * a])
        ema.apply([v, w])
    return v, w, ema


def test_checkpoint_restores_averages_into_a_fresh_object(tmp_path):
    v, w, ema = _averaged([1.0, 3.0, 5.0])
    # 1 -> 0.5*1 + 0.5*3 = 2 -> 0.5*2 + 0.5*5 = 3.5
    assert float(ema.average(v)) == pytest.approx(3.5)
    path = tf.train.Checkpoint(ema=ema).save(str(tmp_path / "ema"))
    names = sorted(n for n, _ in tf.train.list_variables(path) if "OBJECT" not in n)
    assert names == ["ema/averages/0/.ATTRIBUTES/VARIABLE_VALUE",
                     "ema/averages/1/.ATTRIBUTES/VARIABLE_VALUE",
                     "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    v2, w2, ema2 = _averaged([9.0])   # shadows created, holding 9 and [9, 18]
    tf.train.Checkpoint(ema=ema2).restore(path).assert_consumed()
    assert float(ema2.average(v2)) == pytest.approx(3.5)
    np.testing.assert_allclose(ema2.average(w2).numpy(), [3.5, 7.0])
