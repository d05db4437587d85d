"""Shared driver of the side-by-side benchmarks: time a callable, run TensorFlow and
PyTorch workloads in a subprocess of ``--peer-python``, print one sorted table."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def per_call_ms(fn, n, repeats=5):
    """Median over ``repeats`` of the mean ms per call of ``fn`` over ``n`` calls."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return statistics.median(times)


def _peer_results(tf_workloads, torch_workloads):
    out = {}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        out.update(tf_workloads(tf, "tensorflow"))
    except ImportError:
        pass
    try:
        out.update(torch_workloads())
    except ImportError:
        pass
    return out


def main(script, tf_workloads, torch_workloads):
    """Runs ``tf_workloads(dlframe, "dlframe")`` here and both peers' workloads in
    ``--peer-python``; prints rows sorted by workload, then framework."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(_peer_results(tf_workloads, torch_workloads)))
        return
    import dlframe as tf
    results = tf_workloads(tf, "dlframe")
    proc = subprocess.run([args.peer_python, script, "--peer"], capture_output=True,
                          text=True, check=False)
    if proc.returncode == 0 and proc.stdout.strip():
        results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    for key in sorted(results, key=lambda k: (k.split(": ")[1], k)):
        print(f"{key:45s} {results[key]:10.2f}")
