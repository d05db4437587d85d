"""Round 17 probe: Checkpoint write/read vs save/restore pairs and NumPy-behaviour
list indexing (``tnp.experimental_enable_numpy_behavior``), checked against TF 2.21."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlframe as tf
from dlframe.ops import slicing
from tests.helpers import check_op

KEY = "/.ATTRIBUTES/VARIABLE_VALUE"


# ------------------------------------------------------------ checkpoint pairs
def _names(path):
    return [name for name, _ in tf.train.list_variables(path)]


def _outcomes(status):
    """Which of the status checks raise AssertionError (TF 2.21's outcomes below)."""
    out = {}
    for method in ("assert_consumed", "assert_existing_objects_matched",
                   "assert_nontrivial_match", "expect_partial"):
        try:
            getattr(status, method)()
            out[method] = "ok"
        except AssertionError:
            out[method] = "raises"
    return out


OK = {"assert_consumed": "ok", "assert_existing_objects_matched": "ok",
      "assert_nontrivial_match": "ok", "expect_partial": "ok"}


def test_write_on_a_fresh_checkpoint_stores_no_save_counter(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    path = ckpt.write(str(tmp_path / "w"))
    assert _names(path) == ["_CHECKPOINTABLE_OBJECT_GRAPH", "v" + KEY]
    saved = ckpt.save(str(tmp_path / "s"))
    assert _names(saved) == ["_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter" + KEY,
                             "v" + KEY]
    # once the counter exists, write() stores it too (as TF does)
    assert "save_counter" + KEY in _names(ckpt.write(str(tmp_path / "w2")))
    assert int(ckpt.save_counter.numpy()) == 1


@pytest.mark.parametrize("writer, loader, expected", [
    # outcomes observed with TF 2.21
    ("write", "read", OK),
    ("save", "restore", OK),
    ("write", "restore", dict(OK, assert_consumed="raises",
                              assert_existing_objects_matched="raises")),
    ("save", "read", dict(OK, assert_consumed="raises")),
])
def test_status_checks_follow_the_write_read_and_save_restore_pairs(
        tmp_path, writer, loader, expected):
    path = getattr(tf.train.Checkpoint(v=tf.Variable(1.5)), writer)(str(tmp_path / "c"))
    for method in expected:
        fresh = tf.train.Checkpoint(v=tf.Variable(0.0))
        status = getattr(fresh, loader)(path)
        assert fresh.v.numpy() == 1.5   # the value is restored in every case
        assert _outcomes(status)[method] == expected[method], method


def test_read_of_a_saved_file_restores_the_counter_when_it_is_created(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    ckpt.save(str(tmp_path / "s"))
    path = ckpt.save(str(tmp_path / "s"))
    fresh = tf.train.Checkpoint(v=tf.Variable(0.0))
    status = fresh.read(path)
    with pytest.raises(AssertionError):
        status.assert_consumed()
    assert int(fresh.save_counter.numpy()) == 2   # deferred, as in TF
    status.assert_consumed()
    restored = tf.train.Checkpoint(v=tf.Variable(0.0))
    restored.restore(path).assert_consumed()
    assert int(restored.save_counter.numpy()) == 2


def test_keras_tf_format_weights_load_consumed(tmp_path):
    # Keras 2's save_weights/load_weights pair writes and reads without a counter
    def model():
        return tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    source, target = model(), model()
    prefix = str(tmp_path / "weights")
    source.save_weights(prefix, save_format="tf")
    assert "save_counter" + KEY not in _names(prefix)
    target.load_weights(prefix).assert_consumed()
    np.testing.assert_array_equal(target.layers[0].kernel.numpy(),
                                  source.layers[0].kernel.numpy())


def _shared_save():
    save = tf.train.Checkpoint()
    save.listed = [tf.Variable(1.0)]
    save.listed.append(tf.Variable(2.0))
    save.mapped = {"one": save.listed[0]}
    save.mapped["two"] = save.listed[1]
    return save


def _restore_through_dict_then_list(path):
    # "Training checkpoints" guide, list and dictionary tracking
    restore = tf.train.Checkpoint()
    v2 = tf.Variable(0.0)
    restore.mapped = {"two": v2}
    status = restore.restore(path)
    assert v2.numpy() == 2.0   # stored once, under listed/1, reached via mapped/two
    restore.listed = []
    assert repr(restore.listed) == "ListWrapper([])"
    v1 = tf.Variable(0.0)
    restore.listed.append(v1)   # delayed restoration on append
    assert v1.numpy() == 1.0
    return status


def test_variable_reached_along_two_edges_restores_through_either(tmp_path):
    path = _shared_save().save(str(tmp_path / "shared"))
    assert _names(path) == ["_CHECKPOINTABLE_OBJECT_GRAPH", "listed/0" + KEY,
                            "listed/1" + KEY, "save_counter" + KEY]
    _restore_through_dict_then_list(path).assert_consumed()
    # restoring through both edges consumes each stored value once
    again = _shared_save()
    for var in again.listed:
        var.assign(0.0)
    again.restore(path).assert_consumed()
    assert [float(v) for v in again.mapped.values()] == [1.0, 2.0]


def test_tensorflow_checkpoint_with_shared_edges(tmp_path):
    # written by TF 2.21: Checkpoint with listed=[v1, v2], mapped={'one': v1,
    # 'two': v2}, .write(prefix)
    path = str(Path(__file__).parent / "train" / "fixtures" / "tf_shared_edges" /
               "shared")
    status = _restore_through_dict_then_list(path)
    with pytest.raises(AssertionError):   # restore() made a save_counter: unmatched
        status.assert_existing_objects_matched()


# ------------------------------------------------------------ NumPy list keys
@pytest.fixture
def numpy_indexing():
    slicing.set_numpy_indexing(True)
    yield
    slicing.set_numpy_indexing(False)


X = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("key", [
    [0, 2], [-1, 0], [2, 2, 0], [True, False, True],
    (slice(None), [1, 0]), (slice(1, None), [0, 3]), (Ellipsis, [3]), (None, [0, 1]),
    ([0, 1], [1, 2]),
])
def test_list_keys_gather_under_numpy_behaviour(numpy_indexing, key):
    def index(x):
        return x[key]
    check_op(index, [X.copy()], lambda x: x[key])


def test_nested_list_key_is_a_tuple_under_numpy_behaviour(numpy_indexing):
    # TF 2.21 under numpy behaviour: t[[[0, 1], [2, 2]]] == t[[0, 1], [2, 2]]
    got = tf.constant(X)[[[0, 1], [2, 2]]]
    np.testing.assert_array_equal(got.numpy(), [2.0, 6.0])


def test_list_key_errors_under_numpy_behaviour(numpy_indexing):
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant(X)[[5]]
    assert tuple(tf.constant(X)[[]].shape) == (0, 4)


def test_list_key_is_a_tuple_without_numpy_behaviour():
    # TF reads t[[0, 2]] as t[0, 2] unless numpy behaviour is on
    assert float(tf.constant(X)[[0, 2]]) == 2.0


def test_enable_numpy_behavior_turns_on_list_indexing():
    code = """
import numpy as np
import dlframe as tf
x = tf.constant(np.arange(12.0).reshape(3, 4))
assert float(x[[0, 2]]) == 2.0
tf.experimental.numpy.experimental_enable_numpy_behavior()
assert x[[0, 2]].numpy().tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
assert x[np.array([0, 2])].shape == (2, 4)
assert x[[True, False, True]].shape == (2, 4)

@tf.function
def f(t):
    return t[[1, 0]] + t[:, [0, 0, 0, 0]][:2]
assert f(x).numpy()[0].tolist() == [4.0, 5.0, 6.0, 7.0]
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------------------ SavedModel guide
def test_string_signature_traces_from_a_spec_and_checks_real_strings():
    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def parse(text):
        return tf.strings.to_number(text) * 2.0

    concrete = parse.get_concrete_function()   # traced on a stand-in b""
    assert float(concrete(tf.constant("5"))) == 10.0
    assert float(parse(tf.constant("4"))) == 8.0
    for bad in ("", "x"):   # the graph still checks the strings it runs with
        with pytest.raises(tf.errors.InvalidArgumentError):
            concrete(tf.constant(bad))

    @tf.function
    def constant_input():
        return tf.strings.to_number("")
    with pytest.raises(tf.errors.InvalidArgumentError):
        constant_input()


class _Scale(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable(1.0)

    @tf.function
    def __call__(self, x):
        return x * self.v


def test_loaded_signature_saves_again_next_to_a_string_signature(tmp_path):
    # "Using the SavedModel format": specifying multiple signatures
    module = _Scale()
    call = module.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))
    tf.saved_model.save(module, str(tmp_path / "one"), signatures=call)
    imported = tf.saved_model.load(str(tmp_path / "one"))

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def parse_string(string_input):
        return imported(tf.strings.to_number(string_input))

    signatures = {"serving_default": parse_string,
                  "from_float": imported.signatures["serving_default"]}
    tf.saved_model.save(imported, str(tmp_path / "multi"), signatures)
    again = tf.saved_model.load(str(tmp_path / "multi"))
    assert sorted(again.signatures) == ["from_float", "serving_default"]
    out = again.signatures["serving_default"](string_input=tf.constant("4"))
    assert {k: float(v) for k, v in out.items()} == {"output_0": 4.0}
    out = again.signatures["from_float"](x=tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(out["output_0"].numpy(), [1.0, 2.0])
