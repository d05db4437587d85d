"""Regressions (round 14 probes) of training over distributed datasets: a loop over
a distributed dataset inside ``tf.function`` whose step updates metrics (sync-on-read
variables on each replica's device), Keras ``fit`` given a distributed dataset, and
``strategy.extended``'s single-process flags."""

import numpy as np

import dlframe as tf
from dlframe import keras

TRUE_KERNEL = np.array([[1.0], [2.0], [-1.0]], "float32")


def _data():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 3).astype("float32")
    return x, x @ TRUE_KERNEL


def _dataset(batch=16):
    return tf.data.Dataset.from_tensor_slices(_data()).batch(batch)


def test_traced_loop_over_distributed_dataset_updates_metrics(two_cpus):
    s = two_cpus
    x = np.arange(32, dtype="float32").reshape(16, 2)
    dist = s.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(x).batch(4))
    with s.scope():
        mean = keras.metrics.Mean()

    @tf.function
    def loop(dist_ds):
        total = 0.0
        for batch in dist_ds:
            def step(b):
                mean.update_state(b)
                return tf.reduce_sum(b)
            total += s.reduce("SUM", s.run(step, args=(batch,)), axis=None)
        return total
    assert float(loop(dist)) == x.sum()
    np.testing.assert_allclose(float(mean.result()), x.mean(), rtol=1e-6)
    mean.reset_state()
    assert float(loop(dist)) == x.sum()   # the compiled loop again
    np.testing.assert_allclose(float(mean.result()), x.mean(), rtol=1e-6)


def test_custom_loop_in_function_learns_with_metrics(two_cpus):
    s = two_cpus
    dist = s.experimental_distribute_dataset(_dataset())
    with s.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1)])
        opt = keras.optimizers.Adam(0.1)
        mse = keras.losses.MeanSquaredError(reduction="none")
        loss_metric = keras.metrics.Mean()

    @tf.function
    def train_epoch(dist_ds):
        total = 0.0
        for batch in dist_ds:
            def step(b):
                xb, yb = b
                with tf.GradientTape() as tape:
                    per_example = mse(yb, model(xb, training=True))
                    loss = tf.nn.compute_average_loss(per_example, global_batch_size=16)
                grads = tape.gradient(loss, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables))
                loss_metric.update_state(per_example)
                return loss
            total += s.reduce("SUM", s.run(step, args=(batch,)), axis=None)
        return total
    for _ in range(20):
        last = train_epoch(dist)
    assert float(last) < 0.5
    np.testing.assert_allclose(model.weights[0].numpy(), TRUE_KERNEL, atol=0.1)
    assert int(opt.iterations.numpy()) == 80


def _fit(strategy, data, **kwargs):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Input((3,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05), "mse")
    history = model.fit(data, epochs=2, verbose=0, **kwargs)
    return model.weights[0].numpy(), history.history["loss"]


def test_fit_on_distributed_datasets_matches_fit_on_the_dataset(two_cpus):
    s = two_cpus
    kernel, losses = _fit(s, _dataset())
    x, y = _data()

    def dataset_fn(ctx):
        return tf.data.Dataset.from_tensor_slices((x, y)).shard(
            ctx.num_input_pipelines, ctx.input_pipeline_id).batch(
            ctx.get_per_replica_batch_size(16)).repeat()
    for data, kwargs in ((s.experimental_distribute_dataset(_dataset()), {}),
                         (s.distribute_datasets_from_function(dataset_fn),
                          {"steps_per_epoch": 4})):
        got_kernel, got_losses = _fit(s, data, **kwargs)
        # the global batch is 16 rows, not one replica's 8: the same updates
        np.testing.assert_allclose(got_kernel, kernel, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_losses, losses, rtol=1e-5)


def test_extended_single_process_flags(two_cpus):
    for s in (two_cpus, tf.distribute.OneDeviceStrategy("/cpu:0"),
              tf.distribute.get_strategy()):
        ext = s.extended
        assert ext.experimental_between_graph is False
        assert ext.experimental_should_init is True
        assert ext.should_checkpoint is True
        assert ext.should_save_summary is True


def test_integer_variable_assigned_in_replicas_stays_integer(two_cpus):
    with two_cpus.scope():
        counter = tf.Variable(0, dtype=tf.int64)

    def step():
        counter.assign((counter + 1) * tf.constant(3, tf.int64))
        return counter.read_value()
    two_cpus.run(step)
    assert counter.dtype == tf.int64 and int(counter.numpy()) == 3
    assert [int(c.numpy()) for c in counter.values] == [3, 3]


def _mixed_fit(strategy, compiled=True):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with strategy.scope():
            keras.utils.set_random_seed(2)
            model = keras.Sequential([
                keras.layers.Input((3,)), keras.layers.Dense(4),
                keras.layers.Dense(1, dtype="float32")])
            # a small scale: no step overflows (which steps do depends on how the
            # batch is split, so with overflows the two runs could skip different ones)
            opt = keras.mixed_precision.LossScaleOptimizer(
                keras.optimizers.SGD(0.01), initial_scale=8.0, dynamic_growth_steps=3)
            model.compile(opt, "mse", run_eagerly=not compiled)
        x, y = _data()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


def test_mixed_precision_fit_under_mirrored_matches_one_device(two_cpus):
    one = _mixed_fit(tf.distribute.OneDeviceStrategy("/cpu:0"))
    for compiled in (True, False):
        mirrored = _mixed_fit(two_cpus, compiled)
        opt = mirrored.optimizer
        assert type(opt).__name__ == "LossScaleOptimizer"
        for name in ("iterations", "dynamic_counter", "loss_scale"):
            assert float(getattr(opt, name).numpy()) == \
                float(getattr(one.optimizer, name).numpy())
        assert int(opt.iterations.numpy()) == 8
        assert float(opt.loss_scale.numpy()) == 8.0 * 2 ** 2  # grown twice (8 // 3)
        for a, b in zip(one.weights, mirrored.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-3, atol=2e-3)


def test_loss_scale_skips_non_finite_steps_across_replicas(two_cpus):
    with two_cpus.scope():
        var = tf.Variable([1.0, 2.0])
        opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.5))

    def step(bad):
        # only replica 1 sees an inf gradient: every replica must skip the update
        grad = tf.where(tf.cast(bad, tf.bool), np.inf, 1.0) * tf.ones([2])
        opt.apply_gradients([(grad, var)])
        return var.read_value()
    flags = two_cpus.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(ctx.replica_id_in_sync_group))
    scale = float(opt.loss_scale.numpy())
    two_cpus.run(step, args=(flags,))
    np.testing.assert_array_equal(var.numpy(), [1.0, 2.0])
    assert float(opt.loss_scale.numpy()) == scale / 2
    zeros = two_cpus.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(0))
    two_cpus.run(step, args=(zeros,))
    # both replicas' unit gradients are summed: 1.0 - 0.5 * 2
    np.testing.assert_allclose(var.numpy(), [0.0, 1.0])
    assert [v.numpy().tolist() for v in var.values] == [[0.0, 1.0], [0.0, 1.0]]
