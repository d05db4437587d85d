"""``tf.keras.mixed_precision``'s public names, lazily imported ones included (TF 2.21
lists ``LossScaleOptimizer`` in ``dir()``)."""

import dlframe as tf


def test_dir_lists_lazily_imported_names():
    names = dir(tf.keras.mixed_precision)
    for name in ("LossScaleOptimizer", "Policy", "DTypePolicy", "global_policy",
                 "set_global_policy", "dtype_policy", "set_dtype_policy"):
        assert name in names
    opt = getattr(tf.keras.mixed_precision, "LossScaleOptimizer")(
        tf.keras.optimizers.SGD())
    assert float(opt.initial_scale) == 2.0 ** 15


def test_train_experimental_namespace():
    assert "experimental" in dir(tf.train)
    assert "PythonState" in dir(tf.train.experimental)
