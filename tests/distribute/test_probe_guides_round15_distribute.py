"""Regressions (round 15 probes of the distribution and mixed-precision guides):
``tf.nn.compute_average_loss``'s ``global_batch_size`` checks, iterators'
``get_next_as_optional`` inside ``tf.function`` (plain and distributed, the "Distributed
input" guide's ``if not optional.has_value(): break`` loop), a traced ``cond`` reading
per-replica values, and a mixed-float16 custom loop under MirroredStrategy."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras


# ------------------------------------------------------------ compute_average_loss
def test_compute_average_loss_zero_global_batch_is_zero():
    # TF divides with div_no_nan: 0.0 (value from TF 2.21), not inf
    loss = tf.nn.compute_average_loss(tf.constant([1.0, 2.0]), global_batch_size=0)
    assert float(loss) == 0.0


@pytest.mark.parametrize("size", [2.5, tf.constant(4.0)])
def test_compute_average_loss_non_integer_batch_is_type_error(size):
    with pytest.raises(TypeError, match="global_batch_size"):
        tf.nn.compute_average_loss(tf.constant([1.0, 2.0]), global_batch_size=size)


def test_compute_average_loss_negative_batch_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="global_batch_size=-1"):
        tf.nn.compute_average_loss(tf.constant([1.0, 2.0]), global_batch_size=-1)

    @tf.function
    def average(size):
        return tf.nn.compute_average_loss(tf.constant([1.0, 2.0]), global_batch_size=size)
    assert float(average(tf.constant(4))) == 0.75
    assert float(average(tf.constant(0))) == 0.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        average(tf.constant(-2))


def test_compute_average_loss_gradient_matches_finite_differences():
    x = tf.Variable([1.0, 2.0, 3.0], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = tf.nn.compute_average_loss(x * x, global_batch_size=4)
    grad = tape.gradient(loss, x).numpy()
    eps, base = 1e-6, np.array([1.0, 2.0, 3.0])
    numeric = [((base + eps * e) ** 2).sum() / 4 - ((base - eps * e) ** 2).sum() / 4
               for e in np.eye(3)]
    np.testing.assert_allclose(grad, np.array(numeric) / (2 * eps), rtol=1e-6)


# ------------------------------------------------- get_next_as_optional in functions
def _sum_until_exhausted(iterator):
    total = tf.constant(0, tf.int64)
    for _ in tf.range(10):
        optional = iterator.get_next_as_optional()
        if not optional.has_value():
            break
        total += tf.reduce_sum(optional.get_value())
    return total


def test_iterator_optional_is_pulled_each_run_in_function():
    ds = tf.data.Dataset.range(9).batch(4)
    assert int(tf.function(_sum_until_exhausted)(iter(ds))) == 36
    assert int(_sum_until_exhausted(iter(ds))) == 36   # eager agrees

    @tf.function
    def next_sum(iterator):
        optional = iterator.get_next_as_optional()
        return tf.cond(optional.has_value(),
                       lambda: tf.reduce_sum(optional.get_value()),
                       lambda: tf.constant(-1, tf.int64))
    it = iter(ds)
    assert [int(next_sum(it)) for _ in range(4)] == [6, 22, 8, -1]


def test_empty_optional_get_value_fails_at_run_time():
    @tf.function
    def value(iterator):
        return iterator.get_next_as_optional().get_value()
    it = iter(tf.data.Dataset.range(2).batch(2))
    np.testing.assert_array_equal(value(it).numpy(), [0, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not have a value"):
        value(it)


def test_distributed_optional_loop_with_break(two_cpus):
    # the "Distributed input" guide's loop; 36 is TF 2.21's result
    s = two_cpus
    dist = s.experimental_distribute_dataset(tf.data.Dataset.range(9).batch(4))

    @tf.function
    def loop(iterator):
        total = tf.constant(0, tf.int64)
        for _ in tf.range(10):
            optional = iterator.get_next_as_optional()
            if not optional.has_value():
                break
            total += s.reduce("SUM", s.run(tf.reduce_sum, args=(optional.get_value(),)),
                              axis=None)
        return total
    assert int(loop(iter(dist))) == 36
    assert int(loop(iter(dist))) == 36   # the compiled graph, a fresh iterator


def test_distributed_optional_splits_the_batch_over_replicas(two_cpus):
    s = two_cpus
    dist = s.experimental_distribute_dataset(tf.data.Dataset.range(6).batch(4))

    @tf.function
    def first(iterator):
        optional = iterator.get_next_as_optional()
        return optional.has_value(), s.run(lambda x: x * 10, args=(optional.get_value(),))
    has, value = first(iter(dist))
    assert bool(has)
    parts = s.experimental_local_results(value)
    assert [p.numpy().tolist() for p in parts] == [[0, 10], [20, 30]]
    assert [p.device.split(":")[-1] for p in parts] == ["0", "1"]


def test_datasets_from_function_optional_pads_the_last_replica(two_cpus):
    # values from TF 2.21: 14 rows, per-replica batches of 2, two replicas
    s = two_cpus
    dist = s.distribute_datasets_from_function(
        lambda ctx: tf.data.Dataset.range(14).batch(ctx.get_per_replica_batch_size(4)))

    @tf.function
    def step(iterator):
        optional = iterator.get_next_as_optional()
        return tf.cond(optional.has_value(),
                       lambda: s.reduce("SUM", s.run(tf.reduce_sum,
                                                     args=(optional.get_value(),)),
                                        axis=None),
                       lambda: tf.constant(-1, tf.int64))
    it = iter(dist)
    assert [int(step(it)) for _ in range(5)] == [6, 22, 38, 25, -1]


def test_traced_cond_reads_per_replica_values(two_cpus):
    s = two_cpus
    values = s.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([float(ctx.replica_id_in_sync_group) + 1.0]))

    @tf.function
    def pick(flag, v):
        if flag > 0:
            out = s.run(lambda t: t * 2.0, args=(v,))
        else:
            out = s.run(lambda t: t - 1.0, args=(v,))
        return s.reduce("SUM", out, axis=None)
    np.testing.assert_allclose(pick(tf.constant(1), values).numpy(), [6.0])
    np.testing.assert_allclose(pick(tf.constant(0), values).numpy(), [1.0])


# ------------------------------------------------ mixed precision under a strategy
def test_mixed_float16_custom_loop_with_scale_loss_learns_in_sync(two_cpus):
    # Keras 3's custom loop (scale_loss, apply_gradients unscales); TF 2.21 itself
    # fails on this program under MirroredStrategy (a cond placeholder error)
    s = two_cpus
    rng = np.random.RandomState(0)
    x = rng.rand(128, 6).astype("float32")
    y = (x[:, :3].sum(1) > 1.5).astype("int64")
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with s.scope():
            model = keras.Sequential([keras.Input((6,)),
                                      keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(2, dtype="float32")])
            opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.5))
            loss_fn = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="none")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.layers[0].compute_dtype == "float16"
    assert model.layers[0].kernel.dtype == tf.float32
    dist = s.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(32))

    @tf.function
    def step(batch):
        def replica(inputs):
            xb, yb = inputs
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = tf.nn.compute_average_loss(loss_fn(yb, logits),
                                                  global_batch_size=32)
                scaled = opt.scale_loss(loss)
            grads = tape.gradient(scaled, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return s.reduce("SUM", s.run(replica, args=(batch,)), axis=None)
    losses = []
    for _ in range(8):
        losses.append(sum(float(step(b)) for b in dist) / 4)
    assert losses[-1] < 0.8 * losses[0]
    assert int(opt.iterations) == 32
    first, second = s.experimental_local_results(model.layers[0].kernel)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
