"""Round 19 tf.function gaps, each probed against TF 2.21: inner functions traced
once for a caller's relaxed shapes and not re-run by the variable-check retrace;
functions loaded from a SavedModel accept only the saved traces; an unused
out-of-range gather in a function raises nothing (TF prunes it); Keras builds
``i % 0`` on an int symbolic input."""

import numpy as np
import pytest

import dlframe as tf

# --- 3. inner tf.functions ----------------------------------------------------------


def test_inner_function_traced_once_for_callers_none_dims():
    calls = []

    @tf.function
    def inner(x):
        calls.append(x.shape.as_list())
        return x + 1.0

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def outer(x):
        return inner(x)

    for n in (1, 2, 3):
        np.testing.assert_allclose(outer(tf.ones([n])).numpy(), np.full(n, 2.0))
    # TF 2.21: inner sees x as (None,): one trace serves every size
    assert calls[0] == [None]
    assert inner.experimental_get_tracing_count() == 1


def test_variable_check_retrace_reuses_inner_results():
    calls = []

    @tf.function
    def inner(x, w):
        calls.append(1)
        return tf.matmul(x, w), tf.reduce_sum(x)

    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = None
            self.total = tf.Variable(0.0)

        @tf.function
        def __call__(self, x):
            if self.w is None:
                self.w = tf.Variable(tf.ones([3, 2]))
            y, s = inner(x, self.w)
            self.total.assign_add(s)
            if tf.reduce_sum(y) > 0:
                y = y + 1.0
            return y

    layer = Dense()
    x = np.arange(12, dtype="float32").reshape(4, 3)
    for step in (1, 2):
        out = layer(tf.constant(x))
        np.testing.assert_allclose(out.numpy(), x @ np.ones([3, 2]) + 1.0)
        assert float(layer.total.numpy()) == pytest.approx(step * x.sum())
    # TF 2.21: the outer function traces twice (variables), inner's body runs once
    assert layer.__call__.experimental_get_tracing_count() == 2
    assert len(calls) == 1 and inner.experimental_get_tracing_count() == 1


# --- 2. functions loaded from a SavedModel ------------------------------------------


class _Scaler(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable(2.0)

    @tf.function
    def scale(self, x, training=False):
        return x * self.v if training else x

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def row_sums(self, x):
        return tf.reduce_sum(x * self.v, axis=1)


def test_loaded_function_accepts_only_saved_traces(tmp_path):
    module = _Scaler()
    module.scale(tf.ones([2]), training=True)
    module.scale(tf.ones([2]))
    module.plain = tf.function(lambda x: x - 1.0)
    module.plain(tf.constant(1.0))
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    np.testing.assert_allclose(loaded.scale(tf.ones([2]), training=True).numpy(), [2, 2])
    np.testing.assert_allclose(loaded.scale(tf.ones([2])).numpy(), [1, 1])
    assert float(loaded.plain(tf.constant(3.0))) == 2.0
    # TF 2.21: ValueError "Could not find matching concrete function to call loaded
    # from the SavedModel" (a new shape, dtype, Python float or Python value)
    bad_calls = [lambda: loaded.scale(tf.ones([3]), training=True),
                 lambda: loaded.scale(tf.ones([2], tf.int32)),
                 lambda: loaded.scale(2.0),
                 lambda: loaded.plain(tf.ones([2]))]
    for bad in bad_calls:
        with pytest.raises(ValueError, match="Could not find matching concrete") as info:
            bad()
        assert "Option 1:" in str(info.value)
    # a saved signature with None dims takes every size; others fail as TF binds
    np.testing.assert_allclose(loaded.row_sums(tf.ones([5, 3])).numpy(), np.full(5, 6))
    np.testing.assert_allclose(loaded.row_sums(tf.ones([1, 3])).numpy(), [6])
    with pytest.raises(TypeError):
        loaded.row_sums(tf.ones([5, 4]))
    # the original module keeps tracing new shapes
    np.testing.assert_allclose(module.scale(tf.ones([3]), training=True).numpy(),
                               [2, 2, 2])


def test_loaded_function_keeps_a_general_concrete_function(tmp_path):
    module = _Scaler()
    module.scale(tf.constant(1.0))   # a scalar trace, then an unknown-rank spec
    module.scale.get_concrete_function(tf.TensorSpec(None, tf.float32))
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    np.testing.assert_allclose(loaded.scale(tf.ones([2, 2])).numpy(), np.ones([2, 2]))


# --- 4. unused results of failing pure ops -------------------------------------------


def test_unused_out_of_range_gather_and_slice_do_not_raise():
    @tf.function
    def unused(x, i):
        tf.gather(x, 10)
        _ = x[i]
        return x + 1.0

    np.testing.assert_allclose(unused(tf.ones([3]), tf.constant(5)).numpy(), [2, 2, 2])
    # the replayed graph has pruned them too
    np.testing.assert_allclose(unused(tf.ones([3]), tf.constant(7)).numpy(), [2, 2, 2])


@pytest.mark.usefixtures("on_cpu")
def test_used_out_of_range_gather_still_raises():
    @tf.function
    def used(x, i):
        y = tf.gather(x, i)
        return y * 2.0

    np.testing.assert_allclose(used(tf.ones([3]), tf.constant(1)).numpy(), 2.0)
    for _ in range(2):   # the trace's run, then the graph's replay
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
            used(tf.ones([3]), tf.constant(9))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        tf.function(lambda x: tf.gather(x, 4) + 1.0)(tf.ones([3]))


@pytest.mark.usefixtures("on_cpu")
def test_out_of_range_gather_feeding_an_effect_raises_before_it():
    v = tf.Variable([1.0, 1.0])

    @tf.function
    def assign(x):
        v.assign(tf.gather(x, [0, 9]))
        return x

    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        assign(tf.constant([5.0, 6.0, 7.0]))
    np.testing.assert_allclose(v.numpy(), [1.0, 1.0])   # no stand-in was written

    @tf.function
    def checked(x):
        tf.debugging.assert_equal(x, 0.0)   # asserts stay effects, as in TF
        return x

    with pytest.raises(tf.errors.InvalidArgumentError):
        checked(tf.ones([3]))


@pytest.mark.usefixtures("on_cpu")
def test_deferred_gather_in_get_concrete_function_raises_when_run():
    @tf.function
    def pick(x):
        return tf.gather(x, 3)

    # TF 2.21: tracing (nothing runs) succeeds; running the graph raises
    concrete = pick.get_concrete_function(tf.TensorSpec([3], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError):
        concrete(tf.ones([3]))


# --- 5. Keras int modulo by zero ------------------------------------------------------


def test_keras_int_input_modulo_by_zero_builds_and_raises_when_called():
    inp = tf.keras.Input(shape=(3,), dtype="int32")
    out = inp % 0   # TF 2.21 builds this; the call raises
    assert out.shape.as_list() == [None, 3] and out.dtype == "int32"
    floor = inp // 0
    assert floor.shape.as_list() == [None, 3]
    model = tf.keras.Model(inp, out)
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        model(np.array([[1, -2, 3]], "int32"))
    # integer division checks stay on after the build
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant([1, 2]) % 0
