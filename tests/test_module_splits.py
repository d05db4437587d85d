"""Modules split to keep files of one job (DESIGN.md §9): every name stays importable
from the module it used to live in, as the same object."""

import importlib

import pytest

MOVED = [
    ("dlframe.ops.strings", "dlframe.ops.strings_core",
     ["_apply", "_b", "_strings", "ragged_rows", "string_rows", "string_map_p"]),
    ("dlframe.ops.image", "dlframe.ops.image_resize",
     ["ResizeMethod", "resize", "resize_p", "_batched", "_unbatch", "_size",
      "_resize_float"]),
    ("dlframe.keras.optimizers.optimizer", "dlframe.keras.optimizers.clipping",
     ["clip_by_global_norm", "_every"]),
    ("dlframe.distribute.strategy", "dlframe.distribute.mirrored_strategy",
     ["MirroredStrategy", "OneDeviceStrategy", "_default_mirrored_devices"]),
    ("dlframe.autograph.converter", "dlframe.autograph.source",
     ["_parse", "_lambda_def"]),
    ("dlframe.keras.layers.preprocessing", "dlframe.keras.layers.normalization",
     ["GroupNormalization"]),
]


@pytest.mark.parametrize("old, new, names", MOVED)
def test_moved_names_importable_from_old_module(old, new, names):
    old_mod, new_mod = importlib.import_module(old), importlib.import_module(new)
    for name in names:
        assert getattr(old_mod, name) is getattr(new_mod, name), name


def test_strategy_module_lazy_reexport_rejects_unknown_names():
    from dlframe.distribute import strategy
    with pytest.raises(AttributeError, match="no_such_name"):
        strategy.no_such_name  # noqa: B018


def test_public_namespaces_keep_moved_names():
    import dlframe as tf
    from dlframe.distribute import mirrored_strategy
    from dlframe.ops import image_resize
    assert tf.image.ResizeMethod is image_resize.ResizeMethod
    assert tf.distribute.MirroredStrategy is mirrored_strategy.MirroredStrategy
    assert tf.distribute.OneDeviceStrategy is mirrored_strategy.OneDeviceStrategy
    assert tf.keras.layers.GroupNormalization.__name__ == "GroupNormalization"
    out = tf.strings.split(tf.constant(["a b", "c"]))
    assert out.to_list() == [[b"a", b"b"], [b"c"]]


def test_keras_backend_math_helpers_are_reexported_and_symbolic():
    import numpy as np

    import dlframe as tf
    from dlframe.keras import backend as K
    from dlframe.keras import backend_ops
    for name in ("sum", "mean", "clip", "round", "equal", "binary_crossentropy",
                 "random_uniform", "cast_to_floatx", "hard_sigmoid"):
        assert name in K.__all__, name
        # wrapped so a call on functional-model tensors inserts an op layer
        assert K.__dict__[name].__wrapped__ is getattr(backend_ops, name), name
    x = np.array([-3.0, 0.0, 3.0], "float32")
    np.testing.assert_allclose(K.hard_sigmoid(x).numpy(), np.clip(0.2 * x + 0.5, 0, 1))
    inputs = tf.keras.Input((3,))
    model = tf.keras.Model(inputs, K.sum(K.square(inputs), axis=-1))
    np.testing.assert_allclose(model(x[None]).numpy(), [18.0])
