"""Round-23 distribution programs on 2 logical CPU devices, checked against the
figures TF 2.21 printed for the same programs: the "Custom training with
tf.distribute.Strategy" loop, ``strategy.run`` of a ``tf.function`` called eagerly,
``reduce`` of a plain tensor along an axis, ``InputOptions`` and the distributed
dataset's own API (``cardinality``, ``reduce``, ``next``), and replica-context
assignments of a list of per-replica tensors."""

import numpy as np
import pytest

import dlframe as tf


def _replica_id_f32():
    ctx = tf.distribute.get_replica_context()
    return tf.cast(ctx.replica_id_in_sync_group, tf.float32)


def _local(strategy, value):
    return [np.asarray(v).tolist() for v in strategy.experimental_local_results(value)]


# ------------------------------------------------ the custom-training tutorial loop
def _tutorial_run(strategy, compiled):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 5).astype("float32")
    y = (x @ rng.randn(5, 3)).argmax(1).astype("int64")
    w0 = rng.randn(5, 8).astype("float32") * 0.3
    w1 = rng.randn(8, 3).astype("float32") * 0.3
    global_batch = 16
    with strategy.scope():
        model = tf.keras.Sequential([
            tf.keras.Input((5,)),
            tf.keras.layers.Dense(8, activation="relu",
                                  kernel_regularizer=tf.keras.regularizers.l2(0.01)),
            tf.keras.layers.Dense(3)])
        model.layers[0].set_weights([w0, np.zeros(8, "float32")])
        model.layers[1].set_weights([w1, np.zeros(3, "float32")])
        opt = tf.keras.optimizers.SGD(0.1, momentum=0.9)
        loss_obj = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="none")
        train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
        test_loss = tf.keras.metrics.Mean()
    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch))

    def train_step(inputs):
        xs, ys = inputs
        with tf.GradientTape() as tape:
            pred = model(xs, training=True)
            loss = tf.nn.compute_average_loss(loss_obj(ys, pred),
                                              global_batch_size=global_batch)
            loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        train_acc.update_state(ys, pred)
        return loss

    def test_step(inputs):
        xs, ys = inputs
        test_loss.update_state(loss_obj(ys, model(xs, training=False)))

    def dist_train(inputs):
        per_replica = strategy.run(train_step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    def dist_test(inputs):
        strategy.run(test_step, args=(inputs,))

    if compiled:
        dist_train, dist_test = tf.function(dist_train), tf.function(dist_test)
    history = []
    for _ in range(3):
        total, batches = 0.0, 0
        for batch in dist:
            total += float(dist_train(batch))
            batches += 1
        for batch in dist:
            dist_test(batch)
        history.append((total / batches, float(train_acc.result()),
                        float(test_loss.result())))
        train_acc.reset_state()
        test_loss.reset_state()
    return history, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("compiled", [False, True])
def test_custom_training_tutorial_matches_tf_figures(two_cpus, compiled):
    history, weights = _tutorial_run(two_cpus, compiled)
    # TF 2.21 printed these for the same program (loss, train accuracy, test loss)
    expected = [(1.076002, 0.4375, 0.965601), (0.932707, 0.75, 0.802627),
                (0.759765, 0.796875, 0.591832)]
    np.testing.assert_allclose(history, expected, atol=2e-6)
    np.testing.assert_allclose(
        weights[0][0], [0.21071, -0.40188, 0.16407, -0.34974, 0.30233, 0.24838,
                        -0.05461, -0.14225], atol=1e-5)
    _, single = _tutorial_run(tf.distribute.OneDeviceStrategy("/cpu:0"), compiled)
    for a, b in zip(weights, single):
        np.testing.assert_allclose(a, b, atol=1e-6)


# ----------------------------------- strategy.run of a tf.function called eagerly
def test_run_of_a_tf_function_runs_every_replica_with_its_own_id(two_cpus):
    with two_cpus.scope():
        mean = tf.keras.metrics.Mean()
        acc = tf.keras.metrics.SparseCategoricalAccuracy()

    def update():
        r = _replica_id_f32()
        mean.update_state(tf.stack([r, r + 10.0]))
        acc.update_state(tf.constant([1, 0]), tf.stack([[0.0, 1.0], [1.0 - r, r]]))
        return tf.distribute.get_replica_context().replica_id_in_sync_group

    compiled = tf.function(update)
    for _ in range(2):   # the second call replays the trace: still replica 0 and 1
        ids = two_cpus.run(compiled)
        assert _local(two_cpus, ids) == [0, 1]
    # TF: replica 0 adds [0, 10] and 2 right answers, replica 1 [1, 11] and 1
    assert float(mean.result()) == pytest.approx(5.5)
    assert float(acc.result()) == pytest.approx(0.75)


def test_run_of_a_tf_function_train_step_with_arguments(two_cpus):
    rng = np.random.RandomState(3)
    x = rng.randn(32, 4).astype("float32")
    y = rng.randn(32, 1).astype("float32")
    with two_cpus.scope():
        w = tf.Variable(np.ones((4, 1), "float32"))
        b = tf.Variable(np.zeros((1,), "float32"))
        opt = tf.keras.optimizers.SGD(0.1)

    @tf.function
    def step(xs, ys):
        with tf.GradientTape() as tape:
            pred = tf.matmul(xs, w) + b
            loss = tf.nn.compute_average_loss(
                tf.reduce_mean((pred - ys) ** 2, axis=1), global_batch_size=8)
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
        return loss

    dist = two_cpus.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(8))
    losses = [float(two_cpus.reduce("SUM", two_cpus.run(step, args=(xs, ys)),
                                    axis=None)) for xs, ys in dist]
    # TF 2.21's figures for this program
    np.testing.assert_allclose(losses, [2.547757, 5.502308, 1.195296, 0.59518],
                               atol=2e-6)
    np.testing.assert_allclose(w.numpy().ravel(),
                               [0.362213, 0.429628, 0.784486, 0.104918], atol=2e-6)
    np.testing.assert_allclose(b.numpy(), [0.220205], atol=2e-6)

    @tf.function
    def scaled(a, scale=1.0):
        return a * scale + _replica_id_f32()

    assert _local(two_cpus, two_cpus.run(scaled, args=(tf.constant(2.0),),
                                         kwargs={"scale": 3.0})) == [6.0, 7.0]
    plain = two_cpus.run(scaled, args=(tf.constant(2.0),))
    assert _local(two_cpus, plain) == [2.0, 3.0]


