"""The issue-5 seed programs run, and compiled results equal eager ones."""

import importlib.util
import pathlib

import numpy as np

import dlframe as tf

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simple_nn_matches_eager():
    mod = _load("simple_nn_function")
    out, (x, w1, b1, w2, b2) = mod.main()
    ref = np.maximum(x.numpy() @ w1.numpy() + b1.numpy(), 0) @ w2.numpy() + b2.numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    assert mod.simple_nn.experimental_get_tracing_count() == 1


def test_dynamic_layer_compiled_equals_eager():
    mod = _load("dynamic_layer")
    results = mod.main(epochs=2, verbose=0)
    (loss_c, pred_c), (loss_e, pred_e) = results[False], results[True]
    np.testing.assert_allclose(loss_c, loss_e, rtol=1e-5)
    np.testing.assert_allclose(pred_c, pred_e, rtol=1e-5)
    layer = mod.Dynamic()
    small = tf.constant([[1.0, 2.0]])
    big = tf.constant([[20.0, 2.0]])
    f = tf.function(layer)
    np.testing.assert_allclose(f(small).numpy(), [[2.0, 4.0]])
    np.testing.assert_allclose(f(big).numpy(), [[19.0, 1.0]])
