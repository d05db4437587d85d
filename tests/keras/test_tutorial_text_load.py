"""The TF tutorials "Load text" (labelled TextLineDatasets, a StaticVocabularyTable
built from a Python ``range``, padded_batch, Conv1D classifier, interleave over
files), "word2vec" (skipgrams, negative sampling, an einsum Word2Vec model) and the
older "NMT with attention" pieces (AdditiveAttention with masks, ``tf.math.tanh``
activations in a SavedModel), run unchanged on synthetic data."""

import collections

import numpy as np

import dlframe as tf

keras = tf.keras
VOCABS = [["achilles", "wrath", "sing", "goddess"], ["hector", "troy", "horse", "tamer"],
          ["odysseus", "sea", "ship", "home"]]
FILE_NAMES = ["cowper.txt", "derby.txt", "butler.txt"]


def _write_files(root):
    rng = np.random.RandomState(0)
    for name, words in zip(FILE_NAMES, VOCABS):
        with open(root / name, "w") as f:
            for _ in range(60):
                line = " ".join(rng.choice(words + ["the", "and", "of"], rng.randint(4, 9)))
                f.write(line.capitalize() + ",\n")


def test_load_text_labelled_lines_vocab_table_and_classifier(tmp_path):
    _write_files(tmp_path)
    tf.keras.utils.set_random_seed(0)
    labeled = []
    for i, file_name in enumerate(FILE_NAMES):
        lines = tf.data.TextLineDataset(str(tmp_path / file_name))
        labeled.append(lines.map(lambda ex, i=i: (ex, tf.cast(i, tf.int64))))
    all_labeled = labeled[0].concatenate(labeled[1]).concatenate(labeled[2])
    all_labeled = all_labeled.shuffle(50000, reshuffle_each_iteration=False)

    def tokenize(text):
        return tf.strings.split(tf.strings.lower(text))
    tokenized = all_labeled.map(lambda text, label: tokenize(text))
    # a split's length depends on the text: unknown in the spec, as TF's
    assert tokenized.element_spec == tf.TensorSpec([None], tf.string)
    counter = collections.Counter()
    for toks in tokenized.ragged_batch(32):
        counter.update(toks.flat_values.numpy().tolist())
    vocab = [tok for tok, _ in counter.most_common(20)]
    init = tf.lookup.KeyValueTensorInitializer(vocab, range(2, len(vocab) + 2),
                                               key_dtype=tf.string, value_dtype=tf.int64)
    table = tf.lookup.StaticVocabularyTable(init, 1)
    ids = table.lookup(tf.constant([b"sing", b"unknownword"])).numpy()
    # TF gives OOV ids from the table's size (20), whatever values the keys map to
    assert ids[0] == vocab.index(b"sing") + 2 and ids[1] == len(vocab)

    def preprocess(text, label):
        return table.lookup(tokenize(text)), label
    encoded = all_labeled.map(preprocess)
    train = encoded.skip(30).shuffle(50000).padded_batch(32)
    val = encoded.take(30).padded_batch(32)
    text, labels = next(iter(val))
    assert text.dtype == tf.int64 and labels.shape == (30,)
    model = keras.Sequential([
        keras.layers.Embedding(len(vocab) + 3, 16, mask_zero=True),
        keras.layers.Conv1D(16, 3, padding="valid", activation="relu", strides=1),
        keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train, epochs=4, verbose=0)
    assert model.evaluate(val, return_dict=True, verbose=0)["accuracy"] > 0.9

    files = tf.data.Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    lines = files.interleave(lambda f: tf.data.TextLineDataset(f).skip(1), cycle_length=3,
                             block_length=2)
    first = [line.numpy().split()[0].lower().rstrip(b",") for line in lines.take(6)]
    # butler, cowper, derby in turn, two lines each: each file's own words
    for k, words in enumerate([VOCABS[2], VOCABS[0], VOCABS[1]]):
        assert all(w.decode() in words + ["the", "and", "of"] for w in first[2 * k:2 * k + 2])


def test_word2vec_skipgrams_negative_sampling_and_einsum_model():
    sequence = [1, 2, 3, 4, 5, 6]
    positive, labels = keras.preprocessing.sequence.skipgrams(
        sequence, vocabulary_size=8, window_size=2, negative_samples=0)
    assert len(positive) == 18 and set(labels) == {1}
    assert sorted(positive)[:3] == [[1, 2], [1, 3], [2, 1]]
    table = keras.preprocessing.sequence.make_sampling_table(size=10)
    # from TF 2.21 / Keras: make_sampling_table(10)
    np.testing.assert_allclose(table[:3], [0.00315225, 0.00315225, 0.00547597], rtol=1e-4)

    context_class = tf.reshape(tf.constant(3, dtype="int64"), (1, 1))
    candidates, true_expected, sampled_expected = tf.random.log_uniform_candidate_sampler(
        true_classes=context_class, num_true=1, num_sampled=4, unique=True,
        range_max=8, seed=42, name="negative_sampling")
    assert candidates.shape == (4,) and candidates.dtype == tf.int64
    assert len(set(candidates.numpy().tolist())) == 4
    assert true_expected.shape == (1, 1) and sampled_expected.shape == (4,)

    tf.keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    targets = rng.randint(1, 20, 256)
    contexts = np.stack([(targets + 1) % 20] + [rng.randint(1, 20, 256)
                                                for _ in range(4)], 1)
    labels = np.tile(np.array([1, 0, 0, 0, 0]), (256, 1))
    dataset = tf.data.Dataset.from_tensor_slices(((targets, contexts), labels))
    dataset = dataset.shuffle(1000).batch(32, drop_remainder=True)

    class Word2Vec(keras.Model):
        def __init__(self, vocab_size, embedding_dim):
            super().__init__()
            self.target_embedding = keras.layers.Embedding(vocab_size, embedding_dim,
                                                           name="w2v_embedding")
            self.context_embedding = keras.layers.Embedding(vocab_size, embedding_dim)

        def call(self, pair):
            target, context = pair
            if len(target.shape) == 2:
                target = tf.squeeze(target, axis=1)
            word_emb = self.target_embedding(target)
            context_emb = self.context_embedding(context)
            return tf.einsum("be,bce->bc", word_emb, context_emb)

    word2vec = Word2Vec(20, 16)
    word2vec.compile(optimizer="adam", metrics=["accuracy"],
                     loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    history = word2vec.fit(dataset, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    assert word2vec.get_layer("w2v_embedding").get_weights()[0].shape == (20, 16)


def test_additive_attention_masks_and_tanh_activation_saved_model(tmp_path):
    class BahdanauAttention(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.W1 = keras.layers.Dense(units, use_bias=False)
            self.W2 = keras.layers.Dense(units, use_bias=False)
            self.Wc = keras.layers.Dense(units, activation=tf.math.tanh, use_bias=False)
            self.Wr = keras.layers.Dense(units, activation=tf.nn.relu)
            self.attention = keras.layers.AdditiveAttention()

        def call(self, query, value, mask):
            query_mask = tf.ones(tf.shape(query)[:-1], dtype=bool)
            context, weights = self.attention(
                inputs=[self.W1(query), value, self.W2(value)],
                mask=[query_mask, mask], return_attention_scores=True)
            return self.Wr(self.Wc(tf.concat([context, query], -1))), weights

    tf.keras.utils.set_random_seed(0)
    layer = BahdanauAttention(8)
    rng = np.random.RandomState(0)
    query = rng.randn(2, 3, 8).astype(np.float32)
    value = rng.randn(2, 5, 8).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    out, weights = layer(query, value, mask)
    np.testing.assert_allclose(weights.numpy().sum(-1), np.ones((2, 3)), rtol=1e-5)
    assert np.all(weights.numpy()[0, :, 3:] == 0)

    class Holder(tf.Module):
        def __init__(self, layer):
            self.layer = layer

        @tf.function(input_signature=[tf.TensorSpec([None, 3, 8]),
                                      tf.TensorSpec([None, 5, 8]),
                                      tf.TensorSpec([None, 5], tf.bool)])
        def attend(self, query, value, mask):
            return self.layer(query, value, mask)[0]

    holder = Holder(layer)
    tf.saved_model.save(holder, str(tmp_path / "attn"))   # tanh/relu were unpicklable
    reloaded = tf.saved_model.load(str(tmp_path / "attn"))
    np.testing.assert_allclose(reloaded.attend(query, value, mask).numpy(), out.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_attention_layers_take_keras3_seed():
    for layer in (keras.layers.Attention(dropout=0.1, seed=3),
                  keras.layers.AdditiveAttention(seed=3),
                  keras.layers.MultiHeadAttention(2, 3, dropout=0.2, seed=4)):
        config = layer.get_config()
        assert config["seed"] == layer.seed
        assert type(layer).from_config(config).get_config() == config
