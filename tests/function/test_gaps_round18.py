"""Round 18 tf.function gaps, each probed against TF 2.21: ``tf.gradients`` in a
nested function sees only that function's graph; ``len()`` of TensorArrays,
SparseTensors, RaggedTensors and Datasets in converted code; Keras functional
models dividing by int symbolic inputs build."""

import numpy as np
import pytest

import dlframe as tf

# --- tf.gradients inside a nested tf.function -------------------------------------

def test_nested_gradients_stop_at_inner_inputs():
    w = tf.Variable(2.0)

    @tf.function
    def inner(a):
        return tf.gradients(a * w, [a, w])

    @tf.function
    def outer(x):
        return inner(w * x)   # the caller's w * x is no part of inner's graph

    da, dw = outer(tf.constant(3.0))
    # TF 2.21: [2.0, 6.0] (d(a*w)/dw = a = 6, not 6 + 2 * 3 through the caller)
    assert float(da) == pytest.approx(2.0)
    assert float(dw) == pytest.approx(6.0)


def test_nested_gradients_one_tensor_passed_twice_is_two_inputs():
    @tf.function
    def inner(a, b):
        return tf.gradients(a * b, a)[0]

    @tf.function
    def outer(x):
        c = tf.constant(4.0)
        return inner(x, x), inner(c, c), inner(x, c)

    got = [float(t) for t in outer(tf.constant(3.0))]
    assert got == pytest.approx([3.0, 4.0, 4.0])   # TF 2.21


def test_nested_gradients_still_flow_through_inner_for_the_caller():
    @tf.function
    def inner(y):
        return tf.gradients(y * y, y)[0]   # 2y

    @tf.function
    def outer(x):
        y = x * 3.0
        return inner(y), tf.gradients(inner(y), x)[0]

    g, gx = outer(tf.constant(2.0))
    assert float(g) == pytest.approx(12.0)
    assert float(gx) == pytest.approx(6.0)   # d(2 * 3x)/dx
    # the compiled graph replays the same values
    g, gx = outer(tf.constant(5.0))
    assert (float(g), float(gx)) == pytest.approx((30.0, 6.0))


def test_nested_gradients_in_loop_body_of_inner():
    @tf.function
    def inner(a):
        s = tf.constant(0.0)
        for _ in tf.range(3):
            s += a * a
        return tf.gradients(s, a)[0]

    @tf.function
    def outer(x):
        return inner(tf.sin(x))

    x = 0.7
    assert float(outer(tf.constant(x))) == pytest.approx(6 * np.sin(x), rel=1e-5)


# --- len() in converted code ---------------------------------------------------------

def test_len_of_tensor_array_is_its_size():
    @tf.function
    def f(n):
        ta = tf.TensorArray(tf.float32, size=n, dynamic_size=True)
        ta = ta.write(0, 1.0)
        return len(ta)

    out = f(tf.constant(4))
    assert out.dtype == tf.int32 and int(out) == 4
    assert int(f(tf.constant(7))) == 7


def test_len_of_sparse_and_ragged_tensors():
    @tf.function
    def f(x):
        st = tf.sparse.from_dense(x)
        rt = tf.RaggedTensor.from_row_lengths(tf.reshape(x, [-1]), [1, 3, 2])
        return len(st), len(rt)

    a, b = f(tf.constant([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    assert (int(a), int(b)) == (3, 3)
    assert a.dtype == tf.int32 and b.dtype == tf.int32


def test_len_of_composites_eagerly_still_raises():
    ta = tf.TensorArray(tf.float32, size=3)
    with pytest.raises(TypeError):
        len(ta)


def test_len_of_dataset_is_int64_cardinality():
    ds = tf.data.Dataset.range(5)

    @tf.function
    def f():
        return len(ds)

    out = f()
    assert out.dtype == tf.int64 and int(out) == 5   # TF 2.21: int64


@pytest.mark.parametrize("make", [
    lambda: tf.data.Dataset.range(5).filter(lambda x: x > 2),
    lambda: tf.data.Dataset.range(5).repeat(),
])
def test_len_of_dataset_without_definite_cardinality_raises(make):
    ds = make()

    @tf.function
    def f():
        return len(ds)

    with pytest.raises(tf.errors.InvalidArgumentError, match="definitive cardinality"):
        f()


# --- Keras functional models dividing by int inputs ----------------------------------

@pytest.mark.parametrize("build, expected", [
    (lambda i: 7 % i, np.mod(7, [1, 2, 3])),
    (lambda i: 7 // i, np.floor_divide(7, [1, 2, 3])),
    (lambda i: tf.math.floormod(10, i + 0), np.mod(10, [1, 2, 3])),
])
def test_functional_model_divides_by_int_input(build, expected):
    i = tf.keras.Input(shape=(3,), dtype="int32")
    out = build(i)
    assert out.shape.as_list() == [None, 3] and out.dtype == tf.int32
    model = tf.keras.Model(i, out)
    got = model(tf.constant([[1, 2, 3]]))
    np.testing.assert_array_equal(got.numpy(), [expected])


def test_functional_model_int_division_by_zero_raises_when_run():
    i = tf.keras.Input(shape=(3,), dtype="int32")
    model = tf.keras.Model(i, 7 // i)
    with pytest.raises(tf.errors.InvalidArgumentError):
        model(tf.constant([[1, 0, 3]]))


# --- py_function bodies in the variable-creation re-trace -----------------------------

def test_variable_creation_retrace_does_not_step_the_environment():
    calls = []

    def env_step(action):
        calls.append(round(float(action), 3))
        t = len(calls)
        return (np.full(4, 0.1 * t, np.float32), np.array(1, np.int32),
                np.array(t >= 5, np.int32))

    made = []

    @tf.function
    def train(state, max_steps):
        if not made:   # variables on the first trace: TF traces once more
            made.append(tf.Variable(tf.ones([4])))
            made.append(tf.Variable(0.0))
        w, total = made
        with tf.GradientTape() as tape:
            rewards = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
            acts = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            for t in tf.range(max_steps):
                action = tf.reduce_sum(state * w)
                acts = acts.write(t, action)
                state, reward, done = tf.numpy_function(
                    env_step, [action], [tf.float32, tf.int32, tf.int32])
                state.set_shape([4])
                rewards = rewards.write(t, reward)
                if tf.cast(done, tf.bool):
                    break
            loss = tf.reduce_sum(acts.stack() ** 2)
        total.assign_add(tf.reduce_sum(tape.gradient(loss, w)))
        return rewards.stack()

    np.testing.assert_array_equal(train(tf.zeros([4]), 30).numpy(), [1] * 5)
    # TF 2.21 steps 5 times ([0, .4, .8, 1.2, 1.6]); the re-trace that checks no
    # variable is created again runs nothing (it stepped once more with action 0).
    # dlframe's first trace still replays the last step for the loop gradient.
    assert calls[:5] == [0.0, 0.4, 0.8, 1.2, 1.6]
    assert len(calls) <= 6 and 0.0 not in calls[1:]
    # action_t = 0.4 t from state_t = 0.1 t: d loss / d w_j = sum_t 2 * 0.4 t * 0.1 t
    expected = 4 * sum(2 * 0.4 * t * 0.1 * t for t in range(5))
    assert float(made[1]) == pytest.approx(expected, rel=1e-5)
