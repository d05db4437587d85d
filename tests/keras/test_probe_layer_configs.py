"""Layer configs, defaults and weights against Keras 3 (probe-driven regressions).

Expected config entries and outputs marked "TF 2.21" were read from TensorFlow 2.21
(Keras 3.15) running the same construction.
"""

import json

import numpy as np
import pytest

import dlframe as tf

L = tf.keras.layers

# (class, kwargs, expected get_config() subset) -- values from TF 2.21.
CONFIG_TABLE = [
    ("Dense", {"units": 3}, {"quantization_config": None}),
    ("Embedding", {"input_dim": 10, "output_dim": 3}, {"quantization_config": None}),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 3},
     {"quantization_config": None, "output_shape": (3,)}),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2},
     {"sliding_window": None, "use_gate": False, "output_shape": None}),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "output_shape": 16},
     {"output_shape": (16,)}),
    ("IntegerLookup", {"vocabulary": [3, 4]},
     {"oov_method": "floormod", "salt": None, "vocabulary_size": 3}),
    ("StringLookup", {"vocabulary": ["a", "b"]},
     {"oov_method": "floormod", "salt": None}),
    ("Hashing", {"num_bins": 5, "salt": 7}, {"salt": [7, 7]}),
    ("LeakyReLU", {"negative_slope": 0.2}, {"negative_slope": 0.2}),
    ("LeakyReLU", {}, {"negative_slope": 0.3}),
    ("ELU", {"alpha": 0.5}, {"alpha": 0.5}),
    ("TextVectorization", {"max_tokens": 20, "ngrams": 2}, {"ngrams": 2}),
    ("ZeroPadding1D", {}, {"padding": (1, 1), "data_format": "channels_last"}),
    ("AutoContrast", {}, {"data_format": "channels_last"}),
    ("Solarization", {}, {"data_format": "channels_last"}),
    ("Conv2D", {"filters": 3, "kernel_size": 2},
     {"kernel_size": (2, 2), "strides": (1, 1), "padding": "valid", "groups": 1,
      "dilation_rate": (1, 1), "activation": "linear"}),
    ("BatchNormalization", {},
     {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}),
    ("LSTM", {"units": 3},
     {"recurrent_activation": "sigmoid", "unit_forget_bias": True, "dropout": 0.0}),
    ("GRU", {"units": 3}, {"reset_after": True}),
]


def _same(got, want):
    if isinstance(want, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(want) and all(
            _same(g, w) for g, w in zip(got, want))
    return got == want


@pytest.mark.parametrize("name,kwargs,expected", CONFIG_TABLE,
                         ids=[f"{row[0]}-{i}" for i, row in enumerate(CONFIG_TABLE)])
def test_config_entries_match_keras3_and_round_trip(name, kwargs, expected):
    cls = getattr(L, name)
    config = cls(**kwargs).get_config()
    for key, want in expected.items():
        assert key in config, f"{name} config lacks {key!r}"
        assert _same(config[key], want), (name, key, config[key], want)
    again = cls.from_config(json.loads(json.dumps(config))).get_config()
    for key in expected:
        assert _same(again[key], config[key]), (name, key)


_POLICY = {"module": "keras", "class_name": "DTypePolicy",
           "config": {"name": "float32"}, "registered_name": None}
_GLOROT = {"module": "keras.initializers", "class_name": "GlorotUniform",
           "config": {"seed": None, "input_axes": None, "output_axes": None},
           "registered_name": None}
_ZEROS = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
          "registered_name": None}
_COMMON = {"trainable": True, "dtype": _POLICY}

