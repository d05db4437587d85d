"""Times LSTM(128) / GRU(128) training steps: batch 64, 50 steps, 32 features, Dense(10)
head, Adam, sparse softmax cross-entropy.

dlframe eager (GradientTape) and compiled (``dlframe.function``) run in this process;
TensorFlow (Keras 3, eager tape and ``tf.function``) and PyTorch run in a subprocess of
the interpreter named by ``--ref-python`` (default: this one) when they import there.
Prints medians in ms/step and ratios.

``--kernels`` times instead, dlframe only, in process time on one BLAS thread, the
fused sequence kernels' forward and backward (the backward without the input
gradient, as for a first layer) and the whole compiled training step: on a machine
that other jobs keep busy, wall-clock figures swing 2-4x, these far less.

    python bench/bench_rnn.py [--steps 30] [--ref-python /opt/scratch/tfvenv/bin/python]
    python bench/bench_rnn.py --kernels [--steps 40]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

B, T, F, U, C = 64, 50, 32, 128, 10


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, T, F)).astype("float32"),
            rng.integers(0, C, B).astype("int64"))


def _median_ms(step, n):
    for _ in range(3):
        step()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def _dlframe_step(tf, kind, x, y, compiled):
    keras = tf.keras
    rnn = keras.layers.LSTM(U) if kind == "lstm" else keras.layers.GRU(U)
    model = keras.Sequential([rnn, keras.layers.Dense(C)])
    opt = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    return (tf.function(step) if compiled else step), rnn


def bench_dlframe(kind, n):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import dlframe as tf
    x, y = _data()
    x, y = tf.constant(x), tf.constant(y)
    out = {}
    for mode in ("eager", "function"):
        fn, rnn = _dlframe_step(tf, kind, x, y, mode == "function")
        out[mode] = _median_ms(lambda fn=fn: float(fn()), n)
        out["kernel"] = rnn.last_kernel
    return out


_REF = r'''
import json, os, statistics, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
B, T, F, U, C, kind, n = {B}, {T}, {F}, {U}, {C}, "{kind}", {n}
rng = np.random.default_rng(0)
x = rng.standard_normal((B, T, F)).astype("float32"); y = rng.integers(0, C, B)
def med(step):
    for _ in range(3): step()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); step(); ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)
res = {{}}
try:
    import torch
    torch.manual_seed(0)
    dev = "cuda" if torch.cuda.is_available() else "cpu"   # where dlframe runs too
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(F, U, batch_first=True).to(dev)
    head = torch.nn.Linear(U, C).to(dev)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, 1e-3)
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
    def tstep():
        opt.zero_grad()
        out, _ = rnn(xt)
        loss = torch.nn.functional.cross_entropy(head(out[:, -1]), yt)
        loss.backward(); opt.step(); return float(loss)
    res["torch"] = med(tstep)
except ImportError:
    pass
try:
    import tensorflow as tf
    keras = tf.keras
    for mode in ("eager", "function"):
        layer = keras.layers.LSTM(U) if kind == "lstm" else keras.layers.GRU(U)
        model = keras.Sequential([keras.Input((T, F)), layer, keras.layers.Dense(C)])
        opt = keras.optimizers.Adam(1e-3)
        lf = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        xt, yt = tf.constant(x), tf.constant(y)
        def step():
            with tf.GradientTape() as tape:
                loss = lf(yt, model(xt, training=True))
            g = tape.gradient(loss, model.trainable_weights)
            opt.apply_gradients(zip(g, model.trainable_weights)); return loss
        fn = tf.function(step) if mode == "function" else step
        res["tf_" + mode] = med(lambda: float(fn()))
except ImportError:
    pass
print("RESULT" + json.dumps(res))
'''


def bench_reference(python, kind, n):
    code = _REF.format(B=B, T=T, F=F, U=U, C=C, kind=kind, n=n)
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True,
                              timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"  reference run failed: {exc}")
        return {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    print("  reference run failed:", proc.stderr[-500:])
    return {}


def _cpu_median_ms(fn, n):
    for _ in range(2):
        fn()
    times = []
    for _ in range(n):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1e3)
    return statistics.median(times)


def _kernel_fns(rnn, dev, kind, x, rng):
    """(forward, backward) raw-array calls of the fused ``kind`` kernels."""
    gates = 4 if kind == "lstm" else 3
    h0 = np.zeros((B, U), np.float32)
    k = rng.standard_normal((F, gates * U)).astype("float32") * 0.1
    rk = rng.standard_normal((U, gates * U)).astype("float32") * 0.1
    bias = rng.standard_normal((gates * U,) if kind == "lstm" else (2, gates * U))
    bias = bias.astype("float32") * 0.1
    dy = np.zeros((B, T, U), np.float32)
    dh = rng.standard_normal((B, U)).astype("float32")
    attrs = {"act": "tanh", "ract": "sigmoid", "go_backwards": False}
    if kind == "lstm":
        def fwd():
            return rnn.lstm_p.forward(dev, x, h0, h0, k, rk, bias, **attrs)
        aux = fwd()[3:]

        def bwd():
            return rnn.lstm_grad_p.forward(dev, x, k, rk, *aux, dy, dh, dh,
                                           need_dx=False, **attrs)
        return fwd, bwd
    attrs["reset_after"] = True

    def fwd():
        return rnn.gru_p.forward(dev, x, h0, k, rk, bias, **attrs)
    aux = fwd()[2:]

    def bwd():
        return rnn.gru_grad_p.forward(dev, x, k, rk, *aux, dy, dh, need_dx=False,
                                      **attrs)
    return fwd, bwd


def kernels_main(n):
    """Process-time medians of the fused kernels and the compiled step."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import dlframe as tf
    from dlframe.backends.numpy_backend import blas_threads
    from dlframe.ops import rnn
    blas_threads().set(1)
    dev = tf.constant(0.0)._device
    dev.set_intra_op_threads(1)
    rng = np.random.default_rng(0)
    x, y = _data()
    print(f"batch {B}, {T} steps, {F} features, {U} units; process time, one BLAS "
          f"thread, median of {n}, ms")
    for kind in ("lstm", "gru"):
        fwd, bwd = _kernel_fns(rnn, dev, kind, x, rng)
        step, _ = _dlframe_step(tf, kind, tf.constant(x), tf.constant(y), True)
        print(f"{kind.upper():4s} forward {_cpu_median_ms(fwd, n):6.2f}  backward "
              f"{_cpu_median_ms(bwd, n):6.2f}  compiled step "
              f"{_cpu_median_ms(lambda s=step: float(s()), n):6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--ref-python", default=sys.executable)
    parser.add_argument("--no-ref", action="store_true")
    parser.add_argument("--kernels", action="store_true",
                        help="time the fused kernels and the compiled step in process "
                             "time on one BLAS thread (dlframe only)")
    args = parser.parse_args()
    if args.kernels:
        return kernels_main(args.steps)
    print(f"batch {B}, {T} steps, {F} features, {U} units, Dense({C}), Adam; "
          f"median of {args.steps} steps, ms/step")
    for kind in ("lstm", "gru"):
        res = bench_dlframe(kind, args.steps)
        ref = {} if args.no_ref else bench_reference(args.ref_python, kind, args.steps)
        line = (f"{kind.upper():4s} dlframe eager {res['eager']:7.1f}  "
                f"dlframe function {res['function']:7.1f}  (kernel {res['kernel']})")
        for name, value in ref.items():
            line += f"  {name} {value:7.1f} (x{value / res['function']:.2f})"
        print(line)


if __name__ == "__main__":
    main()
