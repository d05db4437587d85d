"""run_layer_test applied to every layer of keras.layers."""

import pytest

from dlframe import keras
from dlframe.keras import layers
from tests.keras.layer_test_utils import run_layer_test

CASES = [
    (layers.Dense, {"units": 4}, (2, 3), (2, 4), 2, 0),
    (layers.Dense, {"units": 4, "activation": "relu", "use_bias": False}, (2, 5, 3),
     (2, 5, 4), 1, 0),
    (layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0, 0),
    (layers.Dropout, {"rate": 0.5}, (2, 3), (2, 3), 0, 0),
    (layers.Flatten, {}, (2, 3, 4), (2, 12), 0, 0),
    (layers.Reshape, {"target_shape": (2, -1)}, (2, 3, 4), (2, 2, 6), 0, 0),
    (layers.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), 0, 0),
    (layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), 0, 0),
    (layers.Masking, {"mask_value": 0.0}, (2, 3, 4), (2, 3, 4), 0, 0),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 7, 3), (2, 5, 4), 2, 0),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal",
                     "dilation_rate": 2}, (2, 7, 3), (2, 7, 4), 2, 0),
    (layers.Conv2D, {"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2},
     (2, 7, 7, 3), (2, 4, 4, 4), 2, 0),
    (layers.Conv2D, {"filters": 4, "kernel_size": (2, 3), "activation": "relu"},
     (2, 5, 6, 2), (2, 4, 4, 4), 2, 0),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2},
     (2, 4, 4, 2), (2, 9, 9, 3), 2, 0),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2,
                              "padding": "same"}, (2, 4, 4, 2), (2, 8, 8, 3), 2, 0),
    (layers.Conv3DTranspose, {"filters": 2, "kernel_size": 2, "strides": 2,
                              "padding": "same"}, (2, 2, 3, 2, 3), (2, 4, 6, 4, 2), 2, 0),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 5, 5, 3),
     (2, 3, 3, 6), 2, 0),
    (layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "padding": "same"},
     (2, 5, 5, 3), (2, 5, 5, 4), 3, 0),
    (layers.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 7, 3),
     (2, 5, 6), 2, 0),
    (layers.DepthwiseConv1D, {"kernel_size": 2, "padding": "causal",
                              "data_format": "channels_first"}, (2, 3, 6), (2, 3, 6), 2, 0),
    (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3, "strides": 2,
                              "padding": "same"}, (2, 7, 3), (2, 4, 4), 3, 0),
    (layers.MaxPooling1D, {"pool_size": 2}, (2, 6, 3), (2, 3, 3), 0, 0),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"},
     (2, 6, 3), (2, 6, 3), 0, 0),
    (layers.MaxPooling2D, {"pool_size": (2, 2)}, (2, 4, 6, 3), (2, 2, 3, 3), 0, 0),
    (layers.AveragePooling2D, {"pool_size": 2, "padding": "same"}, (2, 5, 5, 3),
     (2, 3, 3, 3), 0, 0),
    (layers.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3), 0, 0),
    (layers.GlobalMaxPooling1D, {}, (2, 5, 3), (2, 3), 0, 0),
    (layers.GlobalAveragePooling2D, {}, (2, 4, 5, 3), (2, 3), 0, 0),
    (layers.GlobalMaxPooling2D, {"keepdims": True}, (2, 4, 5, 3), (2, 1, 1, 3), 0, 0),
    (layers.BatchNormalization, {}, (4, 3), (4, 3), 2, 2),
    (layers.BatchNormalization, {"axis": 1, "center": False}, (4, 3, 5), (4, 3, 5), 1, 2),
    (layers.LayerNormalization, {}, (2, 3, 4), (2, 3, 4), 2, 0),
    (layers.UnitNormalization, {}, (2, 3), (2, 3), 0, 0),
    (layers.GroupNormalization, {"groups": 2}, (2, 3, 4), (2, 3, 4), 2, 0),
    (layers.UpSampling1D, {"size": 2}, (2, 3, 4), (2, 6, 4), 0, 0),
    (layers.UpSampling2D, {"size": (2, 3)}, (2, 3, 4, 2), (2, 6, 12, 2), 0, 0),
    (layers.ZeroPadding1D, {"padding": 2}, (2, 3, 4), (2, 7, 4), 0, 0),
    (layers.ZeroPadding2D, {"padding": ((1, 2), (0, 1))}, (2, 3, 4, 2), (2, 6, 5, 2), 0,
     0),
    (layers.Cropping1D, {"cropping": (1, 1)}, (2, 5, 4), (2, 3, 4), 0, 0),
    (layers.Cropping2D, {"cropping": ((1, 0), (1, 2))}, (2, 5, 6, 2), (2, 4, 3, 2), 0, 0),
    (layers.UpSampling3D, {"size": (1, 2, 3)}, (2, 2, 3, 4, 2), (2, 2, 6, 12, 2), 0, 0),
    (layers.ZeroPadding3D, {"padding": ((1, 0), 2, (0, 1)),
                            "data_format": "channels_first"}, (2, 2, 3, 4, 2),
     (2, 2, 4, 8, 3), 0, 0),
    (layers.Cropping3D, {"cropping": (1, (0, 1), 0)}, (2, 4, 3, 2, 2), (2, 2, 2, 2, 2),
     0, 0),
    (layers.SpatialDropout1D, {"rate": 0.3}, (2, 5, 4), (2, 5, 4), 0, 0),
    (layers.SpatialDropout3D, {"rate": 0.3}, (2, 3, 2, 4, 3), (2, 3, 2, 4, 3), 0, 0),
    (layers.SpatialDropout2D, {"rate": 0.3}, (2, 5, 4, 3), (2, 5, 4, 3), 0, 0),
    (layers.GaussianNoise, {"stddev": 0.1}, (2, 3), (2, 3), 0, 0),
    (layers.GaussianDropout, {"rate": 0.1}, (2, 3), (2, 3), 0, 0),
    (layers.AlphaDropout, {"rate": 0.2}, (2, 3), (2, 3), 0, 0),
    (layers.ActivityRegularization, {"l1": 0.1}, (2, 3), (2, 3), 0, 0),
    (layers.ReLU, {"max_value": 1.0}, (2, 3), (2, 3), 0, 0),
    (layers.LeakyReLU, {"alpha": 0.1}, (2, 3), (2, 3), 0, 0),
    (layers.ELU, {}, (2, 3), (2, 3), 0, 0),
    (layers.PReLU, {}, (2, 3), (2, 3), 1, 0),
    (layers.Softmax, {}, (2, 3), (2, 3), 0, 0),
]


