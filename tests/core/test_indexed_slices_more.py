"""tf.IndexedSlices through cast/identity, tf.nest and tf.function, and
LossScaleOptimizer in both Keras program forms.

Expected types and layouts were checked against TF 2.21 (see each test's comment).
"""

import numpy as np
import pytest

import dlframe as tf

VALUES = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
DENSE = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]], np.float32)


def _slices(dense_shape=True):
    return tf.IndexedSlices(tf.constant(VALUES), tf.constant([0, 2]),
                            tf.constant([3, 2]) if dense_shape else None)


def _dense(x):
    return tf.convert_to_tensor(x).numpy()


# -- cast, identity, convert_to_tensor ----------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.float64, tf.int32])
def test_cast_keeps_slices(dtype):
    # TF 2.21: IndexedSlices of the cast values, int32 indices and [3, 2] kept
    out = tf.cast(_slices(), dtype)
    assert isinstance(out, tf.IndexedSlices) and out.dtype == dtype
    assert out.indices.dtype == tf.int32 and out.indices.numpy().tolist() == [0, 2]
    assert out.dense_shape.numpy().tolist() == [3, 2]
    np.testing.assert_array_equal(_dense(out), DENSE.astype(dtype.as_numpy_dtype))


def test_cast_of_gradient_slices_and_identity():
    v = tf.Variable(tf.zeros([3, 2]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.gather(v, [0, 0, 2]) * 2.0)
    grad = tape.gradient(y, v)
    half = tf.cast(grad, tf.float16)
    assert isinstance(half, tf.IndexedSlices) and half.shape.as_list() == [3, 2]
    same = tf.identity(grad)   # TF 2.21: IndexedSlices
    assert isinstance(same, tf.IndexedSlices) and same.dtype == tf.float32
    np.testing.assert_array_equal(_dense(same), [[4, 4], [0, 0], [2, 2]])
    np.testing.assert_array_equal(_dense(half), [[4, 4], [0, 0], [2, 2]])


def test_convert_to_tensor_errors():
    with pytest.raises(ValueError, match="dense_shape"):   # TF 2.21: ValueError
        tf.convert_to_tensor(_slices(dense_shape=False))
    with pytest.raises(ValueError, match="float64"):
        tf.convert_to_tensor(_slices(), dtype=tf.float64)


# -- tf.nest ------------------------------------------------------------------------
def test_nest_flatten_and_pack_expand_composites():
    s = _slices()
    assert len(tf.nest.flatten(s)) == 1
    parts = tf.nest.flatten(s, expand_composites=True)   # TF 2.21 order
    assert [tuple(p.shape) for p in parts] == [(2, 2), (2,), (2,)]
    assert [p.dtype for p in parts] == [tf.float32, tf.int32, tf.int32]
    assert len(tf.nest.flatten(_slices(False), expand_composites=True)) == 2
    rebuilt = tf.nest.pack_sequence_as(s, parts, expand_composites=True)
    assert isinstance(rebuilt, tf.IndexedSlices)
    np.testing.assert_array_equal(_dense(rebuilt), DENSE)
    tree = {"b": 1.0, "a": s}
    flat = tf.nest.flatten(tree, expand_composites=True)
    assert len(flat) == 4
    # every component is mapped (indices and dense_shape too, as in TF)
    doubled = tf.nest.map_structure(
        lambda x: x * 2 if getattr(x, "dtype", tf.float32) == tf.float32 else x,
        tree, expand_composites=True)
    assert isinstance(doubled["a"], tf.IndexedSlices) and doubled["b"] == 2.0
    np.testing.assert_array_equal(_dense(doubled["a"]), DENSE * 2)


# -- tf.function --------------------------------------------------------------------
def test_function_argument_is_a_composite_input():
    traces = []

    @tf.function
    def total(x):
        traces.append(1)
        return tf.reduce_sum(tf.convert_to_tensor(x)), x.indices

    for k in range(3):   # new values of the same shapes: one trace, fresh results
        s = tf.IndexedSlices(tf.constant(VALUES * k), tf.constant([0, 2]),
                             tf.constant([3, 2]))
        out, ids = total(s)
        assert float(out) == pytest.approx(10.0 * k)
        assert ids.numpy().tolist() == [0, 2]
    assert len(traces) == 1
    spec = total.get_concrete_function(_slices()).structured_input_signature[0][0]
    assert isinstance(spec, tf.IndexedSlicesSpec)   # TF 2.21: IndexedSlicesSpec


def test_function_without_dense_shape_and_slices_output():
    @tf.function
    def rows(x):
        return x.values * 2.0

    np.testing.assert_array_equal(rows(_slices()).numpy(), VALUES * 2)
    np.testing.assert_array_equal(rows(_slices(False)).numpy(), VALUES * 2)

    @tf.function
    def triple(x):
        return tf.IndexedSlices(x.values * 3.0, x.indices, x.dense_shape)

    out = triple(_slices())
    assert isinstance(out, tf.IndexedSlices) and out.shape.as_list() == [3, 2]
    np.testing.assert_array_equal(_dense(out), DENSE * 3)
    assert isinstance(tf.function(lambda x: x)(_slices()), tf.IndexedSlices)


# -- LossScaleOptimizer: Keras 2 and Keras 3 program forms --------------------------
X = np.array([[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]], np.float32)
W0 = np.array([[0.3], [-0.2]], np.float32)


def _loss(w):
    # float16 compute on float32 weights, as under mixed_float16
    y = tf.matmul(tf.cast(X, tf.float16), tf.cast(w, tf.float16))
    return tf.cast(tf.reduce_mean(tf.square(y - 1.0)), tf.float32)


def _reference(opt, steps=1):
    w = tf.Variable(W0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            y = tf.matmul(X, w)
            loss = tf.reduce_mean(tf.square(y - 1.0))
        opt.apply_gradients([(tape.gradient(loss, w), w)])
    return w.numpy()


def _lso(inner):
    return tf.keras.mixed_precision.LossScaleOptimizer(inner)


def _keras2_step(opt, w):
    with tf.GradientTape() as tape:
        scaled = opt.get_scaled_loss(_loss(w))
    (grad,) = opt.get_unscaled_gradients(tape.gradient(scaled, [w]))
    opt.apply_gradients([(grad, w)])


def _keras3_step(opt, w):
    with tf.GradientTape() as tape:
        scaled = opt.scale_loss(_loss(w))
    opt.apply_gradients([(tape.gradient(scaled, w), w)])


@pytest.mark.parametrize("make", [lambda: tf.keras.optimizers.SGD(0.1),
                                  lambda: tf.keras.optimizers.Adam(0.01)])
@pytest.mark.parametrize("step", [_keras2_step, _keras3_step])
def test_both_forms_match_float32_reference(make, step):
    opt, w = _lso(make()), tf.Variable(W0)
    for _ in range(3):
        step(opt, w)
    np.testing.assert_allclose(w.numpy(), _reference(make(), 3), rtol=2e-3, atol=2e-3)
    assert float(opt.loss_scale.numpy()) == 2.0 ** 15
    assert int(opt.iterations.numpy()) == 3


def test_keras3_form_with_gradients_from_a_replayed_function():
    # scale_loss runs (as Python) only while tracing; later steps must still unscale
    opt, w = _lso(tf.keras.optimizers.SGD(0.1)), tf.Variable(W0)

    @tf.function
    def grads():
        with tf.GradientTape() as tape:
            scaled = opt.scale_loss(_loss(w))
        return tape.gradient(scaled, w)

    for _ in range(3):
        opt.apply_gradients([(grads(), w)])
    np.testing.assert_allclose(w.numpy(), _reference(tf.keras.optimizers.SGD(0.1), 3),
                               rtol=2e-3, atol=2e-3)


def test_keras3_form_compiled_step():
    opt, w = _lso(tf.keras.optimizers.Adam(0.01)), tf.Variable(W0)
    step = tf.function(lambda: _keras3_step(opt, w))
    step()
    step()   # a replay: scale_loss's Python does not run again
    np.testing.assert_allclose(w.numpy(), _reference(tf.keras.optimizers.Adam(0.01), 2),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("form", ["keras2", "keras3"])
def test_non_finite_gradients_skip_the_step(form):
    opt, w = _lso(tf.keras.optimizers.SGD(0.1)), tf.Variable(W0)
    if form == "keras2":
        opt.get_scaled_loss(tf.constant(1.0))
    else:
        opt.scale_loss(tf.constant(1.0))
    bad = tf.constant([[np.inf], [1.0]])
    opt.apply_gradients([(bad, w)])
    np.testing.assert_array_equal(w.numpy(), W0)
    assert float(opt.loss_scale.numpy()) == 2.0 ** 14
    # TF 2.21 (Keras 3): a skipped step does not count; Keras 2 counted it
    assert int(opt.iterations.numpy()) == (1 if form == "keras2" else 0)
    opt.apply_gradients([(tf.constant([[np.nan], [0.0]]), w)])
    np.testing.assert_array_equal(w.numpy(), W0)
    assert float(opt.loss_scale.numpy()) == 2.0 ** 13


def test_keras3_form_unscales_even_unscaled_gradients():
    # TF 2.21: after scale_loss, apply_gradients divides whatever it gets by the scale
    opt, w = _lso(tf.keras.optimizers.SGD(0.1)), tf.Variable([1.0, 2.0])
    opt.scale_loss(tf.constant(1.0))
    opt.apply_gradients([(tf.constant([3.0, 4.0]), w)])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.3 / 32768, 2.0 - 0.4 / 32768],
                               rtol=1e-6)


@pytest.mark.parametrize("callable_loss", [True, False])
def test_minimize_scales_and_unscales(callable_loss):
    opt, w = _lso(tf.keras.optimizers.SGD(0.1)), tf.Variable(W0)
    if callable_loss:
        opt.minimize(lambda: _loss(w), [w])
    else:
        with tf.GradientTape() as tape:
            loss = _loss(w)
        opt.minimize(loss, [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), _reference(tf.keras.optimizers.SGD(0.1)),
                               rtol=2e-3, atol=2e-3)


def test_sparse_gradients_are_unscaled_as_slices():
    opt, v = _lso(tf.keras.optimizers.SGD(0.5)), tf.Variable(tf.ones([4, 2]))
    with tf.GradientTape() as tape:
        scaled = opt.scale_loss(tf.reduce_sum(tf.gather(v, [1, 3, 1])))
    grad = tape.gradient(scaled, v)
    (unscaled,) = opt._unscale([grad])
    assert isinstance(unscaled, tf.IndexedSlices)
    opt.apply_gradients([(grad, v)])
    np.testing.assert_allclose(v.numpy(), [[1, 1], [0, 0], [1, 1], [0.5, 0.5]])


def test_config_round_trip_has_name():
    opt = _lso(tf.keras.optimizers.Adam(0.01))
    config = opt.get_config()
    assert {"name", "inner_optimizer", "initial_scale",
            "dynamic_growth_steps"} <= set(config)   # TF 2.21's keys
    again = type(opt).from_config(config)
    assert again.inner_optimizer.get_config()["learning_rate"] == pytest.approx(0.01)


def test_fit_under_mixed_float16_matches_float32_step():
    def model(policy):
        tf.keras.mixed_precision.set_global_policy(policy)
        try:
            m = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        finally:
            tf.keras.mixed_precision.set_global_policy("float32")
        m.layers[0].set_weights([W0, np.zeros(1, np.float32)])
        m.compile(tf.keras.optimizers.SGD(0.1), "mse")
        m.fit(X, np.ones((3, 1), np.float32), batch_size=3, epochs=2, verbose=0)
        return m

    mixed, full = model("mixed_float16"), model("float32")
    assert isinstance(mixed.optimizer, tf.keras.mixed_precision.LossScaleOptimizer)
    for a, b in zip(mixed.get_weights(), full.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)


# -- sparse SGD / Adam / Adagrad: bit-equal to the dense-gradient update ------------
SPARSE_OPTIMIZERS = {
    "sgd": lambda: tf.keras.optimizers.SGD(0.05),
    "adam": lambda: tf.keras.optimizers.Adam(0.05),
    "adamw": lambda: tf.keras.optimizers.AdamW(0.05, weight_decay=0.01),
    "adagrad": lambda: tf.keras.optimizers.Adagrad(0.3),
    "adagrad0": lambda: tf.keras.optimizers.Adagrad(0.3, initial_accumulator_value=0.0),
}


def _embedding_grads(step, repeats=True):
    rng = np.random.default_rng(step)
    ids = rng.integers(0, 50, 40).astype(np.int32)
    ids[:3] = ids[3]   # a row named several times
    if not repeats:   # TF 2.21 squares a repeated row per row: not the dense update
        ids = rng.permutation(50)[:40].astype(np.int32)
    return tf.IndexedSlices(tf.constant(rng.standard_normal((40, 8)), tf.float32),
                            tf.constant(ids), tf.constant([50, 8]))


def _refuse_dense(self, dtype=None):
    raise AssertionError("IndexedSlices densified")


@pytest.mark.parametrize("name", sorted(SPARSE_OPTIMIZERS))
@pytest.mark.parametrize("compiled", [False, True])
def test_sparse_update_is_bit_equal_to_dense(name, compiled, monkeypatch):
    table = np.random.default_rng(9).standard_normal((50, 8)).astype(np.float32)
    weights = {}
    for form in ("dense", "sparse"):
        opt, var = SPARSE_OPTIMIZERS[name](), tf.Variable(table)
        as_given = (lambda g: g) if form == "sparse" else tf.convert_to_tensor

        def step(grad, opt=opt, var=var, as_given=as_given):
            opt.apply_gradients([(as_given(grad), var)])
        step = tf.function(step) if compiled else step
        if form == "sparse":   # the sparse kernels must run: nothing densifies
            monkeypatch.setattr(tf.IndexedSlices, "_dlframe_tensor_", _refuse_dense)
        for k in range(4):
            step(_embedding_grads(k, repeats=name == "sgd"))
        weights[form] = [var.numpy()] + [s.numpy() for s in opt.variables[2:]]
    for a, b in zip(weights["sparse"], weights["dense"]):
        if var._device.is_gpu:
            # the dense gradient sums a repeated row with float atomics in a
            # run-dependent order (as TF's GPU UnsortedSegmentSum), the sparse
            # kernel in the order given: equal up to float32 rounding only
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(a, b)


def test_sparse_path_only_where_results_match():
    opts = tf.keras.optimizers
    # slices reach update_step (a sparse kernel, or the dense one given the rows'
    # squares) unless a dense transform comes first
    assert opts.Adam(amsgrad=True)._takes_slices()
    # (loss_scale_factor divides the slices' values first: their rows stay apart)
    assert opts.Adam(loss_scale_factor=2.0)._takes_slices()
    assert not opts.Adam(gradient_accumulation_steps=2)._takes_slices()
    # Adagrad whose acc + epsilon can be 0 updates every row as the dense kernel (0/0)
    var, dense = tf.Variable(tf.ones([3, 2])), tf.Variable(tf.ones([3, 2]))
    g = tf.IndexedSlices(tf.ones([1, 2]), tf.constant([1]), tf.constant([3, 2]))
    for v, grad in ((var, g), (dense, tf.convert_to_tensor(g))):
        opts.Adagrad(epsilon=0.0, initial_accumulator_value=0.0).apply_gradients(
            [(grad, v)])
    assert np.isnan(var.numpy()[0]).all()
    np.testing.assert_array_equal(var.numpy(), dense.numpy())


def test_sparse_update_checks_the_row_ids():
    # on the CPU (a GPU ignores the row, as TF's: test_gpu_gather_scatter_round21_i2)
    with tf.device("cpu:0"):
        var = tf.Variable(tf.zeros([3, 2]))
        bad = tf.IndexedSlices(tf.ones([1, 2]), tf.constant([5]), tf.constant([3, 2]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="5"):
            tf.keras.optimizers.Adagrad().apply_gradients([(bad, var)])


def test_embedding_model_trains_with_sparse_adam():
    tf.keras.utils.set_random_seed(0)
    ids = np.random.default_rng(0).integers(0, 20, (64, 3))
    labels = (ids.sum(axis=1) % 2).astype(np.float32)
    model = tf.keras.Sequential([tf.keras.Input((3,), dtype="int32"),
                                 tf.keras.layers.Embedding(20, 8),
                                 tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy")
    hist = model.fit(ids, labels, epochs=30, batch_size=16, verbose=0).history["loss"]
    assert hist[-1] < 0.5 * hist[0]
