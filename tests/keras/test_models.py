"""Sequential, functional and subclassed models; summary; config round trips; errors."""

import contextlib
import io

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def summary_text(model, **kw):
    lines = []
    model.summary(print_fn=lines.append, **kw)
    return "\n".join(lines)


def test_sequential_ways_and_summary():
    a = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    b = keras.Sequential()
    b.add(keras.Input(shape=(3,)))
    b.add(layers.Dense(4))
    b.add(layers.Dense(2))
    c = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not c.built
    assert "?" in summary_text(c)   # Keras 3 summarizes an unbuilt model (Keras 2 raised)
    c.build((None, 3))
    d = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    d(tf.ones([5, 3]))
    for m in (a, b, c, d):
        assert m.built and len(m.layers) == 2 and m.count_params() == 16 + 10
        assert m.output_shape == (None, 2)
        text = summary_text(m)
        assert "Total params: 26" in text and "Trainable params: 26" in text
    x = tf.constant(np.ones((2, 3), "float32"))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a(x).numpy(), b(x).numpy())
    assert a.layers[0].input_shape == (None, 3)


def test_sequential_pop_and_errors():
    m = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    m.pop()
    assert len(m.layers) == 1 and m.output_shape == (None, 4)
    with pytest.raises(TypeError, match="instance of class Layer"):
        m.add("dense")
    with pytest.raises(ValueError, match="unique names"):
        m.add(layers.Dense(1, name=m.layers[0].name))


def test_functional_multi_io_shared_layers_and_get_layer():
    a = keras.Input(shape=(None,), dtype="int32", name="a")
    b = keras.Input(shape=(None,), dtype="int32", name="b")
    emb = layers.Embedding(50, 4)
    pa = layers.GlobalAveragePooling1D()(emb(a))
    pb = layers.GlobalAveragePooling1D()(emb(b))
    merged = layers.concatenate([pa, pb])
    out1 = layers.Dense(1, name="o1")(merged)
    out2 = layers.Dense(3, name="o2")(merged)
    model = keras.Model([a, b], [out1, out2])
    assert [lay.name for lay in model.layers][:3] == ["a", "b", "embedding"]
    assert model.input_names == ["a", "b"] and model.output_names == ["o1", "o2"]
    assert model.get_layer("o2").units == 3 and model.get_layer(index=2) is emb
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    assert len(emb._inbound_nodes) == 2
    xa, xb = np.array([[1, 2, 3]]), np.array([[4, 5]])
    y1, y2 = model([xa, xb])
    assert y1.shape == (1, 1) and y2.shape == (1, 3)
    y1d, _ = model({"a": xa, "b": xb})
    np.testing.assert_allclose(y1d.numpy(), y1.numpy())
    text = summary_text(model)
    assert "Connected to" in text and "embedding[1][0]" in text
    assert model.count_params() == 200 + 9 + 27
    # gradients reach every trainable weight
    with tf.GradientTape() as tape:
        o1, o2 = model([xa, xb])
        loss = tf.reduce_sum(o1) + tf.reduce_sum(o2 * o2)
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == 5 and all(g is not None for g in grads)


def test_functional_config_roundtrip_and_json():
    inp = keras.Input(shape=(4,), name="x")
    h = layers.Dense(8, activation="relu")(inp)
    h = layers.Dropout(0.1)(h)
    skip = layers.Dense(8)(inp)
    out = layers.Dense(2)(layers.add([h, skip]) * 0.5)
    model = keras.Model(inp, out, name="net")
    config = model.get_config()
    clone = keras.Model.from_config(config)
    assert clone.name == "net" and len(clone.layers) == len(model.layers)
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
    again = keras.models.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again(x).numpy(), model(x).numpy(), rtol=1e-6)
    seq = keras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Activation("relu")])
    seq2 = keras.Sequential.from_config(seq.get_config())
    assert seq2.built and [type(lay) for lay in seq2.layers] == [layers.Dense,
                                                                 layers.Activation]
    seq3 = keras.models.clone_model(seq)
    assert seq3.count_params() == seq.count_params()


