"""Review round 20 (R5): py_function/numpy_function results and tf.strings argument
order.

* A Python ``str`` returned for ``Tout=tf.string`` in a graph (tf.function,
  Dataset.map) became a string Tensor holding ``str``, not UTF-8 ``bytes``.
* A py_function body whose result lives on a GPU (numbers derived from the host
  strings it was given, while the default device is a GPU) crashed converting it
  for the host op (``cpu:0``'s ``to_numpy`` on a CuPy array).
* ``tf.strings.length(s, "UTF8_CHAR")`` / ``substr(s, p, n, "UTF8_CHAR")`` took the
  positional unit as ``name`` (TF 1's order) and silently counted bytes.
"""

import numpy as np
import pytest

import dlframe as tf
from tests.test_fake_gpu_host_kernels_round19 import _same_on_gpu_and_cpu


@pytest.mark.parametrize("wrap", [tf.numpy_function, tf.py_function])
def test_python_str_result_is_utf8_bytes_in_graphs(wrap):
    graph = tf.function(lambda: wrap(lambda: "héllo", [], tf.string))()
    mapped = next(iter(tf.data.Dataset.range(1).map(
        lambda _: wrap(lambda: np.str_("é"), [], tf.string))))
    # values from TF 2.21
    assert graph.numpy() == "héllo".encode()
    assert int(tf.strings.length(graph, unit="UTF8_CHAR")) == 5
    assert mapped.numpy() == "é".encode()


def test_positional_unit_follows_tf2_order():
    s = tf.constant(["héllo", "ab"])
    # values from TF 2.21: (input, unit, name) and (input, pos, len, unit, name)
    assert tf.strings.length(s, "UTF8_CHAR").numpy().tolist() == [5, 2]
    assert tf.strings.substr(s, 0, 2, "UTF8_CHAR").numpy().tolist() == [
        "hé".encode(), b"ab"]


_PY_FUNCTION_OF_STRINGS = r"""
ds = tf.data.Dataset.from_tensor_slices(["a b", "cde"])
bodies = [lambda s: tf.strings.length(s), lambda s: tf.size(s) + 1,
          lambda s: tf.shape(tf.strings.split(s))[0]]
for body in bodies:
    for kw in ({}, {"num_parallel_calls": 2}):
        out = ds.map(lambda w: tf.py_function(body, [w], tf.int32), **kw)
        print(sorted(int(v) for v in out))
    print(int(tf.function(lambda w: tf.py_function(body, [w], tf.int32))(
        tf.constant("x y z"))))
"""


def test_py_function_of_strings_on_a_gpu_default_device():
    out = _same_on_gpu_and_cpu(_PY_FUNCTION_OF_STRINGS)
    assert out.split("\n")[:3] == ["[3, 3]", "[3, 3]", "5"]
    assert "[2, 2]" in out and "[1, 2]" in out
