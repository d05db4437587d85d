"""tf.compat.v1.nn extras, flags/app and gfile (expected values from TF 2.21)."""

import os

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_op

v1 = tf.compat.v1


def test_nn_extras():
    x, w, b = np.array([[1.0, -2.0]]), np.array([[1.0, 2.0, 0.5], [0.5, 1.0, 1.0]]), \
        np.array([0.1, 0.2, 0.3])
    check_op(v1.nn.xw_plus_b, [x, w, b], lambda x, w, b: x @ w + b)
    check_op(v1.nn.relu_layer, [x, w, b], lambda x, w, b: np.maximum(x @ w + b, 0))
    assert v1.nn.relu is tf.nn.relu
    out = v1.nn.softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]],
                                                     logits=[[1.0, 2.0]], dim=-1)
    np.testing.assert_allclose(out.numpy(), [0.31326166], rtol=1e-6)   # TF 2.21
    out = v1.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0]],
                                                  logits=[[1.0, 2.0]])
    np.testing.assert_allclose(out.numpy(), [0.31326166], rtol=1e-6)
    with pytest.raises(ValueError, match="named arguments"):
        v1.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[1.0, 2.0]])
    images = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    pooled = v1.nn.max_pool_v2(images, 2, 2, "VALID").numpy()
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[5, 7], [13, 15]])
    pooled = v1.nn.avg_pool_v2(images, 2, 2, "VALID").numpy()
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def _flags():
    values = v1.flags.FlagValues()
    v1.flags.DEFINE_string("s", "x", "a string", flag_values=values)
    v1.flags.DEFINE_bool("b", True, "a bool", flag_values=values)
    v1.flags.DEFINE_boolean("c", False, "a bool", flag_values=values)
    v1.flags.DEFINE_integer("n", 3, "an int", lower_bound=0, flag_values=values)
    v1.flags.DEFINE_float("f", 0.5, "a float", flag_values=values)
    v1.flags.DEFINE_list("l", "a,b", "a list", flag_values=values)
    v1.flags.DEFINE_enum("e", "x", ["x", "y"], "an enum", flag_values=values)
    return values


def test_flags_parse_like_absl():
    values = _flags()
    assert values.flag_values_dict() == {"s": "x", "b": True, "c": False, "n": 3,
                                         "f": 0.5, "l": ["a", "b"], "e": "x"}
    rest = values(["prog", "--nob", "--c", "--n=5", "--l", "c,d", "pos", "--e", "y",
                   "--f=2.5", "--s", "hi"])
    assert rest == ["prog", "pos"]
    assert (values.b, values.c, values.n, values.l, values.e, values.f, values.s) == (
        False, True, 5, ["c", "d"], "y", 2.5, "hi")
    values.n = 7
    assert values.n == 7 and "n" in values
    for argv, error, text in [(["p", "--zz=1"], v1.flags.UnrecognizedFlagError, "zz"),
                              (["p", "--n=-1"], v1.flags.IllegalFlagValueError, "--n"),
                              (["p", "--e=q"], v1.flags.IllegalFlagValueError, "x|y"),
                              (["p", "--n=abc"], v1.flags.IllegalFlagValueError, "abc"),
                              (["p", "--b=maybe"], v1.flags.IllegalFlagValueError,
                               "maybe")]:
        with pytest.raises(error, match=text):
            values(argv)
    with pytest.raises(ValueError, match="defined twice"):
        v1.flags.DEFINE_string("n", "a", "again", flag_values=values)


def test_app_run_parses_flags_and_exits_with_main_result(monkeypatch):
    v1.flags.DEFINE_integer("compat_test_steps", 1, "steps")
    seen = []

    def main(argv):
        seen.append((argv, v1.flags.FLAGS.compat_test_steps))
        return 0

    with pytest.raises(SystemExit) as stop:
        v1.app.run(main, argv=["prog", "--compat_test_steps=4", "extra"])
    assert stop.value.code == 0 and seen == [(["prog", "extra"], 4)]


def test_gfile_tf1_names(tmp_path):
    root = str(tmp_path / "a")
    v1.gfile.MakeDirs(os.path.join(root, "b"))
    assert v1.gfile.Exists(root) and v1.gfile.IsDirectory(root)
    path = os.path.join(root, "f.txt")
    with v1.gfile.GFile(path, "w") as f:
        f.write("hello")
    with v1.gfile.Open(path) as f:
        assert f.read() == "hello"
    v1.gfile.Copy(path, path + ".2")
    v1.gfile.Rename(path + ".2", path + ".3")
    assert sorted(v1.gfile.ListDirectory(root)) == ["b", "f.txt", "f.txt.3"]
    assert v1.gfile.Glob(os.path.join(root, "*.3")) == [path + ".3"]
    assert v1.gfile.Stat(path).length == 5
    assert next(d for d, _, _ in v1.gfile.Walk(root)) == root
    v1.gfile.Remove(path + ".3")
    v1.gfile.DeleteRecursively(root)
    assert not v1.gfile.Exists(root)
