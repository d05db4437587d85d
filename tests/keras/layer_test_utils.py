"""``run_layer_test``: the one layer-checking helper (DESIGN.md §8).

For a layer class and constructor kwargs it checks: eager output shape against
``compute_output_shape`` and the functional (KerasTensor) output spec, weight counts,
the config round trip (same config, same outputs with copied weights), that a gradient
reaches every trainable weight, and eager == ``dlframe.function``.
"""

import numpy as np

import dlframe as tf
from dlframe import keras


def _shape_matches(actual, expected):
    expected = tuple(expected)
    assert len(actual) == len(expected), f"{tuple(actual)} vs {expected}"
    for a, e in zip(actual, expected):
        assert e is None or a == e, f"{tuple(actual)} vs {expected}"


def _flat(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def make_input(shape, dtype="float32", seed=0, high=10):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def run_layer_test(layer_cls, kwargs=None, input_shape=(2, 3), input_dtype="float32",
                   input_data=None, expected_output_shape=None,
                   expected_num_trainable_weights=None,
                   expected_num_non_trainable_weights=None, call_kwargs=None,
                   check_grad=True, check_function=True, check_functional=True,
                   rtol=1e-5, atol=1e-5):
    """Runs the standard layer checks; returns (layer, eager output)."""
    kwargs = kwargs or {}
    call_kwargs = call_kwargs or {}
    if input_data is None:
        inputs = [make_input(s, input_dtype, seed=i) for i, s in enumerate(
            input_shape if isinstance(input_shape, list) else [input_shape])]
    else:
        inputs = _flat(input_data)
    multi = isinstance(input_shape, list) or isinstance(input_data, list)
    tensors = [tf.constant(a) for a in inputs]
    arg = tensors if multi else tensors[0]

    layer = layer_cls(**kwargs)
    out = layer(arg, **call_kwargs)
    outs = _flat(out)
    assert layer.built

    # output shape vs compute_output_shape
    shapes = [tuple(a.shape) for a in inputs]
    try:
        expect = layer.compute_output_shape(shapes if multi else shapes[0])
    except NotImplementedError:
        expect = None
    if expect is not None:
        expects = expect if isinstance(expect, list) else [expect]
        for o, e in zip(outs, expects):
            _shape_matches(tuple(o.shape), tf.TensorShape(e).as_list())
    if expected_output_shape is not None:
        _shape_matches(tuple(outs[0].shape), expected_output_shape)

    # weight counts
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    for w in layer.weights:
        assert w.name.startswith(layer.name + "/"), w.name
        assert w.name.endswith(":0")

    # config round trip: same config, same outputs with the same weights
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config or _same_config(clone.get_config(), config)
    clone_out = clone(arg, **call_kwargs)
    clone.set_weights(layer.get_weights())
    clone_out = clone(arg, **call_kwargs)
    for a, b in zip(outs, _flat(clone_out)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=rtol, atol=atol)
    serialized = keras.layers.serialize(layer)
    if layer_cls is keras.layers.Lambda:   # Keras 3 refuses bytecode in safe mode
        restored = keras.saving.deserialize_keras_object(serialized, safe_mode=False)
    else:
        restored = keras.layers.deserialize(serialized)
    assert type(restored) is layer_cls

    # gradients reach every trainable weight
    if check_grad and layer.trainable_weights:
        rng = np.random.default_rng(1)
        with tf.GradientTape() as tape:
            res = _flat(layer(arg, training=True, **call_kwargs)
                        if layer._expects_training else layer(arg, **call_kwargs))
            loss = tf.add_n([tf.reduce_sum(r * tf.constant(
                rng.standard_normal(tuple(r.shape)).astype(r.dtype.name))) for r in res
                if r.dtype.is_floating])
        grads = tape.gradient(loss, layer.trainable_weights)
        for w, g in zip(layer.trainable_weights, grads):
            assert g is not None, f"no gradient reaches {w.name}"
            assert tuple(g.shape) == tuple(w.shape)
            assert np.all(np.isfinite(tf.convert_to_tensor(g).numpy()))   # slices too

    # functional: KerasTensor spec agrees with the eager result (state may have moved
    # in the training-mode gradient check, e.g. BatchNormalization statistics)
    outs = _flat(layer(arg, **call_kwargs))
    if check_functional:
        syms = [keras.Input(shape=tuple(a.shape[1:]), dtype=str(a.dtype))
                for a in inputs]
        sym_out = layer(syms if multi else syms[0], **call_kwargs)
        for s, o in zip(_flat(sym_out), outs):
            _shape_matches(tuple(o.shape), [None] + s.shape.as_list()[1:]
                           if s.shape[0] is None else s.shape.as_list())
            assert s.dtype == o.dtype, f"symbolic dtype {s.dtype} != eager {o.dtype}"
        model = keras.Model(syms if multi else syms[0], sym_out)
        for a, b in zip(outs, _flat(model(arg))):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=rtol, atol=atol)

    # eager == compiled
    if check_function and getattr(tf, "function", None) is not None:
        compiled = tf.function(lambda x: layer(x, **call_kwargs))
        for a, b in zip(outs, _flat(compiled(arg))):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=rtol, atol=atol)
    return layer, out


def _same_config(a, b):
    import json
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                     default=str)
