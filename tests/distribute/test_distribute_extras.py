"""tf.distribute extras: InputReplicationMode, RunOptions, CollectiveHints,
ValueContext, partitioners and preemption handling."""

import os
import signal
import time

import pytest

import dlframe as tf

P = tf.distribute.experimental.partitioners


def test_options():
    assert [m.value for m in tf.distribute.InputReplicationMode] == \
        ["PER_WORKER", "PER_REPLICA"]
    options = tf.distribute.RunOptions()
    assert options.experimental_enable_dynamic_batch_size is True
    assert options.experimental_bucketizing_dynamic_shape is False
    assert options == tf.distribute.RunOptions()
    assert "experimental_xla_options=None" in repr(options)
    strategy = tf.distribute.OneDeviceStrategy("CPU:0")
    assert strategy.run(lambda: 3, options=options) == 3
    hints = tf.distribute.experimental.CollectiveHints(bytes_per_pack=4)
    assert isinstance(hints, tf.distribute.experimental.CommunicationOptions)
    assert hints.bytes_per_pack == 4
    with pytest.raises(ValueError, match="bytes_per_pack"):
        tf.distribute.experimental.CollectiveHints(bytes_per_pack=-1)


def test_value_context(two_cpus):
    context = tf.distribute.experimental.ValueContext(1, 2)
    assert (context.replica_id_in_sync_group, context.num_replicas_in_sync) == (1, 2)
    values = two_cpus.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(float(ctx.replica_id_in_sync_group * 10 +
                                      ctx.num_replicas_in_sync)))
    assert [float(v) for v in two_cpus.experimental_local_results(values)] == \
        [2.0, 12.0]


# (shape, dtype) -> partitions, numbers from TF 2.21
@pytest.mark.parametrize("shape,dtype,fixed,max64,max64_2,min64_4,max10000", [
    ((10, 4), "float32", [3, 1], [3, 1], [2, 1], [3, 1], [1, 1]),
    ((100, 1000), "float32", [3, 1], [100, 1], [2, 1], [4, 1], [50, 1]),
    ((3,), "string", [3], [1], [1], [1], [1]),
    ((1000,), "float64", [3], [125], [2], [4], [1]),
    ((5, 7), "float32", [3, 1], [3, 1], [2, 1], [3, 1], [1, 1]),
])
def test_partitioners_match_tf(shape, dtype, fixed, max64, max64_2, min64_4,
                               max10000):
    shape = tf.TensorShape(shape)
    dtype = tf.as_dtype(dtype)
    assert P.FixedShardsPartitioner(3)(shape, dtype) == fixed
    assert P.MaxSizePartitioner(64)(shape, dtype) == max64
    assert P.MaxSizePartitioner(64, max_shards=2)(shape, dtype) == max64_2
    assert P.MinSizePartitioner(64, max_shards=4)(shape, dtype) == min64_4
    assert P.MinSizePartitioner()(shape, dtype) == [1] * shape.rank
    assert P.MaxSizePartitioner(10000)(shape, dtype) == max10000


def test_partitioner_axis_and_errors():
    assert P.FixedShardsPartitioner(2)(tf.TensorShape([4, 4]), tf.float32, axis=1) == \
        [1, 2]
    assert P.FixedShardsPartitioner(3)(tf.TensorShape([2, 4]), tf.float32) == [2, 1]
    assert isinstance(P.FixedShardsPartitioner(2), P.Partitioner)
    with pytest.raises(ValueError, match="max_shard_bytes.*0"):
        P.MaxSizePartitioner(0)
    with pytest.raises(ValueError, match="min_shard_bytes.*0"):
        P.MinSizePartitioner(0)
    with pytest.raises(ValueError, match="max_shards.*0"):
        P.MinSizePartitioner(10, max_shards=0)
    with pytest.raises(ValueError, match="num_shards.*0"):
        P.FixedShardsPartitioner(0)
    with pytest.raises(ValueError, match="scalar"):
        P.FixedShardsPartitioner(2)(tf.TensorShape([]), tf.float32)


