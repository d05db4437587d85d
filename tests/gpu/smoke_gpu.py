"""GPU smoke test of the cuDNN RNN binding (GPU.md §6.0 and §6.8).

Run from the repository root on a GPU machine:

    python3 tests/gpu/smoke_gpu.py

Prints an environment report, then one PASS/FAIL/SKIP line per check; exits 1 when a
check fails, 0 otherwise, and 0 with a SKIP line when ``cupy.cuda.is_available()`` is
False (or CuPy is missing). tests/gpu/test_cudnn_rnn_gpu.py imports the helpers below.
"""

import os
import platform
import sys
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

B, T, IN, UNITS = 3, 5, 4, 6
LENGTHS = [5, 3, 1]
# (rtol, atol) of cuDNN vs the float64 NumPy reference
FWD_TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6), "float16": (2e-2, 2e-2)}
BWD_TOL = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-5)}


def make_problem(cell, dtype, seed=0, batch=B, steps=T, inputs=IN, units=UNITS):
    """Random Keras-layout weights, inputs and output gradients (host NumPy, ``dtype``)."""
    from dlframe.backends import rnn_layout

    rng = np.random.default_rng(seed)
    gates = rnn_layout.num_gates(cell)
    lstm = cell == "lstm"

    def f(*shape):
        return (rng.standard_normal(shape) * 0.5).astype(dtype)

    arrays = {"x": f(batch, steps, inputs), "h0": f(batch, units),
              "c0": f(batch, units) if lstm else None,
              "kernel": f(inputs, gates * units), "recurrent_kernel": f(units, gates * units),
              "bias": f(gates * units) if lstm else f(2, gates * units)}
    grads = {"dy": f(batch, steps, units), "dhy": f(batch, units),
             "dcy": f(batch, units) if lstm else None}
    return arrays, grads


def to_device(cp, tree):
    return {k: (None if v is None else cp.asarray(v)) for k, v in tree.items()}


def f64(tree):
    return {k: (None if v is None else np.asarray(v, dtype=np.float64)) for k, v in tree.items()}


def host(cp, a):
    return None if a is None else cp.asnumpy(a)


def check_forward(kernel, cp, cell, dtype, lengths=None, training=False, seed=0):
    """cuDNN forward vs the float64 reference; also checks the padding contract."""
    from dlframe.backends import rnn_layout

    arrays, _ = make_problem(cell, dtype, seed)
    y, hy, cy, state = kernel.forward(**to_device(cp, arrays), seq_lengths=lengths,
                                      training=training)
    ry, rhy, rcy, _ = rnn_layout.reference_forward(cell, **f64(arrays), seq_lengths=lengths)
    rtol, atol = FWD_TOL[np.dtype(dtype).name]
    y, hy, cy = host(cp, y), host(cp, hy), host(cp, cy)
    assert y.dtype == np.dtype(dtype) and y.shape == (B, T, UNITS), (y.dtype, y.shape)
    np.testing.assert_allclose(y, ry, rtol=rtol, atol=atol, err_msg="y")
    np.testing.assert_allclose(hy, rhy, rtol=rtol, atol=atol, err_msg="hy")
    if cell == "lstm":
        np.testing.assert_allclose(cy, rcy, rtol=rtol, atol=atol, err_msg="cy")
    else:
        assert cy is None
    assert (state is not None) == bool(training)
    for b, n in enumerate(lengths or [T] * B):
        assert not y[b, n:].any(), f"outputs past length {n} of sample {b} are not 0"
        np.testing.assert_allclose(hy[b], y[b, n - 1], rtol=rtol, atol=atol,
                                   err_msg="hy != y at the last valid step")


