"""Op behaviours found by running the tensorflow.org actor-critic tutorial (round 16)
against TF 2.21: inside ``tf.function`` a loop body the run never enters, or a cond
branch it does not take, may index out of range with the values at hand while it is
traced (TF traces symbolically and checks indices only when the graph runs), and the
stacked TensorArray of a loop that calls ``tf.numpy_function`` keeps a run-time size.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe.errors import InvalidArgumentError

pytestmark = pytest.mark.filterwarnings("ignore:.*triggered tf.function retracing")


def _reverse_discounted(gamma):
    """The tutorial's ``get_expected_return`` without standardization."""

    def returns(rewards):
        n = tf.shape(rewards)[0]
        out = tf.TensorArray(dtype=tf.float32, size=n)
        rewards = tf.cast(rewards[::-1], dtype=tf.float32)
        discounted_sum = tf.constant(0.0)
        shape = discounted_sum.shape
        for i in tf.range(n):
            discounted_sum = rewards[i] + gamma * discounted_sum
            discounted_sum.set_shape(shape)
            out = out.write(i, discounted_sum)
        return out.stack()[::-1]
    return returns


def _numpy_returns(rewards, gamma):
    out, acc = [], 0.0
    for r in rewards[::-1]:
        acc = r + gamma * acc
        out.append(acc)
    return np.array(out[::-1], np.float32)


@pytest.mark.parametrize("rewards", [[], [1], [1, 2, 3], [3, 0, 1, 1, 2]])
def test_loop_indexing_inside_body_matches_eager_for_any_length(rewards):
    fn = _reverse_discounted(0.5)
    compiled = tf.function(fn)
    x = tf.constant(rewards, tf.int32)
    expected = _numpy_returns(np.array(rewards, np.float32), 0.5)
    np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(fn(x).numpy(), expected, rtol=1e-6)


def test_empty_input_traced_first_then_longer_inputs():
    # the first trace sees an empty tensor: the body's x[i] must not raise then
    compiled = tf.function(_reverse_discounted(0.9))
    assert compiled(tf.constant([], tf.int32)).numpy().shape == (0,)
    np.testing.assert_allclose(compiled(tf.constant([1, 2, 3])).numpy(),
                               _numpy_returns(np.array([1., 2., 3.]), 0.9), rtol=1e-6)


def test_untaken_cond_branch_may_index_out_of_range():
    @tf.function
    def safe_get(x, i):
        if i < tf.shape(x)[0]:
            return x[i]
        return tf.constant(-1.0)
    assert safe_get(tf.constant([1.0, 2.0]), tf.constant(3)).numpy() == -1.0
    assert safe_get(tf.constant([1.0, 2.0]), tf.constant(1)).numpy() == 2.0


def test_taken_branch_still_checks_indices_when_it_runs():
    @tf.function
    def get(x, i):
        if i >= 0:
            return x[i]
        return tf.constant(0.0)
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        get(tf.constant([1.0, 2.0]), tf.constant(5))
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        get(tf.constant([1.0, 2.0]), tf.constant(2))   # a second call: graph replay


def test_loop_gradient_through_indexing_of_empty_and_full_tensors():
    @tf.function
    def weighted(x):
        s = tf.constant(0.0)
        for i in tf.range(tf.shape(x)[0]):
            s = s + x[i] * tf.cast(i + 1, tf.float32)
        return s

    x = tf.Variable(np.zeros(0, np.float32), shape=tf.TensorShape([None]))
    assert float(weighted(x)) == 0.0   # traced first with nothing to index
    x.assign([1.0, 2.0, 4.0])
    with tf.GradientTape() as tape:
        y = weighted(x)
    assert float(y) == pytest.approx(17.0)
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(y, x)).numpy(),
                               [1.0, 2.0, 3.0])


def test_tensor_array_read_in_a_body_never_entered():
    @tf.function
    def first_rows(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=())
        total = tf.constant(0.0)
        for i in tf.range(n):
            total += ta.read(i)   # never read: the loop runs only when n > 0
        return total
    assert first_rows(tf.constant(0)).numpy() == 0.0


