"""Gathers, scatters and sparse updates on each device, with TF's GPU semantics (I2).

In range, every device gives TF's (CPU oracle) results. Out of range, TF's CPU kernels
raise InvalidArgumentError and its GPU kernels read nothing back to the host:
- ``tf.gather`` / ``tf.gather_nd`` docs: "Note that on CPU, if an out of bound index is
  found, an error is returned. On GPU, if an out of bound index is found, a 0 is
  stored in the corresponding output value."
- ``tf.scatter_nd`` / ``tf.tensor_scatter_nd_update`` (and ``_add``, ``_sub``,
  ``_max``, ``_min``) docs: "On GPU, if an out of bound index is found, the index is
  ignored." (an error on CPU). Negative indices are out of range too.
On a GPU these steps therefore hold no host read, so a traced step with them is
captured as a CUDA graph; under the fake CuPy, ``cupy.cuda.fake_capture`` refuses
host reads as a capturing stream does, and the tests run the replays under it.
"""

import numpy as np
import pytest

import dlframe as tf
from dlframe import backends
from dlframe.core import graph_capture
from tests.helpers import check_grad, check_op


def _gpu(device):
    return backends.get_device(device).is_gpu


X = np.arange(24, dtype=np.float64).reshape(4, 6) / 7.0


# -- in range: every device agrees with NumPy (and TF) --------------------------------
def test_gather_on_each_device(device):
    idx = np.array([[3, 0], [1, 1]], np.int32)
    check_op(lambda x: tf.gather(x, idx), [X], lambda x: x[idx])
    check_op(lambda x: tf.gather(x, idx[0], axis=1), [X], lambda x: x[:, idx[0]])
    b = np.array([[5, 0, 2], [1, 1, 4], [0, 3, 3], [2, 2, 5]], np.int64)
    check_op(lambda x: tf.gather(x, b, batch_dims=1), [X],
             lambda x: np.take_along_axis(x, b, axis=1))


def test_gather_nd_and_scatter_nd_on_each_device(device):
    idx = np.array([[0, 5], [3, 1], [0, 5]], np.int32)
    check_op(lambda x: tf.gather_nd(x, idx), [X], lambda x: x[idx[:, 0], idx[:, 1]])
    rows = np.array([[2], [0], [2]], np.int64)
    upd = np.ones((3, 6)) * np.array([[1.0], [2.0], [4.0]])

    def scatter_ref(u):
        out = np.zeros((4, 6))
        np.add.at(out, rows[:, 0], u)
        return out
    check_op(lambda u: tf.scatter_nd(rows, u, [4, 6]), [upd], scatter_ref)


@pytest.mark.parametrize("name, ufunc", [("update", None), ("add", np.add),
                                         ("sub", np.subtract), ("max", np.maximum),
                                         ("min", np.minimum)])
def test_tensor_scatter_nd_on_each_device(device, name, ufunc):
    idx = np.array([[1, 2], [3, 0], [0, 4]], np.int32)
    upd = np.array([5.0, -1.0, 0.25])
    fn = getattr(tf, f"tensor_scatter_nd_{name}")

    def ref(x, u):
        out = x.copy()
        at = (idx[:, 0], idx[:, 1])
        out[at] = u if ufunc is None else ufunc(out[at], u)
        return out
    check_op(lambda x, u: fn(x, idx, u), [X, upd], ref)


def test_variable_scatters_on_each_device(device):
    v = tf.Variable(X.copy())
    want = X.copy()
    v.scatter_update(tf.IndexedSlices(tf.constant(X[:2] * 3), tf.constant([3, 1])))
    want[[3, 1]] = X[:2] * 3
    v.scatter_add(tf.IndexedSlices(tf.constant(X[:2]), tf.constant([2, 2])))
    want[2] += X[0] + X[1]
    v.scatter_nd_max(tf.constant([[0, 1], [0, 1]]), tf.constant([9.0, 10.0], tf.float64))
    want[0, 1] = 10.0
    v.scatter_mul(tf.IndexedSlices(tf.constant(X[:1] + 1), tf.constant([0])))
    want[0] *= X[0] + 1
    np.testing.assert_allclose(v.numpy(), want, rtol=1e-12)


# -- out of range: CPU raises, GPU masks (TF's documented GPU behaviour) -------------
def test_out_of_range_gathers(device):
    x = tf.constant(X)
    idx = tf.constant([1, 4, -1, 2])
    if not _gpu(device):
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.gather(x, idx)
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.gather_nd(x, [[0, 6]])
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.nn.embedding_lookup(x, idx)
        return
    want = np.stack([X[1], 0 * X[0], 0 * X[0], X[2]])
    np.testing.assert_array_equal(tf.gather(x, idx).numpy(), want)
    np.testing.assert_array_equal(tf.nn.embedding_lookup(x, idx).numpy(), want)
    np.testing.assert_array_equal(tf.gather(x, [[7, 5]], axis=1).numpy(),
                                  np.stack([0 * X[:, 0], X[:, 5]], 1)[:, None])
    np.testing.assert_array_equal(tf.gather_nd(x, [[0, 6], [-1, 0], [2, 3]]).numpy(),
                                  [0.0, 0.0, X[2, 3]])
    # gradients carry nothing to the rows of out-of-range indices
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.gather(x, idx) * 2.0) + tf.reduce_sum(
            tf.gather(x, [6, 0], axis=1)) + tf.reduce_sum(tf.gather_nd(x, [[9, 0]]))
    grad = tf.convert_to_tensor(tape.gradient(y, x)).numpy()
    want_grad = np.zeros_like(X)
    want_grad[[1, 2]] = 2.0
    want_grad[:, 0] += 1.0
    np.testing.assert_array_equal(grad, want_grad)


