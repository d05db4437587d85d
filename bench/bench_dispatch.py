"""Eager dispatch cost per op (small tensors), with and without a recording tape,
against raw NumPy on the same machine; plus `import dlframe` time in a fresh process.

Run: python bench/bench_dispatch.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("DLFRAME_DEVICE", "cpu")
import dlframe as tf  # noqa: E402

N = 20000


def per_call(fn, n=N, repeats=7):
    """Median over repeats of the mean time per call, in microseconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(times)


def import_time(module, repeats=5):
    """Median seconds of ``import module`` in fresh interpreters, with bytecode caches
    (as after ``pip install``; a warm-up run writes them into a scratch prefix, so
    this works even where PYTHONDONTWRITEBYTECODE is set)."""
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, DLFRAME_DEVICE="", PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        vals = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True, env=env).stdout)
                for _ in range(repeats + 1)]
    return statistics.median(vals[1:])


def main():
    a_np = np.ones((4, 4), np.float32)
    b_np = np.full((4, 4), 2.0, np.float32)
    a, b = tf.constant(a_np), tf.constant(b_np)
    v = tf.Variable(a_np)
    rows = []
    cases = [
        ("add", lambda: np.add(a_np, b_np), lambda: tf.add(a, b)),
        ("a + b (operator)", lambda: a_np + b_np, lambda: a + b),
        ("multiply by 2.0", lambda: a_np * np.float32(2.0), lambda: a * 2.0),
        ("exp", lambda: np.exp(a_np), lambda: tf.exp(a)),
        ("matmul", lambda: a_np @ b_np, lambda: tf.matmul(a, b)),
        ("reduce_sum", lambda: a_np.sum(), lambda: tf.reduce_sum(a)),
        ("relu", lambda: np.maximum(a_np, 0), lambda: tf.nn.relu(a)),
        ("variable * b", lambda: a_np * b_np, lambda: v * b),
    ]
    for name, np_fn, tf_fn in cases:
        t_np = per_call(np_fn)
        t_eager = per_call(tf_fn)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(a)
            t_rec = per_call(tf_fn, n=N // 4)
        del tape
        rows.append((name, t_np, t_eager, t_eager - t_np, t_rec, t_rec / t_eager))
    print(f"{'op':20s} {'numpy us':>9s} {'eager us':>9s} {'overhead':>9s} "
          f"{'taped us':>9s} {'taped/eager':>11s}")
    for r in rows:
        print(f"{r[0]:20s} {r[1]:9.2f} {r[2]:9.2f} {r[3]:9.2f} {r[4]:9.2f} {r[5]:11.2f}")
    print()
    for mod in ("numpy", "dlframe"):
        print(f"import {mod}: {import_time(mod):.3f} s")


if __name__ == "__main__":
    main()