# ---------------------------------------------------------------------- reduce
def test_reduce_of_a_plain_tensor_along_an_axis_counts_every_replica(two_cpus):
    value = tf.constant([1.0, 2.0])
    # TF: the value is each replica's, so the SUM counts it twice; MEAN is its mean
    assert float(two_cpus.reduce("SUM", value, axis=0)) == 6.0
    assert float(two_cpus.reduce("MEAN", value, axis=0)) == 1.5
    with pytest.raises(ValueError, match="non-DistributedValues"):
        two_cpus.reduce("SUM", value, axis=None)


# ----------------------------------------------------------------- InputOptions
def test_input_options_is_tfs_namedtuple():
    opts = tf.distribute.InputOptions()
    mode = tf.distribute.InputReplicationMode
    assert opts == (True, mode.PER_WORKER, False, 1)
    assert opts == tf.distribute.InputOptions()
    assert repr(opts) == (
        "InputOptions(experimental_fetch_to_device=True, experimental_replication_mode"
        "=<InputReplicationMode.PER_WORKER: 'PER_WORKER'>, "
        "experimental_place_dataset_on_device=False, "
        "experimental_per_replica_buffer_size=1)")
    assert tf.distribute.InputOptions(False).experimental_fetch_to_device is False
    assert opts._replace(experimental_fetch_to_device=False)[0] is False
    assert tf.distribute.InputOptions(
        experimental_replication_mode=mode.PER_REPLICA).experimental_fetch_to_device


