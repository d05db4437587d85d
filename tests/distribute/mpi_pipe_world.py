"""A stand-in for ``mpi4py.MPI`` whose ranks are real processes joined by pipes, and
the worker programs the multi-worker tests run in them (spawn start method).

``PipeWorld`` implements the calls dlframe's ``MpiCommunicator`` makes
(``Allreduce`` with ``SUM``, ``Bcast``, ``allgather``, ``Get_rank``, ``Get_size``)
with real data exchange: every rank sends its buffer, rank 0 sums in rank order and
sends the result back, so every rank gets bitwise the same sum, as with MPI.
"""

import multiprocessing
import os
import traceback

import numpy as np


class PipeWorld:
    """``MPI`` and ``MPI.COMM_WORLD`` of one rank (``conns[r]``: pipe to rank r)."""

    SUM = "MPI.SUM"

    def __init__(self, rank, size, conns):
        self.rank, self.size, self.conns = rank, size, conns
        self.COMM_WORLD = self
        self.calls = []

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def _gather_to_root(self, value):
        if self.rank:
            self.conns[0].send(value)
            return None
        return [value] + [self.conns[r].recv() for r in range(1, self.size)]

    def _from_root(self, value):
        if self.rank:
            return self.conns[0].recv()
        for r in range(1, self.size):
            self.conns[r].send(value)
        return value

    def Allreduce(self, send, recv, op):
        assert op == self.SUM, op
        self.calls.append(("Allreduce", send.shape))
        parts = self._gather_to_root(np.array(send))
        total = None
        if parts is not None:
            total = parts[0].copy()
            for p in parts[1:]:
                total = total + p
        recv[...] = self._from_root(total)

    def Bcast(self, buf, root=0):
        self.calls.append(("Bcast", root))
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self.conns[r].send(np.array(buf))
        else:
            buf[...] = self.conns[root].recv()

    def allgather(self, value):
        self.calls.append(("allgather",))
        return self._from_root(self._gather_to_root(value))


def _mesh(ctx, size):
    ends = [{} for _ in range(size)]
    for a in range(size):
        for b in range(a + 1, size):
            ea, eb = ctx.Pipe()
            ends[a][b], ends[b][a] = ea, eb
    return ends


def run_workers(program, size=2, timeout=60, **kwargs):
    """Runs ``program(tf, world, **kwargs)`` (a function of this module) in ``size``
    spawned processes, one rank each, with ``PipeWorld`` injected as the MPI of
    dlframe's cluster resolver; returns their results in rank order."""
    ctx = multiprocessing.get_context("spawn")
    ends = _mesh(ctx, size)
    results, procs = [], []
    for rank in range(size):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main,
                           args=(program, rank, size, ends[rank], child, kwargs))
        proc.start()
        results.append(parent)
        procs.append(proc)
    out = []
    try:
        for conn in results:
            if not conn.poll(timeout):
                raise TimeoutError(f"a worker gave no result within {timeout} s")
            status, value = conn.recv()
            if status != "ok":
                raise RuntimeError(f"worker failed:\n{value}")
            out.append(value)
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
    return out


def _worker_main(program, rank, size, conns, result, kwargs):
    os.environ["DLFRAME_DEVICE"] = "cpu"
    try:
        import dlframe as tf
        from dlframe.distribute import cluster_resolver
        world = PipeWorld(rank, size, conns)
        cluster_resolver._INJECTED_MPI = world
        result.send(("ok", globals()[program](tf, world, **kwargs)))
    except BaseException:  # noqa: BLE001 - reported to the parent
        result.send(("error", traceback.format_exc()))


# ---------------------------------------------------------------- worker programs
def make_model(tf, seed):
    tf.random.set_seed(seed)
    return tf.keras.Sequential([tf.keras.Input((4,)),
                                tf.keras.layers.Dense(8, activation="tanh"),
                                tf.keras.layers.Dense(1)])