@pytest.mark.parametrize("cls,kwargs,shape,out_shape,n_train,n_non", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_layer(cls, kwargs, shape, out_shape, n_train, n_non):
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out_shape,
                   expected_num_trainable_weights=n_train,
                   expected_num_non_trainable_weights=n_non)


def test_embedding():
    run_layer_test(layers.Embedding, {"input_dim": 10, "output_dim": 4}, input_shape=(2, 5),
                   input_dtype="int32", expected_output_shape=(2, 5, 4),
                   expected_num_trainable_weights=1)


@pytest.mark.parametrize("cls", [layers.Add, layers.Subtract, layers.Multiply,
                                 layers.Average, layers.Maximum, layers.Minimum,
                                 layers.Concatenate])
def test_merge(cls):
    run_layer_test(cls, {}, input_shape=[(2, 3), (2, 3)],
                   expected_output_shape=(2, 6) if cls is layers.Concatenate else (2, 3))


def test_dot():
    run_layer_test(layers.Dot, {"axes": (2, 1)}, input_shape=[(2, 3, 4), (2, 4, 5)],
                   expected_output_shape=(2, 3, 5))


def test_attention():
    run_layer_test(layers.Attention, {"use_scale": True},
                   input_shape=[(2, 3, 4), (2, 5, 4)], expected_output_shape=(2, 3, 4),
                   expected_num_trainable_weights=1)


def test_additive_attention():
    run_layer_test(layers.AdditiveAttention, {},
                   input_shape=[(2, 3, 4), (2, 5, 4)], expected_output_shape=(2, 3, 4),
                   expected_num_trainable_weights=1)


def test_lambda():
    run_layer_test(layers.Lambda, {"function": lambda x: x * 2.0 + 1.0},
                   input_shape=(2, 3), expected_output_shape=(2, 3))


MINE = {"core", "convolutional", "pooling", "normalization", "merge", "attention",
        "reshaping", "regularization", "activation"}


def test_every_public_layer_is_covered():
    covered = {c[0] for c in CASES} | {layers.Embedding, layers.Dot, layers.Attention,
                                       layers.AdditiveAttention,
                                       layers.MultiHeadAttention, layers.Lambda,
                                       layers.Add, layers.Subtract, layers.Multiply,
                                       layers.Average, layers.Maximum, layers.Minimum,
                                       layers.Concatenate}
    # run through run_layer_test in tests/keras/test_layers_gap_core.py
    covered |= {layers.RMSNormalization, layers.AdaptiveAveragePooling1D,
                layers.AdaptiveAveragePooling2D, layers.AdaptiveAveragePooling3D,
                layers.AdaptiveMaxPooling1D, layers.AdaptiveMaxPooling2D,
                layers.AdaptiveMaxPooling3D}
    skip = {layers.Layer, layers.InputLayer, layers.TFOpLambda, layers.Conv3D,
            layers.Conv1DTranspose, layers.ThresholdedReLU, layers.MaxPooling3D,
            layers.AveragePooling3D, layers.GlobalAveragePooling3D,
            layers.GlobalMaxPooling3D}
    public = {v for k, v in vars(layers).items() if isinstance(v, type)
              and issubclass(v, keras.layers.Layer) and v.__module__.startswith(
                  "dlframe.keras.layers.") and not k.startswith("_")
              and v.__module__.rsplit(".", 1)[-1] in MINE}
    missing = {c.__name__ for c in public - covered - skip}
    assert not missing, missing