def test_input_options_are_checked_as_tf(two_cpus):
    mode = tf.distribute.InputReplicationMode
    ds = tf.data.Dataset.range(4).batch(2)
    with pytest.raises(NotImplementedError, match="PER_REPLICA is only supported"):
        two_cpus.experimental_distribute_dataset(
            ds, options=tf.distribute.InputOptions(experimental_replication_mode=
                                                   mode.PER_REPLICA))
    with pytest.raises(TypeError, match="`options` must be a tf.distribute.Input"):
        two_cpus.experimental_distribute_dataset(ds, options={"a": 1})
    fn = lambda ctx: tf.data.Dataset.range(4).batch(2)  # noqa: E731
    on_device = {"experimental_place_dataset_on_device": True}
    options = tf.distribute.InputOptions(experimental_fetch_to_device=False,
                                         **on_device)
    with pytest.raises(ValueError, match="you must also specify `PER_REPLICA`"):
        two_cpus.distribute_datasets_from_function(fn, options=options)
    with pytest.raises(ValueError, match="can not be set to True when "
                                         "experimental_fetch_to_device is True"):
        two_cpus.distribute_datasets_from_function(
            fn, options=tf.distribute.InputOptions(
                experimental_replication_mode=mode.PER_REPLICA, **on_device))
    per_replica = two_cpus.distribute_datasets_from_function(
        fn, options=tf.distribute.InputOptions(
            experimental_fetch_to_device=False,
            experimental_replication_mode=mode.PER_REPLICA, **on_device))
    assert [_local(two_cpus, b) for b in per_replica] == [[[0, 1], [0, 1]],
                                                          [[2, 3], [2, 3]]]
    # fetch_to_device=False is accepted for PER_WORKER input (shards still placed)
    fetched = two_cpus.experimental_distribute_dataset(
        ds, options=tf.distribute.InputOptions(experimental_fetch_to_device=False))
    assert [_local(two_cpus, b) for b in fetched] == [[[0], [1]], [[2], [3]]]


@pytest.mark.parametrize("bad", [np.arange(4), [1, 2], lambda ctx: None])
def test_distributing_what_is_no_dataset_is_refused(two_cpus, bad):
    with pytest.raises(TypeError, match="`dataset` must be a tf.data.Dataset, got"):
        two_cpus.experimental_distribute_dataset(bad)


def test_an_unbatched_dataset_is_refused_not_copied_to_every_replica(two_cpus):
    with pytest.raises(ValueError, match=r"needs a batched dataset.*dataset.batch"):
        two_cpus.experimental_distribute_dataset(tf.data.Dataset.range(4))
    pairs = tf.data.Dataset.from_tensor_slices((np.arange(4.0), np.arange(4)))
    with pytest.raises(ValueError, match="needs a batched dataset"):
        two_cpus.experimental_distribute_dataset(pairs)
    # one replica takes the elements as they are (TF's OneDeviceStrategy)
    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    assert [int(v) for v in one.experimental_distribute_dataset(
        tf.data.Dataset.range(3))] == [0, 1, 2]


def test_dataset_fn_must_return_a_dataset(two_cpus):
    with pytest.raises(TypeError, match="`dataset_fn` must return a tf.data.Dataset, "
                                        "got ndarray"):
        two_cpus.distribute_datasets_from_function(lambda ctx: np.arange(4))


# -------------------------------------------------- the distributed dataset's API
def test_distributed_dataset_cardinality_reduce_and_next(two_cpus):
    ds = tf.data.Dataset.range(10).batch(4)
    dist = two_cpus.experimental_distribute_dataset(ds)
    assert dist.cardinality == 3 and type(dist.cardinality).__name__ == "int64"
    assert two_cpus.experimental_distribute_dataset(ds.repeat()).cardinality == -1
    assert two_cpus.experimental_distribute_dataset(
        ds.filter(lambda v: True)).cardinality == -2
    assert two_cpus.distribute_datasets_from_function(lambda ctx: ds).cardinality == 3
    eight = tf.data.Dataset.range(8).batch(4)
    total = two_cpus.experimental_distribute_dataset(eight).reduce(
        tf.constant(0, tf.int64),
        lambda state, b: state + two_cpus.reduce("SUM", b, axis=0))
    assert int(total) == 28   # TF: 0 + ... + 7, each row counted once
    it = iter(dist)
    assert _local(two_cpus, it.next()) == [[0, 1], [2, 3]]
    assert _local(two_cpus, it.get_next()) == [[4, 5], [6, 7]]
    with pytest.raises(AttributeError):
        dist.batch(2)   # TF's DistributedDataset is no tf.data.Dataset


