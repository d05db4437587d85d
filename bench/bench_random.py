"""Random-number speed in dlframe beside TensorFlow and PyTorch when installed.

dlframe's seeded uniform/normal/truncated-normal draws run TF's Philox4x32-10 in
vectorised NumPy/CuPy (the same numbers as TF); dropout masks use the device
generator. Each workload draws 1M float32 values (dropout: a [1024, 1024] input).

dlframe runs in this process; TF/PyTorch in a subprocess of --peer-python.
Run: python bench/bench_random.py [--peer-python /path/to/python]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPE = [1024, 1024]


def per_call_ms(fn, n=20, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return statistics.median(times)


def tf_like_workloads(tf, label):
    tf.random.set_seed(1)
    ones = tf.ones(SHAPE)
    work = {
        "seeded uniform": lambda: tf.random.uniform(SHAPE),
        "seeded normal": lambda: tf.random.normal(SHAPE),
        "seeded truncated_normal": lambda: tf.random.truncated_normal(SHAPE),
        "stateless_uniform": lambda: tf.random.stateless_uniform(SHAPE, seed=[1, 2]),
        "dropout(0.5)": lambda: tf.nn.dropout(ones, 0.5),
    }
    return {f"{label}: {name} ms": per_call_ms(fn) for name, fn in work.items()}


def torch_workloads():
    import torch
    torch.manual_seed(1)
    ones = torch.ones(SHAPE)
    work = {
        "seeded uniform": lambda: torch.rand(SHAPE),
        "seeded normal": lambda: torch.randn(SHAPE),
        "dropout(0.5)": lambda: torch.nn.functional.dropout(ones, 0.5),
    }
    return {f"pytorch: {name} ms": per_call_ms(fn) for name, fn in work.items()}


def peer_main():
    out = {}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        out.update(tf_like_workloads(tf, "tensorflow"))
    except ImportError:
        pass
    try:
        out.update(torch_workloads())
    except ImportError:
        pass
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer_main()
    import dlframe as tf
    results = tf_like_workloads(tf, "dlframe")
    proc = subprocess.run([args.peer_python, __file__, "--peer"], capture_output=True,
                          text=True)
    if proc.returncode == 0 and proc.stdout.strip():
        results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    for key in sorted(results, key=lambda k: (k.split(": ")[1], k)):
        print(f"{key:45s} {results[key]:10.2f}")


if __name__ == "__main__":
    main()
