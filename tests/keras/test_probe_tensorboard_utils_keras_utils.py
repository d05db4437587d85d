"""Probe-driven checks of keras.utils against TF 2.21 / Keras 3: to_categorical's
negative labels, Keras 3 serialization through keras.utils, and model.summary's
show_trainable/expand_nested table."""

import re

import numpy as np
import pytest

from dlframe import keras


def test_to_categorical_indexes_negative_labels_like_numpy():
    # from TF 2.21: to_categorical([-1, 1]) == [[0, 1], [0, 1]] (NumPy indexing)
    np.testing.assert_array_equal(keras.utils.to_categorical([-1, 1]),
                                  [[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(keras.utils.to_categorical([-3, 0], num_classes=3),
                                  [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    with pytest.raises(IndexError, match="label -4"):
        keras.utils.to_categorical([-4, 0], num_classes=3)
    with pytest.raises(IndexError, match="label 3"):
        keras.utils.to_categorical([3, 0], num_classes=3)


@keras.utils.register_keras_serializable(package="probe_x")
class _Scale(keras.layers.Layer):
    def __init__(self, k=2, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, x):
        return x * self.k

    def get_config(self):
        return {**super().get_config(), "k": self.k}


def test_utils_serialize_keras_object_writes_keras3_dicts():
    config = keras.utils.serialize_keras_object(_Scale(k=3, name="s"))
    # TF 2.21: class_name 'MyLayer', registered_name 'pkg>MyLayer', module None
    assert {"module", "class_name", "config", "registered_name"} <= set(config)
    assert (config["class_name"], config["registered_name"]) == ("_Scale",
                                                                 "probe_x>_Scale")
    clone = keras.utils.deserialize_keras_object(config)
    assert isinstance(clone, _Scale) and clone.k == 3 and clone.name == "s"
    dense = keras.utils.serialize_keras_object(keras.layers.Dense(2))
    assert (dense["module"], dense["class_name"]) == ("keras.layers", "Dense")
    assert isinstance(keras.utils.deserialize_keras_object(dense), keras.layers.Dense)
    assert keras.utils.serialize_keras_object("relu") == "relu"
    assert keras.utils.serialize_keras_object(None) is None
    # Keras 2's {'class_name': 'pkg>Name'} dicts still load
    legacy = keras.utils.legacy.serialize_keras_object(_Scale(k=4))
    assert legacy["class_name"] == "probe_x>_Scale"
    assert keras.utils.deserialize_keras_object(legacy).k == 4
    with pytest.raises((TypeError, ValueError)):
        keras.utils.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_summary_show_trainable_and_expand_nested():
    layers = keras.layers
    inner = keras.Sequential([keras.Input((8,)), layers.Dense(4, name="i1"),
                              layers.BatchNormalization(name="ibn")], name="inner")
    inp = keras.Input((8,))
    model = keras.Model(inp, layers.Dense(2, name="head")(inner(inp)), name="outer")
    inner.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line), expand_nested=True,
                  show_trainable=True)
    text = "\n".join(lines)
    counts = {key: int(re.search(key + r": ([\d,]+)", text).group(1))
              for key in ("Total params", "Trainable params", "Non-trainable params")}
    # TF 2.21: 62 total, 18 trainable (BN gamma/beta + head), 44 non-trainable
    assert counts == {"Total params": 62, "Trainable params": 18,
                      "Non-trainable params": 44}
    assert all(name in text for name in ("inner", "i1", "ibn", "head", "Trainable"))
    row = next(line for line in lines if "i1 (Dense)" in line)
    assert re.search(r"\bN\b", row)
    head = next(line for line in lines if "head (Dense)" in line)
    assert re.search(r"\bY\b", head)
    assert model.count_params() == 62 and inner.count_params() == 52
