"""IndexedSlices gradients with a repeated id, as TF 2.21 (Keras 3) applies them: the
squared-gradient term of Adam, Adagrad and RMSprop adds the squares of the id's rows
(each row of the slices is squared, then the rows add up), value clipping clips each
row, and the other terms use the summed rows. Expected values were printed by
TensorFlow 2.21 for the same programs."""

import numpy as np
import pytest

import dlframe as tf
from dlframe import config, keras

INIT = np.arange(15, dtype=np.float32).reshape(5, 3) / 10.0
ROWS = np.array([[1., 2., 3.], [0.5, -1., 2.], [3., 0., -1.]], np.float32)
STEP_IDS = [[1, 3, 1], [2, 4, 2], [0, 3, 4]]   # id 1, then id 2, named twice

# TF 2.21: the variable after three apply_gradients of the slices above
TF_2_21 = {
    "adam": [[-0.063881, 0.036119, 0.136119], [0.023238, 0.1812, 0.361619],
             [0.433114, 0.568065, 0.716557], [0.656023, 1.243977, 0.856022],
             [1.055748, 1.431934, 1.317919]],
    "adagrad": [[-0.099449, 0.000139, 0.100062], [0.174137, 0.301227, 0.437068],
                [0.473667, 0.600311, 0.736833], [0.722459, 1.189744, 0.906477],
                [1.005326, 1.398773, 1.360191]],
    "rmsprop": [[-0.316228, -0.216228, -0.116228], [-0.1, 0.083772, 0.3],
                [0.2, 0.383772, 0.6], [0.280882, 1.619119, 0.480881],
                [0.569287, 1.616228, 1.279888]],
    "rmsprop_momentum": [[-0.316228, -0.216228, -0.116228], [-0.4, -0.153399, 0.15],
                         [0.0, 0.225658, 0.5], [0.043711, 1.85629, 0.24371],
                         [0.411173, 1.774341, 1.121774]],
    "adamw": [[-0.063881, 0.035999, 0.135879], [0.023013, 0.180827, 0.361087],
              [0.432432, 0.567255, 0.715616], [0.65505, 1.242671, 0.85481],
              [1.054338, 1.430345, 1.316269]],
    "sgd_clipvalue": [[-0.15, -0.05, 0.05], [0.05, 0.25, 0.45], [0.3, 0.55, 0.8],
                      [0.7, 1.25, 0.8], [0.95, 1.45, 1.4]],
}
TF_2_21["adam_ema"] = TF_2_21["adam"]   # the EMA does not touch the variable itself

MAKE = {
    "adam": lambda m: m.Adam(0.1),
    "adam_ema": lambda m: m.Adam(0.1, use_ema=True),
    "adagrad": lambda m: m.Adagrad(0.1),
    "rmsprop": lambda m: m.RMSprop(0.1),
    "rmsprop_momentum": lambda m: m.RMSprop(0.1, momentum=0.5),
    "adamw": lambda m: m.AdamW(0.1),
    "sgd_clipvalue": lambda m: m.SGD(0.1, clipvalue=1.5),
}


def _train(opt, sparse=True):
    var = tf.Variable(INIT)
    for step in range(3):
        g = tf.IndexedSlices(tf.constant(ROWS * (step + 1)),
                             tf.constant(STEP_IDS[step]), tf.constant([5, 3]))
        if not sparse:
            g = tf.math.unsorted_segment_sum(g.values, g.indices, 5)
        opt.apply_gradients([(g, var)])
    return var.numpy()


@pytest.mark.parametrize("name", sorted(MAKE))
def test_repeated_ids_match_tf_2_21(name):
    got = _train(MAKE[name](keras.optimizers))
    np.testing.assert_allclose(got, TF_2_21[name], rtol=2e-5, atol=2e-6)
    # the summed (dense) gradient gives another update: the repeat is not merged
    assert not np.allclose(got, _train(MAKE[name](keras.optimizers), sparse=False),
                           rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["adam", "adagrad", "rmsprop"])
def test_distinct_ids_still_equal_the_dense_update(name):
    var, dense_var = tf.Variable(INIT), tf.Variable(INIT)
    opt, dense_opt = MAKE[name](keras.optimizers), MAKE[name](keras.optimizers)
    for step in range(3):
        g = tf.IndexedSlices(tf.constant(ROWS[:2] * (step + 1)), tf.constant([step, 4]),
                             tf.constant([5, 3]))
        opt.apply_gradients([(g, var)])
        dense_opt.apply_gradients(
            [(tf.math.unsorted_segment_sum(g.values, g.indices, 5), dense_var)])
    np.testing.assert_array_equal(var.numpy(), dense_var.numpy())


@pytest.mark.parametrize("name", ["adam", "adagrad", "rmsprop"])
def test_traced_step_equals_eager(name):
    var = tf.Variable(INIT)
    opt = MAKE[name](keras.optimizers)

    @tf.function
    def step(values, ids):
        opt.apply_gradients([(tf.IndexedSlices(values, ids, tf.constant([5, 3])), var)])

    for s in range(3):
        step(tf.constant(ROWS * (s + 1)), tf.constant(STEP_IDS[s]))
    np.testing.assert_allclose(var.numpy(), TF_2_21[name], rtol=2e-5, atol=2e-6)


# TF 2.21: Embedding(5, 2) rows after fit on ids [[1, 1, 2], [1, 3, 3]] (two epochs)
TF_EMBEDDING = {
    "Adagrad": [0.3, 0.3, 0.13414, 0.13414, 0.26606, 0.26606, -0.05724, -0.05724,
                0.3, 0.3],
    "Adam": [0.3, 0.3, 0.03103, 0.03103, 0.15432, 0.15432, 0.03368, 0.03368, 0.3, 0.3],
    "RMSprop": [0.3, 0.3, 0.16337, 0.16337, 0.25686, 0.25686, 0.01906, 0.01906,
                0.3, 0.3],
}


