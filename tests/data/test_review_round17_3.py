"""Review of round 17's tf.data changes: ``padded_batch`` with a None padding value
for some components, and the pipeline fingerprint that keys ``Dataset.snapshot``
(sensitive to what a pipeline computes, stable across processes and rebuilds)."""

import functools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dlframe as tf
from dlframe.data.fingerprint import fingerprint
from dlframe.ops import random_kernels


@pytest.fixture(autouse=True)
def _no_global_seed(monkeypatch):
    """Unseeded shuffles as in a fresh program (earlier tests may set a seed)."""
    monkeypatch.setattr(random_kernels._SEEDS, "global_seed", None)


def _lists(ds):
    return [tf.nest.map_structure(lambda t: np.asarray(t.numpy()).tolist(), x)
            for x in ds]


# ------------------------------------------------------------- padded_batch
def test_padding_values_none_component_takes_the_default():
    # outputs of TF 2.21: a None padding value pads that component with 0 / b""
    ints = tf.data.Dataset.range(1, 4).map(lambda x: tf.fill([x], tf.cast(x, tf.int32)))
    words = tf.data.Dataset.range(1, 4).map(lambda x: tf.fill([x], tf.strings.as_string(x)))
    pair = tf.data.Dataset.zip((ints, words))
    assert _lists(pair.padded_batch(2, padding_values=(-1, None)))[0] == \
        ([[1, -1], [2, 2]], [[b"1", b""], [b"2", b"2"]])
    assert _lists(pair.padded_batch(2, padding_values=(None, "<pad>")))[0] == \
        ([[1, 0], [2, 2]], [[b"1", b"<pad>"], [b"2", b"2"]])
    both = tf.data.Dataset.zip({"a": ints, "b": ints})
    assert _lists(both.padded_batch(2, padding_values={"a": 7, "b": None}))[0] == \
        {"a": [[1, 7], [2, 2]], "b": [[1, 0], [2, 2]]}


# ------------------------------------------------------------- fingerprint
def _add(x, k):
    return x + k


class _Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return x * self.k

    def times(self, x):
        return x * self.k


_OFFSET = tf.constant([3, 4], tf.int64)


def test_fingerprint_sees_partial_args_callable_state_and_tf_function_code():
    base = tf.data.Dataset.range(4)

    def fp(fn):
        return fingerprint(base.map(fn))

    assert fp(functools.partial(_add, k=1)) == fp(functools.partial(_add, k=1))
    assert fp(functools.partial(_add, k=1)) != fp(functools.partial(_add, k=2))
    assert fp(_Scale(2)) == fp(_Scale(2)) != fp(_Scale(3))
    assert fp(_Scale(2).times) == fp(_Scale(2).times) != fp(_Scale(3).times)
    assert fp(tf.function(lambda x: x + 1)) != fp(tf.function(lambda x: x - 1))
    # a module-level tensor the function reads counts by value
    assert fp(lambda x: x + _OFFSET[0]) == fp(lambda x: x + _OFFSET[0])
    assert fp(lambda x: x + _OFFSET[0]) != fp(lambda x: x + _OFFSET[1])


def test_fingerprint_sees_ragged_and_sparse_source_data():
    def ragged(rows):
        return fingerprint(tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows)))

    assert ragged([[1, 2], [3]]) == ragged([[1, 2], [3]])
    assert ragged([[1, 2], [3]]) != ragged([[1], [2, 3]])

    def sparse(values):
        st = tf.sparse.SparseTensor([[0, 0], [1, 2]], values, [2, 3])
        return fingerprint(tf.data.Dataset.from_tensor_slices(st))

    assert sparse([1.0, 2.0]) == sparse([1.0, 2.0]) != sparse([1.0, 5.0])


def test_fingerprint_of_dense_slices_follows_keys_and_data():
    def fp(data):
        return fingerprint(tf.data.Dataset.from_tensor_slices(data))

    x = np.arange(6.0).reshape(3, 2)
    assert fp({"a": x}) == fp({"a": x.copy()})
    assert fp({"a": x}) != fp({"b": x})
    assert fp({"a": x}) != fp({"a": x + 1})
    assert fp({"a": x.T.copy().T}) == fp({"a": x})   # layout does not count


def test_unseeded_shuffle_keeps_its_fingerprint_seeded_ones_differ():
    base = tf.data.Dataset.range(10)
    # TF's graph holds zero seeds when none is set: rebuilding reuses a snapshot
    assert fingerprint(base.shuffle(4)) == fingerprint(base.shuffle(4))
    assert fingerprint(base.shuffle(4, seed=1)) != fingerprint(base.shuffle(4, seed=2))


_PROGRAM = textwrap.dedent("""
    import functools
    import numpy as np
    import dlframe as tf
    from dlframe.data.fingerprint import fingerprint

    def scale(x, k):
        return x * k

    ds = (tf.data.Dataset.from_tensor_slices(
              {"x": np.arange(6, dtype=np.int64), "s": np.array(list("abcdef"))})
          .shuffle(3)
          .map(lambda e: (e["s"], e["x"] * 2 if "b" in {"a", "b", "c"} else 0))
          .map(lambda s, x: functools.partial(scale, k=2)(x))
          .padded_batch(2, padding_values=np.int64(-1)))
    print(fingerprint(ds))
""")


def test_fingerprint_is_the_same_in_other_processes(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(_PROGRAM)
    digests = set()
    for seed in ("1", "2"):   # str/bytes hashing differs between these processes
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, str(script)], env=env, check=True,
                             capture_output=True, text=True, timeout=120)
        digests.add(out.stdout.strip().splitlines()[-1])
    assert len(digests) == 1


def test_snapshot_recomputes_when_partial_args_change(tmp_path):
    calls = []

    def pipeline(k):
        def gen():
            calls.append(k)
            yield from range(3)
        source = tf.data.Dataset.from_generator(
            gen, output_signature=tf.TensorSpec((), tf.int64))
        return source.shuffle(3).map(functools.partial(_add, k=k)).snapshot(
            str(tmp_path / "snap"))

    assert sorted(_lists(pipeline(0))) == [0, 1, 2]
    assert sorted(_lists(pipeline(0))) == [0, 1, 2] and calls == [0]   # read back
    assert sorted(_lists(pipeline(10))) == [10, 11, 12] and calls == [0, 10]