def test_out_of_range_scatters(device):
    x = tf.constant(X)
    idx = tf.constant([[1, 2], [4, 0], [0, -1], [3, 5]])
    upd = tf.constant([1.0, 2.0, 3.0, 4.0], tf.float64)
    ops = {"update": tf.tensor_scatter_nd_update, "add": tf.tensor_scatter_nd_add,
           "max": tf.tensor_scatter_nd_max, "min": tf.tensor_scatter_nd_min}
    if not _gpu(device):
        for fn in ops.values():
            with pytest.raises(tf.errors.InvalidArgumentError):
                fn(x, idx, upd)
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.scatter_nd(idx, upd, [4, 6])
        return
    kept = (np.array([1, 3]), np.array([2, 5]))   # rows 1 and 3 are in range
    for name, fn in ops.items():
        want = X.copy()
        vals = np.array([1.0, 4.0])
        want[kept] = vals if name == "update" else {
            "add": np.add, "max": np.maximum, "min": np.minimum}[name](want[kept], vals)
        np.testing.assert_array_equal(fn(x, idx, upd).numpy(), want, err_msg=name)
    want = np.zeros((4, 6))
    want[kept] = [1.0, 4.0]
    np.testing.assert_array_equal(tf.scatter_nd(idx, upd, [4, 6]).numpy(), want)
    for mode in ("update", "add", "max", "min"):
        v = tf.Variable(X.copy())
        getattr(v, f"scatter_nd_{mode}")(idx, upd)
        np.testing.assert_array_equal(v.numpy(), ops[mode](x, idx, upd).numpy())
    v = tf.Variable(X.copy())
    v.scatter_update(tf.IndexedSlices(tf.constant(X[:3] + 1), tf.constant([-1, 2, 4])))
    want = X.copy()
    want[2] = X[1] + 1
    np.testing.assert_array_equal(v.numpy(), want)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_ignored_rows_leave_every_value_alone(device, dtype):
    # the rows a GPU ignores must not touch the element they are redirected to,
    # even one holding the dtype's extreme (-inf / the lowest int) or NaN
    low = -np.inf if dtype == "float32" else np.iinfo(dtype).min
    start = np.array([[low, 2], [3, 4]], dtype)
    for mode in ("max", "min", "add", "update"):
        v = tf.Variable(start)
        idx = tf.constant([[1, 1]] + ([[5, 0]] if _gpu(device) else []))
        upd = tf.constant([7] + ([9] if _gpu(device) else []), dtype)
        getattr(v, f"scatter_nd_{mode}")(idx, upd)
        want = start.copy()
        want[1, 1] = {"max": 7, "min": 4, "add": 11, "update": 7}[mode]
        np.testing.assert_array_equal(v.numpy(), want, err_msg=mode)


def test_bfloat16_keeps_its_dtype(device):
    x = tf.cast(tf.constant(X[:3, :2]), tf.bfloat16)
    idx = [[1, 1], [2, 0]] + ([[4, 0]] if _gpu(device) else [])
    upd = tf.cast(tf.constant([9.0] * len(idx)), tf.bfloat16)
    for out in (tf.gather(x, [2, 0]), tf.gather_nd(x, idx),
                tf.tensor_scatter_nd_max(x, idx, upd)):
        assert out.dtype == tf.bfloat16
    v = tf.Variable(x)
    v.scatter_nd_update(idx, upd)
    want = tf.cast(x, tf.float32).numpy()
    want[1, 1] = want[2, 0] = 9.0
    np.testing.assert_array_equal(tf.cast(v, tf.float32).numpy(), want)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "adam", "rmsprop"])
def test_sparse_updates_match_dense_ones(device, name):
    # TF 2.21: a repeated id's squares add up per row (reference in the keras test)
    from tests.keras.test_sparse_repeated_ids_round22_b import per_row_reference
    make = {"sgd": tf.keras.optimizers.SGD, "adagrad": tf.keras.optimizers.Adagrad,
            "adam": tf.keras.optimizers.Adam,
            "rmsprop": tf.keras.optimizers.RMSprop}[name]
    rng = np.random.default_rng(1)
    table = rng.standard_normal((5, 3)).astype(np.float32)
    rows = rng.standard_normal((4, 3)).astype(np.float32)
    ids = [1, 3, 1, 0]
    if _gpu(device):   # out-of-range rows are ignored on a GPU
        ids, rows = ids + [5, -2], np.concatenate([rows, rows[:2] * 9])
    sparse_var, dense_var = tf.Variable(table), tf.Variable(table)
    dense = np.zeros_like(table)
    for i, r in zip(ids, rows):
        if 0 <= i < 5:
            dense[i] += r
    sparse_opt, dense_opt = make(0.1), make(0.1)
    for _ in range(3):
        sparse_opt.apply_gradients([(tf.IndexedSlices(tf.constant(rows),
                                                      tf.constant(ids)), sparse_var)])
        dense_opt.apply_gradients([(tf.constant(dense), dense_var)])
    expect = per_row_reference(name, table, [(rows, ids)] * 3, 0.1)
    np.testing.assert_allclose(sparse_var.numpy(), expect, rtol=1e-5, atol=1e-6)
    if name == "sgd":
        np.testing.assert_allclose(sparse_var.numpy(), dense_var.numpy(), rtol=1e-6,
                                   atol=1e-7)