# ---------------------------------------------------------------- preemption
class _Exited(Exception):
    pass


def _exit():
    raise _Exited()


def _handler(tmp_path, **config):
    step = tf.Variable(0.0)
    checkpoint = tf.train.Checkpoint(step=step)
    handler = tf.distribute.experimental.PreemptionCheckpointHandler(
        tf.distribute.cluster_resolver.TFConfigClusterResolver(), checkpoint,
        str(tmp_path), tf.distribute.experimental.TerminationConfig(
            exit_fn=_exit, **config))
    return handler, step


def _train_step(step):
    step.assign_add(1.0)
    return float(step.numpy())


def test_handler_runs_steps_and_saves_on_sigterm(tmp_path):
    handler, step = _handler(tmp_path)
    try:
        assert handler.total_run_calls == 0
        assert [handler.run(_train_step, step) for _ in range(3)] == [1.0, 2.0, 3.0]
        assert handler.total_run_calls == 3
        with handler.watch_preemption_scope():
            handler.save_checkpoint_if_preempted()     # no notice: nothing saved
        assert handler.total_run_calls == 4
        assert not os.listdir(tmp_path)
        os.kill(os.getpid(), signal.SIGTERM)           # the scheduler's notice
        with pytest.raises(_Exited):
            handler.run(_train_step, step)
    finally:
        handler._stop()
    assert float(step.numpy()) == 3.0                 # the step after it did not run
    assert tf.train.latest_checkpoint(str(tmp_path)) is not None
    # the restarted program restores the variables and the step count
    restarted, restored_step = _handler(tmp_path)
    restarted._stop()
    assert float(restored_step.numpy()) == 3.0
    assert restarted.total_run_calls == 4


def test_handler_with_watcher_fn_and_grace_period(tmp_path):
    notice = {"now": False}
    handler, step = _handler(tmp_path, termination_watcher_fn=lambda: notice["now"],
                             grace_period=0.6)
    try:
        handler.run(_train_step, step)
        notice["now"] = True
        deadline = time.time() + 5
        while handler._notice_time is None and time.time() < deadline:
            time.sleep(0.05)
        handler.run(_train_step, step)          # saves at once, trains on
        assert tf.train.latest_checkpoint(str(tmp_path)) is not None
        with pytest.raises(_Exited):
            for _ in range(200):                # ends when the grace period is over
                handler.run(_train_step, step)
                time.sleep(0.01)
    finally:
        handler._stop()
    assert handler.total_run_calls > 2


def test_handler_argument_errors(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="checkpoint_dir"):
        tf.distribute.experimental.PreemptionCheckpointHandler(None, checkpoint)
    with pytest.raises(TypeError, match="Checkpoint"):
        tf.distribute.experimental.PreemptionCheckpointHandler(None, 3, str(tmp_path))
    ps = tf.distribute.cluster_resolver.SimpleClusterResolver(tf.train.ClusterSpec(
        {"worker": ["localhost:1"], "ps": ["localhost:2"]}))
    with pytest.raises(NotImplementedError, match="ParameterServerStrategy"):
        tf.distribute.experimental.PreemptionCheckpointHandler(ps, checkpoint,
                                                               str(tmp_path))
    with pytest.raises(ValueError, match="grace_period"):
        tf.distribute.experimental.TerminationConfig(grace_period=-1)
    with pytest.raises(ValueError, match="exit_fn"):
        tf.distribute.experimental.TerminationConfig(exit_fn=3)
    config = tf.distribute.experimental.TerminationConfig(grace_period=3)
    assert (config.grace_period, config.exit_fn, config.save_fn,
            config.termination_watcher_fn) == (3, None, None, None)


def test_preemption_watcher():
    previous = signal.getsignal(signal.SIGTERM)
    watcher = tf.distribute.experimental.PreemptionWatcher()
    try:
        assert watcher.preemption_message is None
        os.kill(os.getpid(), signal.SIGTERM)
        watcher.block_until_worker_exit()
        assert "SIGTERM" in watcher.preemption_message
    finally:
        watcher._stop()
    assert signal.getsignal(signal.SIGTERM) == previous