# Configs exactly as TF 2.21 (Keras 3.15) writes them (names dropped).
KERAS3_CONFIGS = [
    ("Dense", {**_COMMON, "units": 4, "activation": "relu", "use_bias": True,
               "kernel_initializer": _GLOROT, "bias_initializer": _ZEROS,
               "kernel_regularizer": None, "bias_regularizer": None,
               "kernel_constraint": None, "bias_constraint": None,
               "quantization_config": None}, (2, 5), (2, 4)),
    ("Conv2D", {**_COMMON, "filters": 8, "kernel_size": [3, 3], "strides": [1, 1],
                "padding": "same", "data_format": "channels_last",
                "dilation_rate": [1, 1], "groups": 1, "activation": "linear",
                "use_bias": True, "kernel_initializer": _GLOROT,
                "bias_initializer": _ZEROS, "kernel_regularizer": None,
                "bias_regularizer": None, "activity_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None},
     (2, 6, 6, 3), (2, 6, 6, 8)),
    ("LSTM", {**_COMMON, "return_sequences": True, "return_state": False,
              "go_backwards": False, "stateful": False, "unroll": False,
              "zero_output_for_mask": False, "units": 5, "activation": "tanh",
              "recurrent_activation": "sigmoid", "use_bias": True,
              "kernel_initializer": _GLOROT,
              "recurrent_initializer": {"module": "keras.initializers",
                                        "class_name": "Orthogonal",
                                        "config": {"seed": None, "gain": 1.0},
                                        "registered_name": None},
              "bias_initializer": _ZEROS, "unit_forget_bias": True,
              "kernel_regularizer": None, "recurrent_regularizer": None,
              "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "recurrent_constraint": None,
              "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
              "seed": None}, (2, 3, 4), (2, 3, 5)),
    ("Embedding", {**_COMMON, "input_dim": 10, "output_dim": 3,
                   "embeddings_initializer": {
                       "module": "keras.initializers", "class_name": "RandomUniform",
                       "config": {"seed": None, "minval": -0.05, "maxval": 0.05},
                       "registered_name": None},
                   "embeddings_regularizer": None, "activity_regularizer": None,
                   "embeddings_constraint": None, "mask_zero": False,
                   "quantization_config": None}, None, None),
    ("MultiHeadAttention", {**_COMMON, "num_heads": 2, "key_dim": 4, "value_dim": 4,
                            "dropout": 0.0, "use_bias": True, "use_gate": False,
                            "output_shape": None, "attention_axes": None,
                            "sliding_window": None, "kernel_initializer": _GLOROT,
                            "bias_initializer": _ZEROS, "kernel_regularizer": None,
                            "bias_regularizer": None, "activity_regularizer": None,
                            "kernel_constraint": None, "bias_constraint": None,
                            "seed": None}, None, None),
    ("IntegerLookup", {**_COMMON, "invert": False, "max_tokens": None,
                       "num_oov_indices": 1, "oov_token": -1, "mask_token": None,
                       "output_mode": "int", "sparse": False,
                       "pad_to_max_tokens": False, "vocabulary_dtype": "int64",
                       "idf_weights": None, "vocabulary": [3, 4],
                       "vocabulary_size": 3, "oov_method": "floormod", "salt": None},
     None, None),
    ("TextVectorization", {**_COMMON, "max_tokens": 20,
                           "standardize": "lower_and_strip_punctuation",
                           "split": "whitespace", "ngrams": 2, "output_mode": "int",
                           "output_sequence_length": None, "pad_to_max_tokens": False,
                           "sparse": False, "ragged": False, "vocabulary": None,
                           "idf_weights": None, "encoding": "utf-8",
                           "vocabulary_size": 2}, None, None),
]


@pytest.mark.parametrize("name,config,in_shape,out_shape", KERAS3_CONFIGS,
                         ids=[row[0] for row in KERAS3_CONFIGS])
def test_keras3_configs_load(name, config, in_shape, out_shape):
    layer = getattr(L, name).from_config(config)
    assert layer.dtype == "float32"
    if in_shape is not None:
        out = layer(np.random.RandomState(0).rand(*in_shape).astype("float32"))
        assert tuple(out.shape) == out_shape


def test_lookup_salt_and_oov_method_match_tf():
    ints = [5, 6, 7, 8, 100, 1]
    # expected indices from TF 2.21
    cases = [({"oov_method": "farmhash"}, [1, 2, 1, 1, 0, 3]),
             ({"oov_method": "farmhash", "salt": 7}, [1, 0, 1, 0, 0, 3]),
             ({}, [2, 0, 1, 2, 1, 3]),
             ({"mask_token": 0, "oov_method": "farmhash"}, [2, 3, 2, 2, 1, 4])]
    for kwargs, want in cases:
        layer = L.IntegerLookup(vocabulary=[1, 2], num_oov_indices=3, **kwargs)
        np.testing.assert_array_equal(layer(ints).numpy(), want)
    words = ["x", "y", "zz", "w", "a"]
    cases = [({}, [2, 2, 1, 2, 3]), ({"salt": 7}, [0, 2, 2, 0, 3]),
             ({"salt": [7, 9]}, [1, 1, 2, 0, 3]),
             ({"salt": 3, "mask_token": ""}, [3, 1, 1, 3, 4])]
    for kwargs, want in cases:
        layer = L.StringLookup(vocabulary=["a", "b"], num_oov_indices=3, **kwargs)
        np.testing.assert_array_equal(layer(words).numpy(), want)
        again = L.StringLookup.from_config(layer.get_config())
        np.testing.assert_array_equal(again(words).numpy(), want)


def test_lookup_bad_options_raise():
    with pytest.raises(ValueError, match="oov_method"):
        L.IntegerLookup(oov_method="md5")
    with pytest.raises(ValueError, match="salt"):
        L.StringLookup(salt="abc")


def test_mha_sliding_window_is_a_band_mask():
    rng = np.random.RandomState(1)
    q = rng.rand(2, 6, 4).astype("float32")
    v = rng.rand(2, 6, 4).astype("float32")
    banded = L.MultiHeadAttention(2, 3, sliding_window=2)
    plain = L.MultiHeadAttention(2, 3)
    banded(q, v)
    plain(q, v)
    plain.set_weights(banded.get_weights())
    rows, cols = np.indices((6, 6))
    band = np.abs(rows - cols) < 2
    for causal in (False, True):
        out, scores = banded(q, v, use_causal_mask=causal,
                             return_attention_scores=True)
        allowed = band & (rows >= cols) if causal else band
        assert np.all(scores.numpy()[:, :, ~allowed] == 0.0)
        mask = np.broadcast_to(allowed, (2, 6, 6))
        want = plain(q, v, attention_mask=mask)
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    run = tf.function(lambda a, b: banded(a, b))
    np.testing.assert_allclose(run(q, v).numpy(), banded(q, v).numpy(), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="sliding_window"):
        L.MultiHeadAttention(2, 3, sliding_window=0)
    assert L.MultiHeadAttention(2, 3, use_gate=True).use_gate   # implemented now


def test_unsupported_keras3_extensions_name_the_argument():
    # (lora_rank is implemented since round 17: test_api_parity_round17_keras.py)
    with pytest.raises(NotImplementedError, match="quantization_config"):
        L.Dense(3, quantization_config={"mode": "int8"})
    with pytest.raises(NotImplementedError, match="quantization_config"):
        L.Embedding(10, 3, quantization_config={"mode": "int8"})


def test_leaky_relu_names_and_conflict():
    x = np.array([-2.0, 3.0], "float32")
    np.testing.assert_allclose(L.LeakyReLU(negative_slope=0.1)(x).numpy(), [-0.2, 3.0])
    np.testing.assert_allclose(L.LeakyReLU(alpha=0.1)(x).numpy(), [-0.2, 3.0])
    layer = L.LeakyReLU.from_config(L.LeakyReLU(alpha=0.1).get_config())
    assert layer.negative_slope == pytest.approx(0.1)
    with pytest.raises(ValueError, match="negative_slope"):
        L.LeakyReLU(alpha=0.1, negative_slope=0.2)


def test_zero_padding_1d_channels_first():
    x = np.arange(12, dtype="float32").reshape(1, 3, 4)
    layer = L.ZeroPadding1D((1, 2), data_format="channels_first")
    out = layer(x).numpy()
    np.testing.assert_array_equal(out, np.pad(x, [(0, 0), (0, 0), (1, 2)]))
    assert tuple(layer.compute_output_shape((1, 3, 4))) == (1, 3, 7)


def test_spectral_normalization_weight_order_matches_keras3():
    layer = L.SpectralNormalization(L.Dense(3))
    layer(np.ones((2, 4), "float32"))
    # TF 2.21: dense/kernel, vector_u, dense/bias
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (1, 3), (3,)]
    assert layer.weights[1] is layer.vector_u
    values = [np.full(w.shape, i + 1.0, "float32") for i, w in enumerate(layer.weights)]
    layer.set_weights(values)
    np.testing.assert_array_equal(layer.vector_u.numpy(), values[1])


