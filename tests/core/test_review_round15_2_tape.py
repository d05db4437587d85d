"""GradientTape review fixes: a target that is itself a source, and calling
``gradient`` inside the tape's ``with`` block (expected values from TF 2.21)."""

import logging
import warnings

import numpy as np
import pytest

import dlframe as tf
from dlframe.core import tape as tape_module


def _values(grads):
    return [None if g is None else np.asarray(g).tolist() for g in grads]


def test_variable_target_is_its_own_gradient_even_unread():
    v0, v1 = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        result = v0
    assert _values(tape.gradient(result, [v0, v1])) == [1.0, None]   # TF 2.21
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        result = v0
    assert _values(tape.gradient(result, [v0, v1])) == [1.0, None]
    frozen = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        result = frozen
    assert _values(tape.gradient(result, [frozen])) == [1.0]
    with tf.GradientTape() as tape:
        pass
    assert _values(tape.gradient(v0, [v0, v1], unconnected_gradients="zero")) == [
        1.0, 0.0]


def test_tensor_target_is_its_own_gradient_watched_or_not():
    x, y = tf.constant([1.0, 2.0]), tf.constant(4.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        result = x
    assert _values(tape.gradient(result, [x, y])) == [[1.0, 1.0], None]
    with tf.GradientTape() as tape:
        result = x
    assert _values(tape.gradient(result, [x])) == [[1.0, 1.0]]
    with tf.GradientTape() as tape:
        pass
    g = tape.gradient(x, x, output_gradients=tf.constant([3.0, 4.0]))
    assert g.numpy().tolist() == [3.0, 4.0]


def test_list_of_targets_adds_seeds_and_recorded_paths():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
    # x * 2.0 is computed after the tape stopped: only x's own seed reaches x
    seeds = [tf.constant([1.0, 5.0]), tf.constant([10.0, 100.0])]
    g = tape.gradient([x, x * 2.0], [x], output_gradients=seeds)
    assert _values(g) == [[1.0, 5.0]]
    v0, v1 = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        r = v0 * 4.0
    assert _values(tape.gradient([v0, r], [v0, v1])) == [5.0, None]


def test_integer_target_that_is_the_source_gets_integer_ones():
    xi = tf.constant([1, 2])
    with tf.GradientTape() as tape, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tape.watch(xi)
    (g,) = tape.gradient(xi, [xi])
    assert g.dtype == tf.int32 and g.numpy().tolist() == [1, 1]   # TF 2.21


def test_non_persistent_gradient_inside_context_no_warning_and_stops_recording():
    x = tf.constant(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
            g = tape.gradient(y, x)
            # TF: the tape stopped recording at the gradient call
            with pytest.raises(ValueError, match="not recording"), \
                    tape.stop_recording():
                pass
    assert float(g) == 6.0
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_persistent_gradient_inside_context_records_backward_and_logs(caplog,
                                                                     monkeypatch):
    monkeypatch.setattr(tape_module, "_WARNED_INSIDE", set())
    x = tf.constant(2.0)
    with caplog.at_level(logging.WARNING, logger="dlframe"), \
            warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x ** 3
            dy = tape.gradient(y, x)
    assert float(dy) == 12.0
    logged = [r for r in caplog.records if "inside its context" in r.getMessage()]
    assert len(logged) == 1 and "persistent tape" in logged[0].getMessage()
    # the first derivative was recorded on the same tape: 6 x = 12 (TF 2.21)
    assert float(tape.gradient(dy, x)) == 12.0
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        jac = tape.jacobian(x ** 3, x)
    assert float(jac) == 12.0 and float(tape.gradient(jac, x)) == 12.0


def test_gradient_after_context_unchanged_and_function_matches():
    w = tf.Variable([1.0, -2.0])

    def step(a):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(w * a * a)
        return tape.gradient([loss, w], w)
    a = tf.constant([3.0, 0.5])
    eager = step(a).numpy()
    np.testing.assert_allclose(eager, [9.0 + 1.0, 0.25 + 1.0])
    np.testing.assert_allclose(tf.function(step)(a).numpy(), eager)
