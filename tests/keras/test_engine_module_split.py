"""base_layer.py, training.py and losses.py were split into modules of one job each;
the names other modules and user code import from the original modules must stay
importable there and be the very same objects."""

import importlib

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras import losses
from dlframe.keras.engine import base_layer, training

REEXPORTS = {
    "dlframe.keras.engine.base_layer": (
        "Layer", "CALL_CONTEXT", "in_dry_run", "keras3_positional", "get_mask",
        "_ALLOWED_KWARGS", "_LAYERS_WITH_LOSSES", "_OwnScope", "_dedupe",
        "_as_tuple_shapes", "_plain", "_auto_config", "_shapes_of"),
    "dlframe.keras.engine.training": (
        "TrainingMixin", "LabelRangeError", "_merge_dict_results", "_accepts_training",
        "_floats", "_flat_values", "_to_numpy", "_concat"),
    "dlframe.keras.losses": (
        "EPSILON", "Reduction", "Loss", "LossFunctionWrapper", "reduce_weighted_values",
        "align_ranks", "one_hot", "argmax", "l2_normalize", "_t", "_pred_true",
        "_standardize_reduction", "_wrapper", "_elementwise_bce", "_symbolic",
        "mean_squared_error", "sparse_categorical_crossentropy", "mse", "MSE",
        "MeanSquaredError", "SparseCategoricalCrossentropy", "Dice", "ctc",
        "get", "serialize", "deserialize", "loss_class_for"),
}


@pytest.mark.parametrize("module", sorted(REEXPORTS))
def test_names_stay_importable_from_the_original_module(module):
    mod = importlib.import_module(module)
    missing = [n for n in REEXPORTS[module] if not hasattr(mod, n)]
    assert not missing


def test_reexports_are_the_same_objects():
    from dlframe.keras import losses_base, losses_extra, losses_functions
    from dlframe.keras.engine import base_layer_losses, training_checks
    assert losses.Loss is losses_base.Loss
    assert losses.binary_crossentropy is losses_functions.binary_crossentropy
    assert losses_extra.LossFunctionWrapper is losses.LossFunctionWrapper
    assert base_layer._LAYERS_WITH_LOSSES is base_layer_losses._LAYERS_WITH_LOSSES
    assert training.LabelRangeError is training_checks.LabelRangeError
    assert issubclass(training.LabelRangeError, ValueError)


def test_default_steps_are_recognised_and_overrides_are_not():
    class Custom(tf.keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    plain = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    custom = Custom()
    assert plain._uses_default_step("train_step")
    assert not custom._uses_default_step("train_step")
    assert custom._uses_default_step("test_step")


def test_split_layer_tracks_children_weights_and_losses():
    class Block(tf.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [tf.keras.layers.Dense(2), {"b": tf.keras.layers.Dense(3)}]

        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return self.parts[1]["b"](self.parts[0](x))

    block = Block()
    out = block(np.ones((4, 5), "float32"))
    assert tuple(out.shape) == (4, 3)
    assert [tuple(w.shape) for w in block.trainable_weights] == [(5, 2), (2,), (2, 3),
                                                                 (3,)]
    assert block.count_params() == 5 * 2 + 2 + 2 * 3 + 3
    assert len(block.losses) == 1
    assert float(block.losses[0].numpy()) == 20.0
    block(np.zeros((4, 5), "float32"))  # the outermost call clears last call's losses
    assert [float(v.numpy()) for v in block.losses] == [0.0]


def test_sparse_label_check_still_runs_before_training():
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.zeros((8, 3), "float32")
    y = np.array([0, 1, 2, 3, 4, 0, 1, 2])
    with pytest.raises(ValueError, match="outside the valid range"):
        model.fit(x, y, epochs=1, verbose=0)
