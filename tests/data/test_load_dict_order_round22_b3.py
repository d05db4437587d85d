"""Dataset.load gives dicts in sorted key order (spec and elements), as TF 2.21."""

import dlframe as tf


def test_loaded_dicts_have_sorted_keys(tmp_path):
    ds = tf.data.Dataset.range(3).map(
        lambda x: {"v": x, "s": tf.strings.as_string(x), "a": (x * 2, {"z": x, "b": x})})
    assert list(ds.element_spec) == ["v", "s", "a"]   # map keeps the order
    ds.save(str(tmp_path))
    loaded = tf.data.Dataset.load(str(tmp_path))
    assert list(loaded.element_spec) == ["a", "s", "v"]
    assert list(loaded.element_spec["a"][1]) == ["b", "z"]
    first = next(iter(loaded))
    assert list(first) == ["a", "s", "v"] and list(first["a"][1]) == ["b", "z"]
    got = [(int(e["v"]), e["s"], int(e["a"][0]), int(e["a"][1]["z"]))
           for e in loaded.as_numpy_iterator()]
    assert got == [(0, b"0", 0, 0), (1, b"1", 2, 1), (2, b"2", 4, 2)]


def test_loaded_tuples_unchanged(tmp_path):
    tf.data.Dataset.range(3).map(lambda x: (x, x * 2)).save(str(tmp_path))
    got = list(tf.data.Dataset.load(str(tmp_path)).as_numpy_iterator())
    assert [(int(a), int(b)) for a, b in got] == [(0, 0), (1, 2), (2, 4)]
