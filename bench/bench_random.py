"""Random-number speed in dlframe beside TensorFlow and PyTorch when installed.

dlframe's seeded uniform/normal/truncated-normal draws run TF's Philox4x32-10 in
vectorised NumPy/CuPy (the same numbers as TF); dropout masks use the device
generator. Each workload draws 1M float32 values (dropout: a [1024, 1024] input);
the Keras 3 rows are seeded stateless draws after ``keras.utils.set_random_seed``.

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
    out = {f"{label}: {name} ms": per_call_ms(fn) for name, fn in work.items()}
    out.update(keras3_seeded_workloads(tf, label))
    return out


def keras3_seeded_workloads(tf, label):
    """Keras 3's stateless draws after ``set_random_seed`` (TF 2.21's numbers): a
    Dropout layer's SeedGenerator mask, eager, on a small and a 1M input, and
    ``keras.random.dropout`` (TF/Keras 2 lack ``keras.random``: skipped there)."""
    keras = tf.keras
    if not hasattr(keras, "random") or not hasattr(keras.utils, "set_random_seed"):
        return {}
    keras.utils.set_random_seed(1)
    layer = keras.layers.Dropout(0.2)
    small, ones = tf.ones([32, 128]), tf.ones(SHAPE)
    gen = keras.random.SeedGenerator(1)
    work = {
        "keras3 Dropout(0.2) layer [32, 128]": lambda: layer(small, training=True),
        "keras3 Dropout(0.2) layer [1024, 1024]": lambda: layer(ones, training=True),
        "keras3 random.dropout(x, 0.5, SeedGenerator)":
            lambda: keras.random.dropout(ones, 0.5, seed=gen),
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