def test_nested_models_as_layers():
    inner = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)],
                             name="inner")
    x = keras.Input(shape=(3,))
    y = layers.Dense(1)(inner(x))
    outer = keras.Model(x, y)
    assert outer.layers[1] is inner and y.shape.as_list() == [None, 1]
    assert outer.count_params() == inner.count_params() + 3
    data = np.ones((2, 3), "float32")
    np.testing.assert_allclose(outer(data).numpy(),
                               outer.layers[2](inner(data)).numpy(), rtol=1e-6)
    outer2 = keras.Model.from_config(outer.get_config())
    assert outer2.count_params() == outer.count_params()


def test_keras_tensor_operators():
    x = keras.Input(shape=(3,))
    y = (x * 2.0 + 1.0) - x[:, :1]
    assert y.shape.as_list() == [None, 3]
    model = keras.Model(x, y)
    data = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(model(data).numpy(), data * 2 + 1 - data[:, :1])
    clone = keras.Model.from_config(model.get_config())
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy())
    assert "KerasTensor" in repr(x)
    with pytest.raises(TypeError, match="symbolic"):
        bool(x)


def test_graph_errors():
    a = keras.Input(shape=(3,))
    b = keras.Input(shape=(3,))
    out = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)
    with pytest.raises(TypeError, match="KerasTensors"):
        keras.Model(a, tf.ones([1, 2]))
    d = layers.Dense(2)
    d(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match='layer "dense_1".*value 3.*shape \\(None, 5\\)'):
        d(keras.Input(shape=(5,)))
    with pytest.raises(ValueError, match="Concatenate"):
        layers.concatenate([keras.Input(shape=(3, 2)), keras.Input(shape=(4, 5))])
    model = keras.Model(a, layers.Dense(1)(a))
    with pytest.raises(ValueError, match="incompatible"):
        model(tf.ones([2, 7]))


class MLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = layers.Flatten()
        self.d1 = layers.Dense(8, activation="relu")
        self.d2 = layers.Dense(2)

    def call(self, x, training=False):
        return self.d2(self.d1(self.flatten(x)))


def test_subclassed_model():
    m = MLP()
    assert m.name == "mlp" and not m.built
    m.build((None, 2, 3))
    assert [lay.name for lay in m.layers] == ["flatten", "dense", "dense_1"]
    assert m.count_params() == 6 * 8 + 8 + 8 * 2 + 2
    assert m.trainable_weights[0].name == "mlp/dense/kernel:0"
    assert "multiple" in summary_text(m)
    assert m(np.ones((4, 2, 3), "float32")).shape == (4, 2)


def test_functional_subclass_with_inputs_outputs():
    class Wrapper(keras.Model):
        def __init__(self):
            x = keras.Input(shape=(2,))
            super().__init__(inputs=x, outputs=layers.Dense(3)(x))

    w = Wrapper()
    assert isinstance(w, Wrapper) and w(np.ones((1, 2), "float32")).shape == (1, 3)


def test_plot_model_needs_pydot(tmp_path):
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pydot"):
            keras.utils.plot_model(model, to_file=str(tmp_path / "m.png"))
        return
    try:
        keras.utils.plot_model(model, to_file=str(tmp_path / "m.dot"))
    except ImportError as e:
        assert "graphviz" in str(e)


def test_summary_format_mnist():
    m = keras.Sequential([layers.Flatten(input_shape=(28, 28)),
                          layers.Dense(128, activation="relu"), layers.Dropout(0.2),
                          layers.Dense(10)])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        m.summary()
    text = buf.getvalue()
    assert 'Model: "sequential"' in text
    assert " dense (Dense)               (None, 128)               100480" in text
    assert "Total params: 101,770" in text and "Non-trainable params: 0" in text
