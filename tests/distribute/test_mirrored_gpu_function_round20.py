"""Round 20: ``strategy.run`` inside ``dlframe.function`` over several GPU replicas.

A traced step used to read every replica's mirrored variables through the primary
(GPU:0) buffer, so compiled multi-GPU steps were refused and Keras ``fit`` ran them
eagerly. A trace now records a replica's reads of a distributed variable as reads
of that replica's own component (``values.replica_inputs``), which the graph replays
on that replica's device. Each scenario runs in a subprocess under the strict fake
CuPy with two fake GPUs (as ``tests/test_fake_gpu_round20_devices.py``).
"""


from tests.test_fake_gpu_round19 import run_script

_PRELUDE = r"""
import fake_gpu_plugin  # noqa: F401
import numpy as np
import dlframe as tf

rs = np.random.RandomState(0)
x = rs.randn(48, 4).astype("float32")
y = rs.randn(48, 1).astype("float32")
w0 = (rs.randn(4, 3) * 0.5).astype("float32")
w1 = (rs.randn(3, 1) * 0.5).astype("float32")
two = tf.distribute.MirroredStrategy()
assert two.num_replicas_in_sync == 2
assert [d.split(":")[-2:] for d in two.extended.worker_devices] == [
    ["GPU", "0"], ["GPU", "1"]], two.extended.worker_devices
"""

_CUSTOM_LOOP = r"""
def train(strategy, compiled):
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((4,)),
                                     tf.keras.layers.Dense(3, activation="tanh"),
                                     tf.keras.layers.Dense(1)])
        model.set_weights([w0, np.zeros(3, "float32"), w1, np.zeros(1, "float32")])
        opt = tf.keras.optimizers.Adam(0.1)
        steps = tf.Variable(0.0, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        shift = tf.Variable(0.0, aggregation=tf.VariableAggregation.MEAN)
    mse = tf.keras.losses.MeanSquaredError(reduction="none")

    def step_fn(inputs):
        xb, yb = inputs
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(mse(yb, model(xb, training=True)),
                                              global_batch_size=16)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        steps.assign_add(1.0)
        shift.assign(tf.reduce_mean(xb))   # MEAN of the replicas' shard means
        return loss

    def train_step(batch):
        per_replica = strategy.run(step_fn, args=(batch,))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None))

    if compiled:
        train_step = tf.function(train_step)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    losses = [[float(v) for v in train_step(b)]
              for b in strategy.experimental_distribute_dataset(ds)]
    if compiled:
        # 2, as TF: the first call creates the slots and traces again
        assert train_step.experimental_get_tracing_count() == 2, \
            train_step.experimental_get_tracing_count()
    return model, opt, losses, float(steps.numpy()), float(shift.numpy())


single = train(tf.distribute.get_strategy(), compiled=True)
eager = train(two, compiled=False)
compiled = train(two, compiled=True)
ref_loss = [s for s, _ in single[2]]
for run in (eager, compiled):
    model, opt, losses, steps, shift = run
    np.testing.assert_allclose([s for s, _ in losses], ref_loss, rtol=1e-5)
    np.testing.assert_allclose([m for _, m in losses], np.array(ref_loss) / 2, rtol=1e-5)
    for w, w_ref in zip(model.weights, single[0].weights):
        np.testing.assert_allclose(w.numpy(), w_ref.numpy(), rtol=1e-5, atol=1e-6)
        parts = [c.numpy() for c in w.values]
        assert np.array_equal(parts[0], parts[1]), w.name   # replicas never drift
        assert w.values[1].device.endswith("GPU:1"), w.values[1].device
    for s in opt.variables:   # slots (updated in place) reach every replica
        parts = [c.numpy() for c in s.values]
        assert all(np.array_equal(parts[0], p) for p in parts[1:]), s.name
    assert steps == 3.0, steps
    np.testing.assert_allclose(shift, x[32:48].mean(), rtol=1e-5)
np.testing.assert_allclose(compiled[2], eager[2], rtol=1e-6)
for a, b in zip(compiled[1].variables, eager[1].variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
print("LOOP-OK")
"""