def test_variance_scaling_fan_axes():
    init = tf.keras.initializers.VarianceScaling(
        1.0, "fan_in", "uniform", seed=1, input_axes=[0, 1], output_axes=[2])
    values = init(shape=(3, 4, 5, 6)).numpy()
    limit = np.sqrt(3.0 / 12.0)   # fan_in = 3 * 4
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.9 * limit
    glorot = tf.keras.initializers.GlorotUniform(seed=2, input_axes=[0],
                                                 output_axes=[2])
    assert glorot.get_config() == {"seed": 2, "input_axes": [0], "output_axes": [2]}
    values = glorot(shape=(3, 4, 5)).numpy()
    assert np.abs(values).max() <= np.sqrt(6.0 / (3 + 5))


def test_lambda_loads_keras3_function_entries():
    from dlframe.keras.layers.core import func_dump

    code = func_dump(lambda t: t * 2 + 1)[0]
    shape_code = func_dump(lambda s: s)[0]
    x = np.array([[-1.0, 2.0]], "float32")
    lam = {"class_name": "__lambda__",
           "config": {"code": code, "defaults": None, "closure": None}}
    config = {**_COMMON, "function": lam, "output_shape": [2], "arguments": {}}
    layer = L.Lambda.from_config(json.loads(json.dumps(config)))
    np.testing.assert_allclose(layer(x).numpy(), [[-1.0, 5.0]])
    again = L.Lambda.from_config(json.loads(json.dumps(layer.get_config())))
    np.testing.assert_allclose(again(x).numpy(), [[-1.0, 5.0]])
    # a named function (as TF 2.21 writes keras.activations.relu) and a lambda shape
    named = {"module": "builtins", "class_name": "function", "config": "relu",
             "registered_name": "function"}
    config = {**_COMMON, "function": named, "arguments": {},
              "output_shape": {"class_name": "__lambda__",
                               "config": {"code": shape_code, "defaults": None,
                                          "closure": None}}}
    layer = L.Lambda.from_config(config)
    np.testing.assert_allclose(layer(x).numpy(), [[0.0, 2.0]])
    assert tuple(layer.compute_output_shape((3, 2))) == (3, 2)