def _episode_fn(env_step, shaped=True):
    @tf.function
    def episode(max_steps, limit):
        rewards = tf.TensorArray(dtype=tf.int32, size=0, dynamic_size=True)
        for t in tf.range(max_steps):
            done = tf.numpy_function(env_step, [limit, t], tf.int32)
            if shaped:
                done.set_shape([])
            rewards = rewards.write(t, t + 1)
            if tf.cast(done, tf.bool):
                break
        rewards = rewards.stack()
        n = tf.shape(rewards)[0]
        returns = tf.TensorArray(dtype=tf.float32, size=n)
        for i in tf.range(n):
            returns = returns.write(i, tf.cast(rewards[i], tf.float32))
        return returns.stack() - tf.cast(rewards, tf.float32), n
    return episode


@pytest.mark.parametrize("shaped", [True, False])
def test_loop_with_numpy_function_keeps_a_run_time_length(shaped):
    calls = []

    def env_step(limit, t):
        calls.append(int(t))
        return np.array(t + 1 >= limit, np.int32)

    # unshaped results make the first trace run the body to shape them; its
    # probes share that run with the first real step (same inputs), so the
    # environment still steps once per played step
    episode = _episode_fn(env_step, shaped)
    for limit in (4, 7, 2):
        calls.clear()
        diff, n = episode(tf.constant(10), tf.constant(limit))
        assert int(n) == limit
        np.testing.assert_array_equal(diff.numpy(), np.zeros(limit, np.float32))
        assert calls == list(range(limit))   # the environment steps once per step


# ------------------------------------------------ concat / stack / add_n of one value
# (the video classification tutorial's ``tf.concat(model.predict(ds), axis=0)``);
# expected behaviours come from TF 2.21 runs
_A = np.arange(12, dtype=np.float32).reshape(4, 3)


@pytest.mark.parametrize("values, axis", [
    (_A, 0), (_A, 1), (np.arange(3), 0), (np.float32(3.0), 0), (np.zeros((0, 3)), 0),
    ([tf.constant(1.0)], 0), ([tf.constant(_A)], 5), (tf.constant(_A), -7)])
def test_concat_of_one_value_returns_it_unchanged(values, axis):
    out = tf.concat(values, axis=axis)
    expected = np.asarray(values[0] if isinstance(values, list) else values)
    assert out.dtype == tf.as_dtype(expected.dtype)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_concat_of_one_value_in_function_matches_eager():
    @tf.function
    def f(x):
        return tf.concat(x * 2.0, axis=0)
    np.testing.assert_array_equal(f(tf.constant(_A)).numpy(), _A * 2)


@pytest.mark.parametrize("values, axis, error", [
    # several values: TF's first call refuses the kernel attribute
    # (InvalidArgumentError), later ones its cached int32 conversion (TypeError)
    (_A, 0.5, TypeError), ([_A, _A], 0.5, (InvalidArgumentError, TypeError)),
    ([_A], [0], ValueError), ([_A], "0", TypeError),
    ([_A, _A], "0", (InvalidArgumentError, TypeError)),
    ([_A, _A], tf.constant(1.0), InvalidArgumentError)])
def test_concat_axis_must_be_an_integer_scalar(values, axis, error):
    with pytest.raises(error):
        tf.concat(values, axis)


def test_concat_axis_forms_tf_accepts():
    # TF 2.21 truncates NumPy float scalars and takes a one-element list with
    # several values
    assert tf.concat([_A, _A], np.float64(1.5)).shape == (4, 6)
    assert tf.concat([_A, _A], np.float32(0)).shape == (8, 3)
    assert tf.concat([_A, _A], [0]).shape == (8, 3)
    assert tf.concat([_A, _A], tf.constant(-1)).shape == (4, 6)


def test_concat_of_several_values_still_checks_and_joins():
    np.testing.assert_array_equal(tf.concat((_A, _A), 0).numpy(),
                                  np.concatenate([_A, _A]))
    with pytest.raises(InvalidArgumentError, match="scalars"):
        tf.concat([1.0, 2.0], 0)


