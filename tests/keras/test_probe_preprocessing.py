"""Regressions found by running Keras-guide preprocessing programs under dlframe and
TensorFlow 2.21 side by side (text classification with a custom standardization
function, unbatched ``adapt`` datasets, 'tf_idf' layers in ``.keras`` files, configs
Keras 3 can read). Expected numbers come from NumPy or, where noted, TF 2.21."""

import io
import json
import re
import string
import zipfile

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from dlframe.keras.utils import generic_utils

L = keras.layers
TEXTS = ["The cat<br />sat!", "a dog, a cat", "the DOG ran"]


def _strip_html(input_data):
    lowercase = tf.strings.lower(input_data)
    stripped = tf.strings.regex_replace(lowercase, "<br />", " ")
    return tf.strings.regex_replace(stripped, f"[{re.escape(string.punctuation)}]", "")


def _split_comma(x):
    return tf.strings.split(x, sep=",")


@pytest.fixture
def registered_standardize():
    fn = keras.utils.register_keras_serializable(package="probe_b")(_strip_html)
    yield fn
    key = "probe_b>_strip_html"
    generic_utils._GLOBAL_CUSTOM_OBJECTS.pop(key, None)
    generic_utils._GLOBAL_CUSTOM_NAMES.pop(fn, None)


def _layer_weight_keys(path):
    h5py = pytest.importorskip("h5py")
    with zipfile.ZipFile(path) as z:
        data = io.BytesIO(z.read("model.weights.h5"))
    keys = []
    with h5py.File(data, "r") as f:
        f.visititems(lambda name, obj: keys.append(name)
                     if isinstance(obj, h5py.Dataset) else None)
    return keys