_OWN_COMPONENTS = r"""
# expected values came from TF 2.21 (MirroredStrategy over two logical CPUs)
with two.scope():
    v = tf.Variable([1.0, 2.0])
    total = tf.Variable(0.0, synchronization=tf.VariableSynchronization.ON_READ,
                        aggregation=tf.VariableAggregation.SUM)


@tf.function
def read():
    return two.run(lambda: v * 1.0)


@tf.function
def accumulate():
    def fn():
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        total.assign_add(tf.cast(replica, tf.float32) + 1.0)
        return total * 1.0
    return two.run(fn)


def values(per_replica):
    return [np.round(t.numpy(), 4).tolist() for t in per_replica.values]


v.values[1].assign([5.0, 5.0])   # each replica reads its own component...
assert values(read()) == [[1.0, 2.0], [5.0, 5.0]], values(read())
v.values[1].assign([7.0, 7.0])   # ... at every run of the graph
assert values(read()) == [[1.0, 2.0], [7.0, 7.0]], values(read())
assert read().values[1].device.endswith("GPU:1")
v.assign([3.0, 4.0])             # a cross-replica write reaches both
assert values(read()) == [[3.0, 4.0], [3.0, 4.0]], values(read())
assert values(accumulate()) == [1.0, 2.0] and float(total.numpy()) == 3.0
assert values(accumulate()) == [2.0, 4.0] and float(total.numpy()) == 6.0
assert [float(c.numpy()) for c in total.values] == [2.0, 4.0]


@tf.function
def reduce_both():
    out = two.run(lambda: tf.cast(
        tf.distribute.get_replica_context().replica_id_in_sync_group, tf.float32) + 1.0)
    return (two.reduce(tf.distribute.ReduceOp.SUM, out, axis=None),
            two.reduce(tf.distribute.ReduceOp.MEAN, out, axis=None))


assert [float(t) for t in reduce_both()] == [3.0, 1.5]
print("OWN-OK")
"""

_FIT = r"""
labels = (x[:, :1] + x[:, 1:2] > 0).astype("float32")


def fit(eager):
    tf.keras.utils.set_random_seed(3)
    with two.scope():
        model = tf.keras.Sequential([tf.keras.Input((4,)),
                                     tf.keras.layers.Dense(8, activation="relu"),
                                     tf.keras.layers.Dense(1, activation="sigmoid")])
        model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy",
                      metrics=["accuracy"], run_eagerly=eager)
    hist = model.fit(x, labels, batch_size=16, epochs=4, verbose=0,
                     shuffle=False).history
    return model, hist, model.evaluate(x, labels, batch_size=16, verbose=0)


model, hist, ev = fit(eager=False)
assert model.train_function._fn.experimental_get_tracing_count() >= 1   # compiled
assert hist["loss"][-1] < hist["loss"][0], hist
eager_model, eager_hist, eager_ev = fit(eager=True)
np.testing.assert_allclose(hist["loss"], eager_hist["loss"], rtol=1e-5)
np.testing.assert_allclose(ev, eager_ev, rtol=1e-5)
for w, w_eager in zip(model.weights, eager_model.weights):
    np.testing.assert_allclose(w.numpy(), w_eager.numpy(), rtol=1e-5, atol=1e-6)
    parts = [c.numpy() for c in w.values]
    assert np.array_equal(parts[0], parts[1]), w.name
for s in model.optimizer.variables:
    parts = [c.numpy() for c in s.values]
    assert np.array_equal(parts[0], parts[1]), s.name
print("FIT-OK")
"""


def _run(script):
    return run_script(_PRELUDE + script, gpus=2)


def test_custom_loop_compiled_equals_eager_and_single_device():
    assert "LOOP-OK" in _run(_CUSTOM_LOOP)


def test_each_replica_reads_its_own_component_in_a_graph():
    assert "OWN-OK" in _run(_OWN_COMPONENTS)


def test_keras_fit_compiles_the_step_over_two_gpus():
    assert "FIT-OK" in _run(_FIT)