def test_stack_of_a_numpy_array_along_axis_zero_is_the_array():
    np.testing.assert_array_equal(tf.stack(_A).numpy(), _A)
    out = tf.stack(np.arange(3))
    assert out.dtype == tf.int64 and out.shape == (3,)
    with pytest.raises(ValueError):
        tf.stack(_A, axis=1)   # TF refuses an unpacked array on other axes
    np.testing.assert_array_equal(tf.stack(tf.constant(_A), axis=1).numpy(), _A.T)


@pytest.mark.parametrize("make", [lambda: _A, lambda: tf.constant(_A),
                                  lambda: (row for row in _A), lambda: list(_A)])
def test_add_n_sums_any_iterable_of_tensors(make):
    np.testing.assert_allclose(tf.add_n(make()).numpy(), _A.sum(axis=0))


def test_add_n_gradient_of_a_stacked_tensor():
    x = tf.Variable(_A)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.add_n(x * 1.0) * tf.constant([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(),
                               np.tile([1.0, 2.0, 3.0], (4, 1)))


# ------------------------------------- other index-checking ops in untaken branches
@pytest.mark.parametrize("take", [
    lambda x, i: tf.gather(x, i),
    lambda x, i: tf.gather(x, [i, 0]),
    lambda x, i: tf.gather(x[:i + 1], i),
    lambda x, i: tf.gather_nd(x, [i]),
    lambda x, i: tf.reduce_sum(tf.tensor_scatter_nd_update(x, [[i]], [5.0])),
    lambda x, i: tf.reduce_sum(tf.tensor_scatter_nd_add(x, [[i]], [5.0])),
    lambda x, i: tf.reduce_sum(tf.tensor_scatter_nd_max(x, [[i]], [5.0])),
    lambda x, i: tf.reduce_sum(tf.scatter_nd([[i]], [5.0], tf.shape(x))),
])
def test_index_ops_in_an_untaken_branch_do_not_raise(take):
    @tf.function
    def guarded(x, i):
        if i < tf.shape(x)[0]:
            return tf.reduce_sum(take(x, i))
        return tf.constant(-1.0)
    assert guarded(tf.constant([1.0]), tf.constant(3)).numpy() == -1.0
    expected = float(tf.reduce_sum(take(tf.constant([1.0, 2.0]), tf.constant(1))))
    assert guarded(tf.constant([1.0, 2.0]), tf.constant(1)).numpy() == expected


@pytest.mark.parametrize("take", [lambda x, i: tf.gather(x, i),
                                  lambda x, i: tf.gather_nd(x, [i])])
def test_index_ops_in_a_taken_branch_still_raise_at_run_time(take):
    @tf.function
    def guarded(x, i):
        if i >= 0:
            return take(x, i)
        return tf.constant(-1.0)
    # on the CPU: a GPU gathers an out-of-range index as zeros (TF's GPU kernel too)
    with tf.device("/CPU:0"), pytest.raises(InvalidArgumentError):
        guarded(tf.constant([1.0, 2.0]), tf.constant(4))


def test_static_index_of_a_run_time_sized_slice_in_loop_bodies():
    @tf.function
    def pairs(x):
        s = tf.constant(0.0)
        for i in tf.range(tf.shape(x)[0]):
            s += x[i:i + 1][0]
        return s
    assert pairs(tf.constant([], tf.float32)).numpy() == 0.0
    assert pairs(tf.constant([1.0, 2.0])).numpy() == 3.0

    @tf.function
    def too_far(x, n):
        s = tf.constant(0.0)
        for _ in tf.range(1):
            s += x[:n][3]   # a size only the run knows: an error of the run
        return s
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        too_far(tf.constant([1.0, 2.0, 3.0]), tf.constant(2))
    assert too_far(tf.constant([1.0, 2.0, 3.0, 4.0]), tf.constant(4)).numpy() == 4.0


def test_static_index_out_of_a_static_shape_is_still_a_trace_error():
    @tf.function
    def first(x):
        s = tf.constant(0.0)
        for _ in tf.range(tf.shape(x)[0]):
            s += x[5]
        return s
    with pytest.raises((ValueError, InvalidArgumentError), match="out of bounds"):
        first(tf.constant([1.0, 2.0]))
