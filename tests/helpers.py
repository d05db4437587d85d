"""The one op-checking helper (DESIGN.md §8), and the training-step helpers the GPU tests share.

`check_op` checks an op's forward against a NumPy reference, its gradient against
float64 central differences, optionally second derivatives, and eager == compiled
(`dlframe.function`) results. `keras_train_step` is the custom-loop step of the
MNIST-MLP benchmark; `cuda_graphs` switches CUDA-graph replay for a block.
"""

import contextlib

import numpy as np

import dlframe as tf


def _to_tensors(arrays):
    return [tf.constant(a) if isinstance(a, np.ndarray) else a for a in arrays]


def numeric_grad(f, arrays, index, eps=1e-6):
    """Central-difference gradient of scalar f(*arrays) w.r.t. arrays[index] (float64)."""
    x = arrays[index]
    g = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(*arrays)
        flat[i] = old - eps
        down = f(*arrays)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return g


def check_forward(fn, arrays, ref, rtol=1e-5, atol=1e-6):
    out = fn(*_to_tensors(arrays))
    expect = ref(*arrays)
    outs = out if isinstance(out, (list, tuple)) else [out]
    expects = expect if isinstance(expect, (list, tuple)) else [expect]
    assert len(outs) == len(expects)
    for o, e in zip(outs, expects):
        e = np.asarray(e)
        got = o.numpy()
        assert tuple(o.shape) == e.shape, f"shape {tuple(o.shape)} != reference {e.shape}"
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(got, e, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(got, e)
    return out


def check_grad(fn, arrays, wrt=None, rtol=1e-5, atol=1e-7, eps=1e-6, seed=0):
    """Gradient of sum(fn(x) * w) (random w) against float64 central differences."""
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a
              for a in arrays]
    wrt = list(range(len(arrays))) if wrt is None else list(wrt)
    rng = np.random.default_rng(seed)
    out0 = fn(*_to_tensors(arrays))
    outs0 = out0 if isinstance(out0, (list, tuple)) else [out0]
    weights = [rng.standard_normal(tuple(o.shape)) for o in outs0]

    def scalar(*arrs):
        outs = fn(*_to_tensors(arrs))
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return float(sum(np.sum(o.numpy() * w) for o, w in zip(outs, weights)))

    xs = _to_tensors(arrays)
    with tf.GradientTape() as tape:
        for i in wrt:
            tape.watch(xs[i])
        outs = fn(*xs)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        total = tf.add_n([tf.reduce_sum(o * tf.constant(w)) for o, w in zip(outs, weights)])
    grads = tape.gradient(total, [xs[i] for i in wrt])
    for i, g in zip(wrt, grads):
        expect = numeric_grad(scalar, [a.copy() for a in arrays], i, eps)
        # row gathers give IndexedSlices (as TF): compare their dense value
        got = np.zeros_like(expect) if g is None else tf.convert_to_tensor(g).numpy()
        np.testing.assert_allclose(got, expect, rtol=rtol, atol=atol,
                                   err_msg=f"gradient w.r.t. input {i}")


def check_second_order(fn, arrays, rtol=1e-4, atol=1e-6, eps=1e-5):
    """Elementwise ops: d/dx of (sum of dy/dx) against finite differences of the gradient."""
    x0 = np.asarray(arrays[0], dtype=np.float64)

    def first(xarr):
        x = tf.constant(xarr)
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(fn(x))
        return t.gradient(y, x)

    x = tf.constant(x0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(fn(x))
        g = inner.gradient(y, x)
        gsum = tf.reduce_sum(g)
    gg = outer.gradient(gsum, x).numpy()
    expect = numeric_grad(lambda a: float(np.sum(first(a).numpy())), [x0.copy()], 0, eps)
    np.testing.assert_allclose(gg, expect, rtol=rtol, atol=atol)


def check_function_matches_eager(fn, arrays, rtol=1e-6, atol=1e-6):
    """`dlframe.function(fn)` gives the eager results."""
    xs = _to_tensors(arrays)
    eager = fn(*xs)
    graph = tf.function(fn)(*xs)
    eager = eager if isinstance(eager, (list, tuple)) else [eager]
    graph = graph if isinstance(graph, (list, tuple)) else [graph]
    for e, g in zip(eager, graph):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=rtol, atol=atol)


def check_op(fn, arrays, ref, grad=True, second_order=False, rtol=1e-5, atol=1e-6,
             grad_rtol=1e-5, grad_atol=1e-7, wrt=None):
    """Forward vs `ref`, gradient vs finite differences, 2nd order, eager == function."""
    check_forward(fn, arrays, ref, rtol, atol)
    if grad:
        check_grad(fn, arrays, wrt=wrt, rtol=grad_rtol, atol=grad_atol)
    if second_order:
        check_second_order(fn, arrays)
    check_function_matches_eager(fn, arrays)


def default_rnn_kernel(cell_kind):
    """The kernel a default Keras LSTM/GRU picks on the current device: 'cudnn'
    where the device offers cuDNN's fused kernel (a GPU with libcudnn), else
    'fused' (the portable kernel)."""
    device = tf.constant(0.0)._device
    return "cudnn" if device.rnn_kernel(cell_kind) is not None else "fused"


def keras_train_step(model, optimizer, loss_fn):
    """The custom-loop train step ``step(x, y) -> loss`` (GradientTape, apply_gradients)."""
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


@contextlib.contextmanager
def cuda_graphs(enabled):
    """A block with CUDA-graph replay of compiled steps on (``enabled``) or off."""
    before = tf.config.optimizer.get_experimental_options().get("cuda_graphs", True)
    tf.config.optimizer.set_experimental_options({"cuda_graphs": enabled})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"cuda_graphs": before})


def load_example(name):
    """``examples/<name>.py`` imported as a module (its ``__main__`` part not run)."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
