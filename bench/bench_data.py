"""tf.data pipeline benchmarks: parallel map speedup and prefetch overlap.

1. A map-heavy pipeline whose function releases the GIL (NumPy ufuncs over large
   arrays; and an I/O-like function that sleeps), sequential vs
   ``map(num_parallel_calls=AUTOTUNE)``.
2. A training-like loop where producing a batch costs t and a step costs t: without
   prefetch a step takes ~2t, with ``prefetch(1)`` ~t.

Prints medians of several runs (and TensorFlow's figures side by side when it is
importable). Run: ``python bench/bench_data.py [--repeats N]``.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("DLFRAME_DEVICE", "cpu")

import dlframe

try:  # optional comparison
    import tensorflow as _tf
except ImportError:
    _tf = None

N_ELEMENTS = 48
ARRAY = 400_000
SLEEP = 0.01


def numpy_heavy(x):
    """GIL-releasing work: a few ufunc passes over a 400k-float array."""
    a = np.asarray(x) if not hasattr(x, "numpy") else x.numpy()
    for _ in range(4):
        a = np.tanh(np.exp(a * 0.5) - 1.0)
    return np.float32(a.sum())


def io_like(x):
    """An I/O-bound function (a read that waits 10 ms)."""
    time.sleep(SLEEP)
    return x


def _time(fn, repeats):
    fn()  # warm up (thread pools, first-call costs)
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _consume(ds):
    for _ in ds:
        pass


def bench_map(tf, repeats):
    data = np.random.default_rng(0).normal(size=(N_ELEMENTS, ARRAY)).astype(np.float32)
    base = tf.data.Dataset.from_tensor_slices(data)
    ints = tf.data.Dataset.range(N_ELEMENTS)
    rows = []
    for label, ds, fn in (("numpy-heavy map", base, numpy_heavy),
                          ("io-like map (10 ms sleep)", ints, io_like)):
        if tf is not dlframe:
            wrapped = _tf_py(fn, tf)
        else:
            wrapped = fn
        seq = _time(lambda ds=ds, w=wrapped: _consume(ds.map(w)), repeats)
        par = _time(lambda ds=ds, w=wrapped: _consume(
            ds.map(w, num_parallel_calls=tf.data.AUTOTUNE)),
                    repeats)
        rows.append((label, seq, par))
    return rows


def _tf_py(fn, tf):
    return lambda x: tf.numpy_function(fn, [x], tf.float32 if fn is numpy_heavy
                                       else tf.int64)


def bench_prefetch(tf, repeats, t=0.02, steps=25):
    def slow_input(x):
        time.sleep(t)  # producing a batch costs t
        return x

    if tf is not dlframe:
        produce = lambda x: tf.numpy_function(slow_input, [x], tf.int64)
    else:
        produce = slow_input
    ds = tf.data.Dataset.range(steps).map(produce)

    def loop(pipeline):
        for _ in pipeline:
            time.sleep(t)  # the training step costs t

    plain = _time(lambda: loop(ds), repeats) / steps
    pre = _time(lambda: loop(ds.prefetch(1)), repeats) / steps
    return t, plain, pre


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    frameworks = [("dlframe", dlframe)] + ([("tensorflow", _tf)] if _tf else [])
    print(f"cpu cores: {os.cpu_count()}; elements: {N_ELEMENTS}; medians of {args.repeats}")
    for name, tf in frameworks:
        print(f"\n[{name}] map: sequential vs num_parallel_calls=AUTOTUNE")
        for label, seq, par in bench_map(tf, args.repeats):
            print(f"  {label:28s} sequential {seq * 1e3:8.1f} ms   parallel "
                  f"{par * 1e3:8.1f} ms   speedup {seq / par:5.2f}x")
        t, plain, pre = bench_prefetch(tf, args.repeats)
        print(f"[{name}] prefetch: input cost t={t * 1e3:.0f} ms, step cost t")
        print(f"  per step without prefetch {plain * 1e3:6.1f} ms ({plain / t:4.2f} t); "
              f"with prefetch(1) {pre * 1e3:6.1f} ms ({pre / t:4.2f} t)")


if __name__ == "__main__":
    main()