def test_gather_gradient_along_an_inner_axis(device):
    check_grad(lambda x: tf.gather(x, [[4, 0], [0, 2]], axis=1), [X])


# -- traced steps: no host read, so a GPU captures them -------------------------------
def _capturing_stub(monkeypatch, graph):
    """Makes ``graph`` replay its program under ``fake_capture`` (host reads raise)
    where it would capture a CUDA graph; returns the replay count."""
    import cupy
    counts = {"replays": 0}

    def capture_step(device, execute, template, n_inputs, outputs):
        def replay(arrays):
            slots = list(template)
            slots[:n_inputs] = arrays
            with cupy.cuda.fake_capture():
                execute(slots, free=False)
            counts["replays"] += 1
            return [slots[s] for s in outputs]
        return replay
    # on the class: undoing a patch of the (shared) device instance would leave the
    # original bound method in its __dict__, hiding later class-level stubs
    monkeypatch.setattr(type(graph.gpu_device), "capture_step", capture_step)
    return counts


def _run_captured(monkeypatch, device, fn, args, calls=6):
    """Calls ``tf.function(fn)`` ``calls`` times; on a GPU, checks that its graph is
    captured (under the fake CuPy: replayed with host reads refused)."""
    f = tf.function(fn)
    outs = [f(*args)]
    graph = f.get_concrete_function(*args).graph._graph
    assert not set(graph.node_names) & graph_capture._HOST_SYNC, graph.node_names
    counts = None
    if _gpu(device):
        assert graph._capturable
        import cupy
        if hasattr(cupy.cuda, "fake_capture"):
            counts = _capturing_stub(monkeypatch, graph)
    outs += [f(*args) for _ in range(calls - 1)]
    if counts is not None:
        assert counts["replays"] == calls - 3   # two warm-up runs, then replays
    elif _gpu(device):
        assert graph._captured is not None   # a real GPU captured the step
    return outs


def test_gather_scatter_step_is_capturable(device, monkeypatch):
    v = tf.Variable(X.copy())

    def step(x, idx):
        g = tf.gather(x, idx) + tf.gather_nd(x, tf.stack([idx, idx], 1))[:, None]
        s = tf.tensor_scatter_nd_add(x, idx[:, None], g) + tf.scatter_nd(
            idx[:, None], g, [4, 6])
        v.scatter_nd_add(idx[:, None], g)
        return tf.tensor_scatter_nd_max(s, idx[:, None], g)

    idx = tf.constant([2, 0, 3])
    outs = _run_captured(monkeypatch, device, step, (tf.constant(X), idx))
    eager = tf.Variable(X.copy())
    v, saved = eager, v
    want = step(tf.constant(X), idx)
    for out in outs:
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12)
    for _ in range(5):
        step(tf.constant(X), idx)
    np.testing.assert_allclose(saved.numpy(), eager.numpy(), rtol=1e-12)


def _embedding_model():
    # no Dense layer: matmuls capture through dlframe's cuBLAS binding, which the
    # fake CuPy lacks (tests/backends/test_matmul_routes_round21_i3.py covers them)
    tf.keras.utils.set_random_seed(3)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(12, 4),
                                 tf.keras.layers.GlobalAveragePooling1D()])
    model.build((None, 5))
    return model


def test_embedding_adam_step_is_capturable(device, monkeypatch):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.integers(0, 12, (8, 5)), dtype=tf.int32)
    y = tf.constant(rng.standard_normal((8, 1)).astype(np.float32))
    models, opts = [], []

    def make_step(model, opt):
        def step(x, y):
            with tf.GradientTape() as tape:
                out = tf.reduce_sum(model(x), axis=1, keepdims=True)
                loss = tf.reduce_mean(tf.square(out - y))
            grads = tape.gradient(loss, model.trainable_variables)
            assert isinstance(grads[0], tf.IndexedSlices)   # the sparse Adam update
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return step

    for _ in range(2):
        models.append(_embedding_model())
        opts.append(tf.keras.optimizers.Adam(0.01))
    models[1].set_weights(models[0].get_weights())
    losses = _run_captured(monkeypatch, device, make_step(models[0], opts[0]), (x, y))
    eager = [make_step(models[1], opts[1])(x, y) for _ in losses]
    np.testing.assert_allclose([float(v) for v in losses], [float(v) for v in eager],
                               rtol=1e-5)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
