"""Times LSTM(128) / GRU(128) training steps: batch 64, 50 steps, 32 features, Dense(10)
head, Adam, sparse softmax cross-entropy.

dlframe eager (GradientTape) and compiled (``dlframe.function``) run in this process;
TensorFlow (Keras 3, eager tape and ``tf.function``) and PyTorch run in a subprocess of
the interpreter named by ``--ref-python`` (default: this one) when they import there.
Prints medians in ms/step and ratios.

    python bench/bench_rnn.py [--steps 30] [--ref-python /opt/scratch/tfvenv/bin/python]
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
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(F, U, batch_first=True)
    head = torch.nn.Linear(U, C)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, 1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--ref-python", default=sys.executable)
    parser.add_argument("--no-ref", action="store_true")
    args = parser.parse_args()
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