# ------------------------------------------------------------ TextVectorization
def test_custom_standardize_survives_keras_file(tmp_path, registered_standardize):
    tv = L.TextVectorization(max_tokens=20, standardize=registered_standardize,
                             output_sequence_length=4)
    tv.adapt(TEXTS)
    # "<br />" becomes a space and punctuation goes: 'cat' and 'sat' are words
    assert {"cat", "sat", "dog"} <= set(tv.get_vocabulary())
    config = tv.get_config()
    assert config["standardize"]["class_name"] == "function"
    assert config["standardize"]["registered_name"] == "probe_b>_strip_html"
    assert L.TextVectorization.from_config(config).standardize is registered_standardize
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), tv])
    example = tf.constant([["The cat<br />ran!"]])
    expected = model.predict(example, verbose=0)
    vocab = tv.get_vocabulary()
    assert expected.tolist() == [[vocab.index("the"), vocab.index("cat"),
                                  vocab.index("ran"), 0]]
    path = str(tmp_path / "tv.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(example, verbose=0), expected)


def test_unregistered_functions_need_custom_objects(tmp_path):
    tv = L.TextVectorization(standardize=_strip_html, split=_split_comma)
    tv.adapt(["A,b!", "b"])
    inp = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(inp, tv(inp))
    path = str(tmp_path / "tv.keras")
    model.save(path)
    with pytest.raises(ValueError, match="_strip_html"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(
        path, custom_objects={"_strip_html": _strip_html, "_split_comma": _split_comma})
    x = tf.constant([["a,B"], ["c"]])
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.layers[1].split is _split_comma


@pytest.mark.parametrize("kwargs, key", [({"standardize": "upper"}, "standardize"),
                                         ({"split": "comma"}, "split"),
                                         ({"ngrams": 0}, "ngrams")])
def test_bad_text_arguments_fail_early(kwargs, key):
    with pytest.raises(ValueError, match=key) as info:
        L.TextVectorization(**kwargs)
    assert str(next(iter(kwargs.values()))) in str(info.value)


def test_split_none_keeps_rank_one_shape():
    tv = L.TextVectorization(standardize=None, split=None)
    tv.adapt(["Hello World", "foo"])
    out = tv(tf.constant(["Hello World", "x"]))
    assert out.shape == (2,)   # TF 2.21: [3, 1]
    np.testing.assert_array_equal(out.numpy(), [3, 1])
    assert tv(tf.constant([["Hello World"], ["x"]])).shape == (2, 1)
    fn = tf.function(lambda s: tv(s))
    np.testing.assert_array_equal(fn(tf.constant(["foo", "Hello World"])).numpy(), [2, 3])


def test_adapt_on_unbatched_string_dataset():
    ds = tf.data.Dataset.from_tensor_slices(["the cat sat", "the dog", "a cat"])
    tv = L.TextVectorization(output_sequence_length=3)
    tv.adapt(ds)   # scalar documents, not characters
    assert tv.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "dog", "a"]
    mapped = [x.numpy().tolist() for x in ds.map(tv)]
    assert mapped == [[2, 3, 4], [2, 5, 0], [6, 3, 0]]


# ------------------------------------------------------------ tf_idf in .keras files
def test_tf_idf_layers_store_idf_weights_like_keras3(tmp_path):
    tv = L.TextVectorization(output_mode="tf_idf", ngrams=2)
    tv.adapt(["a b c", "a a b"])
    lookup = L.StringLookup(output_mode="tf_idf")
    lookup.adapt(np.array([["x", "y"], ["y", "y"], ["z", "x"]]))
    text_in = keras.Input(shape=(1,), dtype="string")
    tok_in = keras.Input(shape=(2,), dtype="string")
    model = keras.Model([text_in, tok_in], [tv(text_in), lookup(tok_in)])
    inputs = [tf.constant([["a b b"], ["c q"]]), tf.constant([["x", "q"], ["y", "y"]])]
    expected = [o.numpy() for o in model(inputs)]
    # idf = log(1 + docs / (1 + doc_freq)); OOV gets the mean of the others
    idf_b = np.log(1 + 2 / 3)
    assert expected[0][0, tv.get_vocabulary().index("b")] == pytest.approx(2 * idf_b)
    path = str(tmp_path / "tfidf.keras")
    model.save(path)
    # where TF 2.21 writes (and reads) them
    assert set(_layer_weight_keys(path)) == {
        "layers/text_vectorization/vars/idf_weights",
        "layers/text_vectorization/_lookup_layer/vars/idf_weights",
        "layers/string_lookup/vars/idf_weights"}
    with zipfile.ZipFile(path) as z:   # the adapted StringLookup keeps its vocabulary
        assert any(n.endswith("vocabulary.txt") for n in z.namelist())   # in assets
    loaded = keras.models.load_model(path)
    for got, want in zip(loaded(inputs), expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_set_vocabulary_with_special_tokens_takes_their_weights():
    lookup = L.StringLookup(output_mode="tf_idf")
    lookup.set_vocabulary(["[UNK]", "a", "b"], idf_weights=[0.25, 0.5, 1.0])
    np.testing.assert_allclose(lookup(tf.constant([["a", "b", "q", "b"]])).numpy(),
                               [[0.25, 0.5, 2.0]])
    lookup.set_vocabulary(["a", "b"], idf_weights=[0.5, 1.0])   # OOV: the mean
    np.testing.assert_allclose(lookup.idf_weights.numpy(), [0.75, 0.5, 1.0])


# ------------------------------------------------------------ configs Keras 3 reads
def test_discretization_and_hashed_crossing_configs_omit_trainable():
    disc = L.Discretization(num_bins=3)
    disc.adapt(np.arange(9.0))
    for layer in (disc, L.HashedCrossing(num_bins=5)):
        config = layer.get_config()
        assert "trainable" not in config   # Keras 3's __init__ rejects it
        json.dumps(config)
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    np.testing.assert_array_equal(
        L.Discretization.from_config(disc.get_config())(np.array([0.0, 4.0, 8.0])).numpy(),
        disc(np.array([0.0, 4.0, 8.0])).numpy())


# ------------------------------------------------------------ Hashing mask, Normalization
def test_hashing_mask_value_eager_and_compiled():
    strings = L.Hashing(num_bins=3, mask_value="")
    x = tf.constant([["A"], [""], ["C"]])
    out = strings(x).numpy()
    assert out[1, 0] == 0 and (out[[0, 2], 0] >= 1).all()
    np.testing.assert_array_equal(tf.function(strings)(x).numpy(), out)
    ints = L.Hashing(num_bins=4, mask_value=0)
    y = tf.constant([[0], [7], [0]], dtype="int64")
    got = ints(y).numpy()
    assert got[0, 0] == got[2, 0] == 0 and got[1, 0] >= 1
    np.testing.assert_array_equal(tf.function(ints)(y).numpy(), got)


def test_normalization_adapts_on_unbatched_rows():
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 8.0]], "float32")
    layer = L.Normalization()
    layer.adapt(tf.data.Dataset.from_tensor_slices(rows))
    assert tuple(layer.mean.shape) == (1, 2)   # TF 2.21 batches rank-1 elements
    np.testing.assert_allclose(layer.mean.numpy(), rows.mean(0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy(), rows.var(0, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(layer(rows).numpy(),
                               (rows - rows.mean(0)) / rows.std(0), rtol=1e-5)


def test_normalization_fixed_stats_before_build():
    layer = L.Normalization(axis=None, mean=2.0, variance=4.0)
    assert float(layer.mean) == 2.0 and float(layer.variance) == 4.0
    np.testing.assert_allclose(layer(np.array([[4.0, 0.0]])).numpy(), [[1.0, -1.0]])


def test_binary_is_keras2_name_of_multi_hot():
    # TF 2.21 still accepts output_mode='binary' (the "Load text" tutorial uses it)
    tv = L.TextVectorization(max_tokens=5, output_mode="binary")
    tv.adapt(["a b b", "c"])
    assert tv.get_config()["output_mode"] == "multi_hot"
    assert tv.get_vocabulary() == ["[UNK]", "b", "c", "a"]   # ties: descending token
    np.testing.assert_array_equal(tv(tf.constant(["b c c"])).numpy(), [[0, 1, 1, 0]])
    lookup = L.StringLookup(vocabulary=["a", "b"], output_mode="binary")
    np.testing.assert_array_equal(lookup(tf.constant([["b", "b", "q"]])).numpy(),
                                  [[1, 0, 1]])
    assert L.IntegerLookup(vocabulary=[7], output_mode="binary").output_mode == \
        "multi_hot"
    encoding = L.CategoryEncoding(num_tokens=3, output_mode="binary")
    np.testing.assert_array_equal(encoding(np.array([[2, 2]])).numpy(), [[0, 0, 1]])
    for layer, kwargs in ((L.Hashing, {"num_bins": 3}),
                          (L.Discretization, {"bin_boundaries": [0.0]})):
        with pytest.raises(ValueError, match="output_mode=binary"):
            layer(output_mode="binary", **kwargs)


# ------------------------------------------------------------ dataset utilities
def test_image_dataset_channels_first(tmp_path):
    rng = np.random.RandomState(0)
    images = {}
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        img = rng.randint(0, 256, (6, 4, 3)).astype("uint8")
        images[name] = img
        tf.io.write_file(str(tmp_path / name / "a.png"), tf.io.encode_png(img))
    kwargs = {"image_size": (6, 4), "batch_size": 2, "shuffle": False,
              "interpolation": "nearest", "verbose": False}
    first = keras.utils.image_dataset_from_directory(
        str(tmp_path), data_format="channels_first", **kwargs)
    x, y = next(iter(first))
    assert tuple(x.shape) == (2, 3, 6, 4)   # TF 2.21: (batch, channels, h, w)
    np.testing.assert_array_equal(x.numpy()[1], images["dogs"].transpose(2, 0, 1))
    np.testing.assert_array_equal(y.numpy(), [0, 1])
    last = keras.utils.image_dataset_from_directory(str(tmp_path), **kwargs)
    np.testing.assert_array_equal(next(iter(last))[0].numpy()[0], images["cats"])
    with pytest.raises(ValueError, match="data_format='nhwc'"):
        keras.utils.image_dataset_from_directory(str(tmp_path), data_format="nhwc")


def test_keras_utils_legacy_serialization_round_trip():
    config = keras.utils.legacy.serialize_keras_object(L.Dense(3, name="probe_dense"))
    assert sorted(config) == ["class_name", "config"]   # Keras 2's format
    assert config["class_name"] == "Dense" and config["config"]["units"] == 3
    layer = keras.utils.legacy.deserialize_keras_object(
        config, module_objects={"Dense": L.Dense})
    assert isinstance(layer, L.Dense) and layer.units == 3
    assert keras.utils.legacy.serialize_keras_object(keras.activations.relu) == "relu"


# ------------------------------------------------------------ ragged inputs
def test_lookups_encode_ragged_rows_and_adapt_on_them():
    tokens = tf.strings.split(tf.constant(["a b c", "b", "c c d e"]))
    lookup = L.StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot")
    np.testing.assert_array_equal(lookup(tokens).numpy(),   # TF 2.21
                                  [[0, 1, 1, 1], [0, 0, 1, 0], [1, 0, 0, 1]])
    tf_idf = L.StringLookup(vocabulary=["a", "b"], output_mode="tf_idf",
                            idf_weights=[1.0, 2.0])
    compiled = tf.function(lambda t: tf_idf(tf.strings.split(t)))
    np.testing.assert_allclose(compiled(tf.constant(["a b b", "c"])).numpy(),
                               [[0.0, 1.0, 4.0], [1.5, 0.0, 0.0]])
    learned = L.StringLookup(output_mode="tf_idf")
    learned.adapt(tokens)   # one document per row
    assert learned.get_vocabulary() == ["[UNK]", "c", "b", "e", "d", "a"]
    docs = [{"a", "b", "c"}, {"b"}, {"c", "d", "e"}]
    idf = {t: np.log(1 + 3 / (1 + sum(t in d for d in docs))) for t in "abcde"}
    np.testing.assert_allclose(learned.idf_weights.numpy()[1:],
                               [idf[t] for t in "cbeda"], rtol=1e-6)
    ints = L.IntegerLookup(vocabulary=[1, 2], output_mode="count")
    np.testing.assert_array_equal(ints(tf.ragged.constant([[1, 2, 2, 9], [2]])).numpy(),
                                  [[1, 1, 2], [0, 0, 1]])


def test_hashing_discretization_category_encoding_on_ragged():
    words = tf.ragged.constant([["a", "b"], ["c"]])
    bins = L.Hashing(num_bins=4)(words)
    assert bins.to_list() == [[3, 2], [0]]   # TF 2.21 (FarmHash bins)
    np.testing.assert_array_equal(L.Hashing(num_bins=4, output_mode="multi_hot")(
        words).numpy(), [[0, 0, 1, 1], [1, 0, 0, 0]])
    values = tf.ragged.constant([[0.0, 2.0, 3.0], [0.5]])
    assert L.Discretization(bin_boundaries=[1.0])(values).to_list() == [[0, 1, 1], [0]]
    np.testing.assert_array_equal(
        L.Discretization(bin_boundaries=[1.0], output_mode="count")(values).numpy(),
        [[1.0, 2.0], [1.0, 0.0]])
    ids = tf.ragged.constant([[0, 2, 2], [3]])
    counts = L.CategoryEncoding(num_tokens=4, output_mode="count")(
        ids, count_weights=tf.ragged.constant([[0.5, 1.0, 2.0], [4.0]]))
    np.testing.assert_allclose(counts.numpy(), [[0.5, 0, 3.0, 0], [0, 0, 0, 4.0]])
    with pytest.raises(ValueError, match="output_mode=one_hot"):
        L.CategoryEncoding(num_tokens=4, output_mode="one_hot")(ids)