def training_program(tf, world, x, y, global_batch, epochs, fit_rows):
    """Keras fit (on the first ``fit_rows`` rows: an uneven last batch) and a custom
    loop on the same data, plus the user-visible collectives."""
    rank = world.Get_rank()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()   # TF's tutorial, unchanged
    out = {"replicas": strategy.num_replicas_in_sync,
           "task": (strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id),
           "should_checkpoint": strategy.extended.should_checkpoint,
           "devices": strategy.extended.worker_devices}

    # Keras fit (each rank seeds differently: the weights must start as rank 0's)
    with strategy.scope():
        model = make_model(tf, seed=100 + rank)
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
    out["fit_initial"] = [w.copy() for w in model.get_weights()]
    history = model.fit(x[:fit_rows], y[:fit_rows], batch_size=global_batch,
                        epochs=epochs, shuffle=False, verbose=0)
    out["fit_final"] = model.get_weights()
    out["fit_loss"] = history.history["loss"]
    out["evaluate"] = model.evaluate(x, y, batch_size=global_batch, verbose=0)
    out["predict"] = model.predict(x, batch_size=global_batch, verbose=0)

    # custom loop: strategy.run + strategy.reduce over a distributed dataset
    with strategy.scope():
        net = make_model(tf, seed=200 + rank)
        optimizer = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    out["loop_initial"] = [w.copy() for w in net.get_weights()]
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch)
    dist = strategy.experimental_distribute_dataset(dataset)

    @tf.function
    def train_step(inputs):
        def step_fn(inputs):
            xb, yb = inputs
            with tf.GradientTape() as tape:
                per_example = tf.reduce_mean(tf.square(net(xb, training=True) - yb), -1)
                loss = tf.nn.compute_average_loss(per_example)
            grads = tape.gradient(loss, net.trainable_variables)
            optimizer.apply_gradients(zip(grads, net.trainable_variables))
            return loss
        per_replica = strategy.run(step_fn, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    losses, rows = [], []
    for _ in range(epochs):
        for batch in dist:
            rows.append(batch[0].numpy())
            losses.append(float(train_step(batch)))
    out["loop_final"] = net.get_weights()
    out["loop_losses"] = losses
    out["loop_rows"] = np.concatenate(rows)

    # collectives seen from the user API
    ctx = strategy.run(lambda: tf.distribute.get_replica_context())
    out["replica_id"] = int(ctx.replica_id_in_sync_group)
    out["all_reduce"] = float(strategy.run(
        lambda: tf.distribute.get_replica_context().all_reduce(
            "SUM", tf.constant(float(rank + 1)))))
    local = tf.constant(np.arange(rank + 2, dtype="float32") + 10 * rank)
    out["gather"] = strategy.gather(local, axis=0).numpy()
    out["mean_axis"] = float(strategy.reduce("MEAN", local, axis=0))
    out["sum"] = float(strategy.reduce("SUM", tf.constant(float(rank + 1)), axis=None))
    contexts = []

    def dataset_fn(input_context):
        contexts.append((input_context.num_input_pipelines,
                         input_context.input_pipeline_id,
                         input_context.num_replicas_in_sync))
        return tf.data.Dataset.range(8).shard(input_context.num_input_pipelines,
                                              input_context.input_pipeline_id).batch(2)
    per_worker = strategy.distribute_datasets_from_function(dataset_fn)
    out["from_function"] = [b.numpy().tolist() for b in per_worker]
    out["input_context"] = contexts[0]
    off = tf.data.Options()
    off.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    unsharded = strategy.experimental_distribute_dataset(
        tf.data.Dataset.range(4).batch(2).with_options(off))
    out["shard_off"] = [b.numpy().tolist() for b in unsharded]

    # assignments in replica contexts combine the workers' values
    with strategy.scope():
        mean_var = tf.Variable(0.0, aggregation=tf.VariableAggregation.MEAN)
        sum_var = tf.Variable(0.0, aggregation=tf.VariableAggregation.SUM)
        first_var = tf.Variable(
            0.0, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
    strategy.run(lambda: (mean_var.assign(float(rank + 1)),
                          sum_var.assign_add(float(rank + 1)),
                          first_var.assign(float(rank + 5))))
    out["assigned"] = (float(mean_var.numpy()), float(sum_var.numpy()),
                       float(first_var.numpy()))
    out["mpi_calls"] = len(world.calls)
    return out