def test_fit_on_a_distributed_dataset_still_counts_its_steps(two_cpus):
    x = np.arange(24, dtype="float32").reshape(8, 3) / 10
    y = np.ones((8, 1), "float32")
    with two_cpus.scope():
        model = tf.keras.Sequential([
            tf.keras.Input((3,)), tf.keras.layers.Dense(1, kernel_initializer="ones")])
        model.compile("sgd", "mse")
    dist = two_cpus.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(4))
    model.fit(dist, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2


# --------------------------------------------- replica-context variable updates
@pytest.mark.parametrize("aggregation, expected", [
    ("MEAN", [1.5, 3.5]),   # TF 2.21's values after one run
    ("SUM", [2.0, 5.0])])
def test_assign_add_of_a_list_of_replica_tensors(two_cpus, aggregation, expected):
    with two_cpus.scope():
        var = tf.Variable([1.0, 2.0],
                          aggregation=getattr(tf.VariableAggregation, aggregation))

    def step():
        r = _replica_id_f32()
        var.assign_add([r, r + 1.0])

    two_cpus.run(step)
    assert [v.numpy().tolist() for v in var.values] == [expected, expected]


# ------------------------------- gradients the program already summed (Keras 2)
def _make_optimizer(kind):
    if kind == "sgd":
        return tf.keras.optimizers.SGD(1.0)
    inner = tf.keras.optimizers.SGD(1.0)
    if kind == "lso_static":
        return tf.keras.mixed_precision.LossScaleOptimizer(inner, dynamic=False,
                                                           initial_scale=1.0)
    return tf.keras.mixed_precision.LossScaleOptimizer(inner)


@pytest.mark.filterwarnings("ignore:.*triggered tf.function retracing")
@pytest.mark.parametrize("kind", ["sgd", "lso", "lso_static"])
@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("flag", [{}, {"experimental_aggregate_gradients": False},
                                  {"skip_gradients_aggregation": True}])
def test_pre_summed_gradients_are_not_summed_again(two_cpus, kind, compiled, flag):
    with two_cpus.scope():
        var = tf.Variable([1.0, 2.0])
        opt = _make_optimizer(kind)

    def step():
        grad = tf.stack([_replica_id_f32() + 1.0, 1.0])   # [1, 1] and [2, 1]
        if flag:   # the program all-reduces itself and tells the optimizer so
            grad = tf.distribute.get_replica_context().all_reduce("SUM", grad)
        opt.apply_gradients([(grad, var)], **flag)

    run = (lambda: two_cpus.run(step))
    (tf.function(run) if compiled else run)()
    # one SGD step with the summed gradient [3, 2] (Keras 2), on both copies
    assert [v.numpy().tolist() for v in var.values] == [[-2.0, 0.0], [-2.0, 0.0]]


# ------------------------- fit with a regularizer and add_loss: TF's figures
class _ActivityLoss(tf.keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(0.1 * tf.reduce_mean(tf.square(inputs)))
        return inputs


@pytest.mark.parametrize("mirrored", [True, False])
def test_fit_with_model_losses_matches_tf(two_cpus, mirrored):
    rng = np.random.RandomState(1)
    x = rng.randn(32, 3).astype("float32")
    y = rng.randn(32, 1).astype("float32")
    strategy = two_cpus if mirrored else tf.distribute.get_strategy()
    with strategy.scope():
        model = tf.keras.Sequential([
            tf.keras.Input((3,)),
            tf.keras.layers.Dense(4, kernel_initializer="ones",
                                  kernel_regularizer=tf.keras.regularizers.l2(0.1)),
            _ActivityLoss(),
            tf.keras.layers.Dense(1, kernel_initializer="ones")])
        model.compile(tf.keras.optimizers.SGD(0.01), "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    # TF 2.21 printed the same figures with and without MirroredStrategy
    np.testing.assert_allclose(history["loss"], [25.26266, 5.27297], atol=2e-4)
    np.testing.assert_allclose(history["mae"], [3.77671, 1.68543], atol=2e-4)
    np.testing.assert_allclose(model.get_weights()[0].ravel()[:4], [0.77691] * 4,
                               atol=2e-5)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0),
                               [3.10624, 1.21281], atol=2e-4)
