"""``model.layers`` of a functional model lists layers as Keras does: by decreasing
depth from the outputs, ties in discovery order (orders taken from TF 2.21)."""

import dlframe as tf

L = tf.keras.layers


def test_multi_input_model_lists_layers_by_depth():
    title = tf.keras.Input(shape=(None,), name="title")
    body = tf.keras.Input(shape=(None,), name="body")
    tags = tf.keras.Input(shape=(12,), name="tags")
    t = L.LSTM(4, name="lstm")(L.Embedding(100, 8, name="embedding")(title))
    b = L.LSTM(4, name="lstm_1")(L.Embedding(100, 8, name="embedding_1")(body))
    x = L.concatenate([t, b, tags], name="concatenate")
    model = tf.keras.Model([title, body, tags],
                           [L.Dense(1, name="priority")(x), L.Dense(4, name="department")(x)])
    assert [layer.name for layer in model.layers] == [
        "title", "body", "embedding", "embedding_1", "lstm", "lstm_1", "tags",
        "concatenate", "priority", "department"]
    assert model.layers[4].output.shape.as_list() == [None, 4]


def test_shared_layer_and_side_output_order():
    inp = tf.keras.Input((8,), name="x")
    a = L.Dense(8, name="a")(inp)
    s = L.Add(name="add")([L.Dense(8, name="b")(a), inp])
    model = tf.keras.Model(inp, [L.Dense(2, name="c")(s), L.Dense(1, name="aux")(a)])
    assert [layer.name for layer in model.layers] == ["x", "a", "b", "add", "c", "aux"]
    i1, i2 = tf.keras.Input((3,), name="i1"), tf.keras.Input((3,), name="i2")
    shared = L.Dense(3, name="shared")
    out = L.Concatenate(name="cat")([shared(i1), shared(L.Dense(3, name="pre")(i2))])
    assert [layer.name for layer in tf.keras.Model([i1, i2], out).layers] == [
        "i2", "i1", "pre", "shared", "cat"]
