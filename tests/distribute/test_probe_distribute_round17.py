"""Round-17 probes of distribution programs: synchronized batch normalization's
cross-replica moments (numerically stable) and the distributed-training guides on
two logical CPU devices."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import numeric_grad

EPS = 1e-3


def _shards(strategy, data, sizes):
    """PerReplica slices of ``data``: replica ``i`` gets ``sizes[i]`` rows."""
    starts = np.cumsum([0] + list(sizes))

    def value_fn(ctx):
        i = ctx.replica_id_in_sync_group
        return tf.constant(data[starts[i]:starts[i + 1]])
    return strategy.experimental_distribute_values_from_function(value_fn)


def _sync_bn(strategy, channels, dtype="float32", layer_cls=None):
    layer_cls = layer_cls or (lambda **kw: keras.layers.BatchNormalization(
        synchronized=True, **kw))
    with strategy.scope():
        # momentum 0 from zeros: the moving statistics are the batch's, unrounded
        layer = layer_cls(momentum=0.0, epsilon=EPS, center=False, scale=False,
                          moving_variance_initializer="zeros", dtype=dtype)
        layer.build((None, channels))
    return layer


def _normalize(x):
    x = x.astype(np.float64)
    return (x - x.mean(0)) / np.sqrt(x.var(0) + EPS)


def _run_layer(strategy, layer, data, sizes):
    out = strategy.run(lambda t: layer(t, training=True),
                       args=(_shards(strategy, data, sizes),))
    return np.concatenate([o.numpy() for o in strategy.experimental_local_results(out)])


@pytest.mark.parametrize("sizes", [(8, 8), (11, 5)])
def test_sync_moments_keep_precision_for_a_large_mean(two_cpus, sizes):
    # pixel-like values: mean 1000, spread 0.01. E[x^2] - mean^2 in float32 gave a
    # variance of 0 here (outputs off by ~20; TF 2.21's Keras does the same).
    rng = np.random.RandomState(0)
    data = (1000.0 + 0.01 * rng.randn(16, 3)).astype("float32")
    layer = _sync_bn(two_cpus, 3)
    got = _run_layer(two_cpus, layer, data, sizes)
    ref64 = data.astype(np.float64)
    np.testing.assert_allclose(layer.moving_variance.numpy(), ref64.var(0), rtol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), ref64.mean(0), rtol=1e-6)
    ref = (ref64 - ref64.mean(0)) / np.sqrt(ref64.var(0) + EPS)
    np.testing.assert_allclose(got, ref, atol=2e-2)


def test_experimental_sync_batch_norm_uses_the_stable_moments(two_cpus):
    data = (500.0 + np.linspace(-0.05, 0.05, 24).reshape(8, 3)).astype("float32")
    layer = _sync_bn(two_cpus, 3,
                     layer_cls=keras.layers.experimental.SyncBatchNormalization)
    _run_layer(two_cpus, layer, data, (4, 4))
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               data.astype(np.float64).var(0), rtol=1e-4)


def test_sync_moments_accept_an_empty_shard(two_cpus):
    data = np.arange(12, dtype="float32").reshape(6, 2) ** 1.5
    layer = _sync_bn(two_cpus, 2)
    got = _run_layer(two_cpus, layer, data, (6, 0))
    assert np.isfinite(layer.moving_variance.numpy()).all()
    np.testing.assert_allclose(got, _normalize(data), rtol=1e-4, atol=1e-4)


def test_sync_batch_norm_gradient_matches_finite_differences(two_cpus):
    rng = np.random.RandomState(1)
    data = 3.0 + rng.randn(7, 2)
    weights = rng.randn(7, 2)
    sizes = (4, 3)
    layer = _sync_bn(two_cpus, 2, dtype="float64")
    w_parts = _shards(two_cpus, weights, sizes)

    def step(x, w):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(w * layer(x, training=True))
        return tape.gradient(loss, x)

    grads = two_cpus.run(step, args=(_shards(two_cpus, data, sizes), w_parts))
    got = np.concatenate([g.numpy()
                          for g in two_cpus.experimental_local_results(grads)])
    expect = numeric_grad(lambda x: float((weights * _normalize(x)).sum()),
                          [data.copy()], 0)
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-6)


def test_sync_batch_norm_compiled_matches_eager(two_cpus):
    rng = np.random.RandomState(2)
    data = (200.0 + 0.1 * rng.randn(8, 3)).astype("float32")
    layer = _sync_bn(two_cpus, 3)
    eager = _run_layer(two_cpus, layer, data, (4, 4))

    @tf.function
    def compiled(parts):
        return two_cpus.run(lambda t: layer(t, training=True), args=(parts,))

    out = compiled(_shards(two_cpus, data, (4, 4)))
    traced = np.concatenate([o.numpy()
                             for o in two_cpus.experimental_local_results(out)])
    np.testing.assert_allclose(traced, eager, rtol=1e-5, atol=1e-5)


def _per_replica_pipelines(two_cpus):
    contexts = []

    def dataset_fn(ctx):
        contexts.append((ctx.num_input_pipelines, ctx.input_pipeline_id,
                         ctx.get_per_replica_batch_size(8)))
        return tf.data.Dataset.range(16).shard(ctx.num_input_pipelines,
                                               ctx.input_pipeline_id).batch(4)
    options = tf.distribute.InputOptions(
        experimental_replication_mode=tf.distribute.InputReplicationMode.PER_REPLICA)
    return two_cpus.distribute_datasets_from_function(dataset_fn, options), contexts


def _local_lists(strategy, value):
    return [v.numpy().tolist() for v in strategy.experimental_local_results(value)]


def test_datasets_from_function_per_replica_mode_builds_one_pipeline_each(two_cpus):
    # TF 2.21: dataset_fn runs once per replica (pipelines 2, ids 0 and 1) and
    # replica i reads its own dataset: [[0, 2, 4, 6], [1, 3, 5, 7]], then the rest.
    dist, contexts = _per_replica_pipelines(two_cpus)
    assert contexts == [(2, 0, 4), (2, 1, 4)]
    batches = [_local_lists(two_cpus, b) for b in dist]
    assert batches == [[[0, 2, 4, 6], [1, 3, 5, 7]], [[8, 10, 12, 14], [9, 11, 13, 15]]]

    @tf.function
    def total(dataset):
        acc = tf.constant(0, tf.int64)
        for batch in dataset:
            acc += two_cpus.reduce("SUM", two_cpus.run(tf.reduce_sum, args=(batch,)),
                                   axis=None)
        return acc
    assert int(total(dist)) == sum(range(16))


def test_datasets_from_function_default_mode_is_one_pipeline(two_cpus):
    contexts = []

    def dataset_fn(ctx):
        contexts.append((ctx.num_input_pipelines, ctx.input_pipeline_id))
        return tf.data.Dataset.range(8).batch(ctx.get_per_replica_batch_size(8))
    options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
    dist = two_cpus.distribute_datasets_from_function(dataset_fn, options)
    assert contexts == [(1, 0)]
    assert [_local_lists(two_cpus, b) for b in dist] == [[[0, 1, 2, 3], [4, 5, 6, 7]]]
