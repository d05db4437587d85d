"""keras.utils helpers: standardize_dtype, pack/unpack, get_source_inputs, Config."""

import numpy as np
import pytest

import dlframe as tf

u = tf.keras.utils


@pytest.mark.parametrize("dtype, expected", [
    (None, "float32"), ("int", "int64"), ("float32", "float32"),
    (np.float64, "float64"),
    (tf.float16, "float16"), ("bfloat16", "bfloat16"), (np.dtype("int8"), "int8"),
    ("string", "string"), (int, "int64"), (float, "float32"), (bool, "bool"),
])
def test_standardize_dtype_matches_keras(dtype, expected):   # expected from TF 2.21
    assert u.standardize_dtype(dtype) == expected


@pytest.mark.parametrize("bad", ["float", "str", "foo", 3])
def test_standardize_dtype_rejects(bad):
    with pytest.raises(ValueError, match=f"Invalid dtype: {bad}"):
        u.standardize_dtype(bad)


def test_pack_and_unpack_x_y_sample_weight():
    assert u.pack_x_y_sample_weight(1) == 1
    assert u.pack_x_y_sample_weight([1, 2]) == ([1, 2],)
    assert u.pack_x_y_sample_weight(1, 2) == (1, 2)
    assert u.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)
    assert u.pack_x_y_sample_weight(1, None, 3) == 1
    assert u.unpack_x_y_sample_weight((1,)) == (1, None, None)
    assert u.unpack_x_y_sample_weight([1, 2]) == (1, 2, None)
    assert u.unpack_x_y_sample_weight({"a": 1}) == ({"a": 1}, None, None)
    with pytest.raises(ValueError, match=r"found: \(1, 2, 3, 4\)"):
        u.unpack_x_y_sample_weight((1, 2, 3, 4))
    x, y, sw = u.unpack_x_y_sample_weight(u.pack_x_y_sample_weight("x", "y", "w"))
    assert (x, y, sw) == ("x", "y", "w")


def test_get_source_inputs_and_is_keras_tensor():
    a = tf.keras.Input((3,))
    b = tf.keras.Input((2,), name="bb")
    merged = tf.keras.layers.Concatenate()([a, b])
    out = tf.keras.layers.Dense(2)(tf.keras.layers.Dense(4)(merged))
    sources = u.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert u.get_source_inputs(a) == [a]
    assert u.is_keras_tensor(out) and not u.is_keras_tensor(tf.ones(2))
    assert not u.is_keras_tensor(np.ones(2))


def test_clear_session_resets_layer_names():
    u.clear_session()
    first = tf.keras.layers.Dense(1).name
    u.clear_session()
    assert tf.keras.layers.Dense(1).name == first == "dense"


def test_config_attribute_access_and_freeze():
    cfg = u.Config(a=1, b=2)
    assert (cfg.a, cfg["b"], len(cfg), "a" in cfg) == (1, 2, 2, True)
    cfg.c = 3
    assert cfg.as_dict() == {"a": 1, "b": 2, "c": 3}
    assert cfg.to_json() == '{"a": 1, "b": 2, "c": 3}'
    cfg.freeze()
    assert cfg.frozen
    with pytest.raises(ValueError, match="frozen"):
        cfg.d = 4
    with pytest.raises(AttributeError, match="Unknown attribute: 'zz'"):
        _ = cfg.zz
    cfg.unfreeze()
    cfg.update(d=4)
    assert cfg.pop("d") == 4 and list(cfg.keys()) == ["a", "b", "c"]
