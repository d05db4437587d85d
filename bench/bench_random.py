"""Random-number speed in dlframe beside TensorFlow and PyTorch when installed.

dlframe's seeded uniform/normal/truncated-normal draws run TF's Philox4x32-10 in
vectorised NumPy/CuPy (the same numbers as TF); dropout masks use the device
generator. Each workload draws 1M float32 values (dropout: a [1024, 1024] input).

dlframe runs in this process; TF/PyTorch in a subprocess of --peer-python.
Run: python bench/bench_random.py [--peer-python /path/to/python]
"""

import peer_harness

SHAPE = [1024, 1024]


def per_call_ms(fn):
    return peer_harness.per_call_ms(fn, 20)


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


if __name__ == "__main__":
    peer_harness.main(__file__, tf_like_workloads, torch_workloads)