@pytest.mark.parametrize("name", sorted(TF_EMBEDDING))
def test_fit_embedding_with_repeated_ids_matches_tf(name):
    opt = {"Adagrad": lambda: keras.optimizers.Adagrad(0.5,
                                                       initial_accumulator_value=0.1),
           "Adam": lambda: keras.optimizers.Adam(0.1),
           "RMSprop": lambda: keras.optimizers.RMSprop(0.1)}[name]()
    model = keras.Sequential([
        keras.Input((3,), dtype="int32"),
        keras.layers.Embedding(
            5, 2, embeddings_initializer=keras.initializers.Constant(0.3)),
        keras.layers.Flatten(), keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(opt, "mse")
    model.fit(np.array([[1, 1, 2], [1, 3, 3]]), np.array([[1.0], [0.0]], "float32"),
              epochs=2, batch_size=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.layers[0].get_weights()[0].ravel(),
                               TF_EMBEDDING[name], atol=2e-5)


def _mirrored_embedding(strategy):
    with strategy.scope():
        var = tf.Variable(INIT)
        opt = keras.optimizers.Adam(0.1)

    def replica_step(ids):
        with tf.GradientTape() as tape:
            rows = tf.nn.embedding_lookup(var, ids)
            loss = tf.reduce_sum(tf.square(rows - 1.0)) / 4.0
        opt.apply_gradients([(tape.gradient(loss, var), var)])

    dist = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(np.array([1, 3, 1, 4], np.int32)).batch(4))
    for _ in range(3):
        for batch in dist:
            strategy.run(replica_step, args=(batch,))
    return var.numpy()


def test_mirrored_replicas_concatenate_their_rows():
    """TF 2.21 gives the same rows with two replicas (each holding id 1 once) as with
    one (id 1 twice): the replicas' slices are concatenated, not summed per id."""
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    try:
        two = _mirrored_embedding(tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"]))
    finally:
        config._logical_cpu_count = before
    one = _mirrored_embedding(tf.distribute.OneDeviceStrategy("CPU:0"))
    expect = [[0.0, 0.1, 0.2], [0.71724, 0.81492, 0.9109], [0.6, 0.7, 0.8],
              [1.07444, 1.0, 0.92556], [0.93283, 1.0133, 1.1074]]   # TF 2.21
    np.testing.assert_allclose(one, expect, atol=2e-5)
    np.testing.assert_allclose(two, expect, atol=2e-5)



def per_row_reference(name, table, steps, lr):
    """NumPy reference of TF 2.21's update by IndexedSlices, one ``(rows, ids)`` pair
    per step, default hyperparameters: ``G`` (rows summed per id) in the linear terms,
    ``S`` (squares summed per id) in the squared-gradient term. Out-of-range ids are
    dropped (a GPU ignores them)."""
    table = table.astype(np.float64)
    slot1, slot2 = np.zeros_like(table), np.zeros_like(table)
    if name == "adagrad":
        slot1 += 0.1
    for t, (rows, ids) in enumerate(steps, start=1):
        g, s = np.zeros_like(table), np.zeros_like(table)
        for i, r in zip(ids, np.asarray(rows, np.float64)):
            if 0 <= i < len(table):
                g[i] += r
                s[i] += np.square(r)
        if name == "sgd":
            table -= lr * g
        elif name == "adagrad":
            slot1 += s
            table -= lr * g / np.sqrt(slot1 + 1e-7)
        elif name == "adam":
            slot1 += (g - slot1) * 0.1
            slot2 += (s - slot2) * 0.001
            alpha = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            table -= slot1 * alpha / (np.sqrt(slot2) + 1e-7)
        elif name == "rmsprop":
            slot1 = 0.9 * slot1 + 0.1 * s
            table -= lr * g / np.sqrt(slot1 + 1e-7)
    return table


@pytest.mark.parametrize("name", ["adagrad", "adam", "rmsprop"])
def test_per_row_reference_matches_tf_2_21(name):
    """The NumPy reference (used by the ops tests of the sparse kernels) reproduces
    the TF 2.21 figures above."""
    steps = [(ROWS * (k + 1), STEP_IDS[k]) for k in range(3)]
    np.testing.assert_allclose(per_row_reference(name, INIT, steps, 0.1), TF_2_21[name],
                               rtol=2e-5, atol=2e-6)


def test_mirrored_fit_of_an_embedding_matches_tf():
    """``fit`` under a two-replica MirroredStrategy (ids repeat inside and across the
    replicas) gives TF 2.21's table, as one device does."""
    before = config.logical_cpu_count()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    ids = np.array([[1, 1, 2], [1, 3, 3], [2, 2, 4], [0, 1, 1]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]], "float32")
    expect = [0.09666, 0.09666, 0.03605, 0.03605, 0.26328, 0.26328, -0.01703,
              -0.01703, 0.3137, 0.3137]   # TF 2.21, both strategies
    try:
        strategies = [tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"]),
                      tf.distribute.OneDeviceStrategy("CPU:0")]
        for strategy in strategies:
            with strategy.scope():
                model = keras.Sequential([
                    keras.Input((3,), dtype="int32"),
                    keras.layers.Embedding(
                        5, 2, embeddings_initializer=keras.initializers.Constant(0.3)),
                    keras.layers.Flatten(),
                    keras.layers.Dense(1, kernel_initializer="ones")])
                model.compile(keras.optimizers.Adagrad(0.5), "mse")
            model.fit(ids, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
            np.testing.assert_allclose(model.layers[0].get_weights()[0].ravel(), expect,
                                       atol=2e-5)
    finally:
        config._logical_cpu_count = before