def check_backward(kernel, cp, cell, dtype, lengths=None, seed=0, with_states=True):
    """cuDNN BackwardData + BackwardWeights vs the float64 NumPy BPTT."""
    from dlframe.backends import rnn_layout

    arrays, grads = make_problem(cell, dtype, seed)
    if not with_states:
        arrays["h0"] = arrays["c0"] = None
        grads["dhy"] = grads["dcy"] = None
    dev = to_device(cp, arrays)
    _, _, _, state = kernel.forward(**dev, seq_lengths=lengths, training=True)
    dgrads = to_device(cp, grads)
    got = kernel.backward(state, dgrads["dy"], dgrads["dhy"], dgrads["dcy"])
    _, _, _, cache = rnn_layout.reference_forward(cell, **f64(arrays), seq_lengths=lengths)
    g = f64(grads)
    want = rnn_layout.reference_backward(cache, g["dy"], g["dhy"], g["dcy"])
    rtol, atol = BWD_TOL[np.dtype(dtype).name]
    names = ("dx", "dh0", "dc0", "dkernel", "drecurrent_kernel", "dbias")
    for name, a, w in zip(names, got, want):
        if w is None:
            assert a is None, name
            continue
        a = host(cp, a)
        assert a.shape == w.shape, (name, a.shape, w.shape)
        np.testing.assert_allclose(a, w, rtol=rtol, atol=atol, err_msg=name)
    return got


def check_torch(kernel, cp, cell, seed=0):
    """Same weights in torch.nn.LSTM/GRU(batch_first=True) give the same outputs (fp32)."""
    import torch

    from dlframe.backends import rnn_layout

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    arrays, _ = make_problem(cell, np.float32, seed)
    w, r, bw, br = rnn_layout.keras_to_cudnn(cell, arrays["kernel"], arrays["recurrent_kernel"],
                                             arrays["bias"])
    mod = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(IN, UNITS, batch_first=True)
    mod = mod.cuda()
    with torch.no_grad():  # torch gate order = cuDNN order (GPU.md §3.6)
        mod.weight_ih_l0.copy_(torch.from_numpy(np.concatenate(w, 0)))
        mod.weight_hh_l0.copy_(torch.from_numpy(np.concatenate(r, 0)))
        mod.bias_ih_l0.copy_(torch.from_numpy(np.concatenate(bw)))
        mod.bias_hh_l0.copy_(torch.from_numpy(np.concatenate(br)))
        x = torch.from_numpy(arrays["x"]).cuda()
        h0 = torch.from_numpy(arrays["h0"]).cuda()[None]
        if cell == "lstm":
            c0 = torch.from_numpy(arrays["c0"]).cuda()[None]
            ty, (thy, tcy) = mod(x, (h0, c0))
        else:
            ty, thy = mod(x, h0)
    y, hy, cy, _ = kernel.forward(**to_device(cp, arrays))
    np.testing.assert_allclose(host(cp, y), ty.cpu().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(cp, hy), thy[0].cpu().numpy(), rtol=1e-5, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(host(cp, cy), tcy[0].cpu().numpy(), rtol=1e-5, atol=1e-6)


def check_interleaved(kernel, cp, cell):
    """Two forwards of one shape with different lengths, backward of the first (retain)."""
    from dlframe.backends import rnn_layout

    arrays, grads = make_problem(cell, np.float64, seed=3)
    dev = to_device(cp, arrays)
    _, _, _, s1 = kernel.forward(**dev, seq_lengths=LENGTHS, training=True)
    _, _, _, s2 = kernel.forward(**dev, seq_lengths=[2, 5, 4], training=True)
    assert s1.plan is s2.plan
    dg = to_device(cp, grads)
    first = kernel.backward(s1, dg["dy"], dg["dhy"], dg["dcy"], retain=True)
    second = kernel.backward(s1, dg["dy"], dg["dhy"], dg["dcy"])
    _, _, _, cache = rnn_layout.reference_forward(cell, **arrays, seq_lengths=LENGTHS)
    want = rnn_layout.reference_backward(cache, grads["dy"], grads["dhy"], grads["dcy"])
    for a, b, w in zip(first, second, want):
        if w is None:
            continue
        np.testing.assert_allclose(host(cp, a), w, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(host(cp, b), w, rtol=1e-6, atol=1e-9)
    try:
        kernel.backward(s1, dg["dy"])
    except RuntimeError:
        pass
    else:
        raise AssertionError("a consumed RNNState was accepted")


def check_stream(kernel, cp, cell):
    """Same result on a non-blocking stream as on the default stream; repeatable."""
    arrays, _ = make_problem(cell, np.float32, seed=4)
    dev = to_device(cp, arrays)
    ref = host(cp, kernel.forward(**dev, seq_lengths=LENGTHS)[0])
    again = host(cp, kernel.forward(**dev, seq_lengths=LENGTHS)[0])
    np.testing.assert_array_equal(ref, again)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        y = kernel.forward(**dev, seq_lengths=LENGTHS)[0]
        stream.synchronize()
    np.testing.assert_array_equal(host(cp, y), ref)


def gpu_device():
    """dlframe's GPUDevice for gpu:0."""
    from dlframe import backends
    return backends.get_device("gpu:0")


# ---------------------------------------------------------------------------------

def _environment(cp):
    print(f"python {platform.python_version()}  cupy {cp.__version__}")
    rt = cp.cuda.runtime
    print(f"cuda runtime {rt.runtimeGetVersion()}  driver {rt.driverGetVersion()}")
    dev = cp.cuda.Device(0)
    print(f"device 0: cc {dev.compute_capability}  mem_info {dev.mem_info}")
    try:
        import torch
        print(f"torch {torch.__version__}")
    except ImportError:
        print("torch: not installed")
    from dlframe.backends import cudnn
    try:
        api = cudnn.load_library()
        print(f"cuDNN {api.version} from {api.where}")
    except cudnn.CudnnUnavailableError as exc:
        print(f"cuDNN: unavailable: {exc}")


def main():
    try:
        import cupy as cp
    except ImportError:
        print("SKIP cupy is not installed")
        return 0
    if not cp.cuda.is_available():
        print("SKIP no CUDA GPU (cupy.cuda.is_available() is False)")
        return 0
    os.environ.setdefault("DLFRAME_DEVICE", "gpu")
    _environment(cp)
    from dlframe.backends import cudnn

    results = []

    def run(name, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report every failure, keep going
            if type(exc).__name__ == "Skipped" or isinstance(exc, ImportError):
                print(f"SKIP {name}: {exc}")
                return
            results.append(False)
            print(f"FAIL {name}: {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=4)
        else:
            results.append(True)
            print(f"PASS {name}")

    try:
        cudnn.load_library()
    except cudnn.CudnnUnavailableError as exc:
        print(f"FAIL cudnn.load_library: {exc}")
        return 1
    device = gpu_device()
    kernels = {}

    def make_kernels():
        for cell in ("lstm", "gru"):
            for layout in ("seq_major", "batch_major"):
                kernels[cell, layout] = cudnn.rnn_kernel(device, cell, layout=layout)

    run("rnn_kernel: handle + descriptors", make_kernels)
    if not kernels:
        return 1

    def device_method():
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            k = device.rnn_kernel("lstm")
        assert isinstance(k, cudnn.CudnnRNN), k

    run("GPUDevice.rnn_kernel returns the cuDNN kernel", device_method)
    for (cell, layout), kern in kernels.items():
        for dtype in ("float64", "float32", "float16"):
            for lengths in (None, LENGTHS):
                for training in (False, True):
                    run(f"forward {cell} {layout} {dtype} lengths={lengths} "
                        f"training={training}", check_forward, kern, cp, cell, dtype,
                        lengths, training)
        for dtype in ("float64", "float32"):
            for lengths in (None, LENGTHS):
                run(f"backward {cell} {layout} {dtype} lengths={lengths}", check_backward,
                    kern, cp, cell, dtype, lengths)
        run(f"backward {cell} {layout} no h0/c0/dhy/dcy", check_backward, kern, cp, cell,
            "float64", LENGTHS, with_states=False)
        run(f"interleaved lengths + retain {cell} {layout}", check_interleaved, kern, cp, cell)
        run(f"streams {cell} {layout}", check_stream, kern, cp, cell)
        if layout == "seq_major":
            run(f"torch cross-check {cell}", check_torch, kern, cp, cell)
    n_fail = results.count(False)
    print(f"{len(results) - n_fail} passed, {n_fail} failed")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
