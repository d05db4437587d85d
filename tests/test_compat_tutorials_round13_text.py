"""Round-13 tutorial probes, text side: the TF "word2vec" tutorial (skipgrams,
``make_sampling_table``, ``log_uniform_candidate_sampler`` negative sampling, a
TextVectorization with a custom standardization, the einsum Word2Vec model and the
vectors.tsv / metadata.tsv export) and the "Text generation with an RNN" model's
Keras-3 spelling of ``get_initial_state``. Expected values marked "TF 2.21" were
printed by TensorFlow 2.21 running the same program."""

import re
import string

import numpy as np
import pytest

import dlframe as tf

SAMPLERS = {
    "log_uniform_candidate_sampler": "LogUniformCandidateSampler",
    "uniform_candidate_sampler": "UniformCandidateSampler",
    "learned_unigram_candidate_sampler": "LearnedUnigramCandidateSampler",
}
FIELDS = ("sampled_candidates", "true_expected_count", "sampled_expected_count")


@pytest.mark.parametrize("fn_name", sorted(SAMPLERS))
def test_candidate_samplers_return_tf_named_tuples(fn_name):
    true_classes = tf.constant([[1, 2], [3, 4]], dtype=tf.int64)
    result = getattr(tf.random, fn_name)(true_classes, 2, 5, True, 10, seed=1)
    assert type(result).__name__ == SAMPLERS[fn_name]   # TF 2.21
    assert result._fields == FIELDS
    assert result.sampled_candidates is result[0]
    assert result.sampled_candidates.dtype == tf.int64
    assert result.true_expected_count.shape == (2, 2)
    assert result.sampled_expected_count.shape == (5,)
    sampled = result.sampled_candidates.numpy()
    assert len(set(sampled.tolist())) == 5 and sampled.min() >= 0 and sampled.max() < 10


def test_fixed_unigram_all_candidates_and_accidental_hits_are_named_tuples():
    true_classes = tf.constant([[1, 2]], dtype=tf.int64)
    fixed = tf.random.fixed_unigram_candidate_sampler(true_classes, 2, 3, True, 5,
                                                      unigrams=[1, 2, 3, 4, 5])
    assert type(fixed).__name__ == "FixedUnigramCandidateSampler"
    assert fixed._fields == FIELDS
    every = tf.random.all_candidate_sampler(true_classes, 2, 4, True)
    assert type(every).__name__ == "AllCandidateSampler"
    np.testing.assert_array_equal(every.sampled_candidates.numpy(), [0, 1, 2, 3])
    hits = tf.nn.compute_accidental_hits(true_classes, tf.constant([2, 7], tf.int64), 2)
    assert type(hits).__name__ == "ComputeAccidentalHits"
    assert hits._fields == ("indices", "ids", "weights")
    assert hits.indices.numpy().tolist() == [0] and hits.ids.numpy().tolist() == [0]


def test_candidate_sampler_true_classes_errors_are_invalid_argument():
    # TF 2.21 raises InvalidArgumentError ("true_classes must be a matrix")
    with pytest.raises(tf.errors.InvalidArgumentError, match="true_classes"):
        tf.random.log_uniform_candidate_sampler(tf.constant([1, 2], tf.int64), 1, 2,
                                                True, 10)
    with pytest.raises(tf.errors.InvalidArgumentError, match="true_classes"):
        tf.random.log_uniform_candidate_sampler(tf.constant([[1, 2]], tf.int64), 1, 2,
                                                True, 10)


def test_log_uniform_expected_counts():
    probs = np.log((np.arange(100) + 2) / (np.arange(100) + 1)) / np.log(101)
    true_classes = tf.constant([[1, 2], [3, 4]], dtype=tf.int64)
    for unique in (False, True):
        sampled, true_expected, sampled_expected = \
            tf.random.log_uniform_candidate_sampler(true_classes, 2, 6, unique, 100,
                                                    seed=1)
        p_true = probs[[[1, 2], [3, 4]]]
        p_sampled = probs[sampled.numpy()]
        # TF 2.21: [[0.5271, 0.374], [0.2901, 0.237]] (num_sampled * p) when no draw
        # repeated; 1 - (1 - p)^tries, the same tries for every class, otherwise
        tries = np.log1p(-true_expected.numpy()) / np.log1p(-p_true)
        if np.allclose(true_expected.numpy(), 6 * p_true, rtol=1e-5):
            np.testing.assert_allclose(sampled_expected.numpy(), 6 * p_sampled,
                                       rtol=1e-5)
        else:
            assert unique and np.allclose(tries, tries.flat[0], rtol=1e-4)
            np.testing.assert_allclose(sampled_expected.numpy(),
                                       -np.expm1(tries.flat[0] * np.log1p(-p_sampled)),
                                       rtol=1e-4)


def _custom_standardization(input_data):
    lowercase = tf.strings.lower(input_data)
    return tf.strings.regex_replace(lowercase, f"[{re.escape(string.punctuation)}]", "")


LINES = ["First Citizen:", "Before we proceed any further, hear me speak.", "", "All:",
         "Speak, speak.", "You are all resolved rather to die than to famish?",
         "Resolved. resolved.", "First, you know Caius Marcius is chief enemy to the people."]


def test_word2vec_text_pipeline_with_custom_standardization(tmp_path):
    path = tmp_path / "shakespeare.txt"
    path.write_text("\n".join(LINES * 20) + "\n")
    text_ds = tf.data.TextLineDataset(str(path)).filter(
        lambda x: tf.cast(tf.strings.length(x), bool))
    vectorize_layer = tf.keras.layers.TextVectorization(
        standardize=_custom_standardization, max_tokens=4096, output_mode="int",
        output_sequence_length=10)
    vectorize_layer.adapt(text_ds.batch(1024))
    vocab = vectorize_layer.get_vocabulary()
    # TF 2.21
    assert vocab[:10] == ["", "[UNK]", "to", "speak", "resolved", "you", "first", "all",
                          "we", "the"]
    assert len(vocab) == 29
    sequences = list(text_ds.batch(1024).prefetch(tf.data.AUTOTUNE)
                     .map(vectorize_layer).unbatch().as_numpy_iterator())
    assert len(sequences) == 140 and sequences[0].dtype == np.int64
    np.testing.assert_array_equal(sequences[1], [26, 8, 12, 28, 19, 18, 14, 3, 0, 0])
    np.testing.assert_array_equal(sequences[4], [5, 27, 7, 4, 11, 2, 22, 10, 2, 20])

    sampling_table = tf.keras.preprocessing.sequence.make_sampling_table(10)
    np.testing.assert_allclose(sampling_table,   # TF 2.21
                               [0.00315, 0.00315, 0.00548, 0.00742, 0.00913, 0.01068,
                                0.01212, 0.01347, 0.01474, 0.01596], atol=1e-5)
    targets, contexts, labels = [], [], []
    for sequence in sequences[:8]:
        # the tutorial passes a sampling_table, which drops almost every pair of so
        # small a vocabulary (at random); without it the pairs are all kept
        pairs, _ = tf.keras.preprocessing.sequence.skipgrams(
            sequence, vocabulary_size=len(vocab), window_size=2, negative_samples=0)
        for target_word, context_word in pairs:
            context_class = tf.expand_dims(tf.constant([context_word], dtype="int64"), 1)
            negatives, _, _ = tf.random.log_uniform_candidate_sampler(
                true_classes=context_class, num_true=1, num_sampled=4, unique=True,
                range_max=len(vocab), seed=42, name="negative_sampling")
            context = tf.concat([tf.squeeze(context_class, 1), negatives], 0)
            targets.append(target_word)
            contexts.append(context)
            labels.append(tf.constant([1] + [0] * 4, dtype="int64"))
    contexts = np.array(contexts)
    # every (target, context) of non-padding words at most 2 apart
    n_pairs = sum(1 for seq in sequences[:8] for i, w in enumerate(seq) if w
                  for j in range(max(0, i - 2), min(len(seq), i + 3))
                  if j != i and seq[j])
    assert contexts.shape == (n_pairs, 5) and contexts.dtype == np.int64
    assert np.array(labels).shape == contexts.shape
    assert all(len(set(row[1:].tolist())) == 4 for row in contexts)


class Word2Vec(tf.keras.Model):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.target_embedding = tf.keras.layers.Embedding(vocab_size, embedding_dim,
                                                          name="w2v_embedding")
        self.context_embedding = tf.keras.layers.Embedding(vocab_size, embedding_dim)

    def call(self, pair):
        target, context = pair
        if len(target.shape) == 2:
            target = tf.squeeze(target, axis=1)
        word_emb = self.target_embedding(target)
        context_emb = self.context_embedding(context)
        return tf.einsum("be,bce->bc", word_emb, context_emb)


def test_word2vec_model_learns_and_exports_vectors(tmp_path):
    rng = np.random.default_rng(0)
    targets = rng.integers(1, 40, size=2048).astype("int64")
    contexts = rng.integers(1, 40, size=(2048, 5)).astype("int64")
    contexts[:, 0] = (targets * 7) % 39 + 1      # the true context is learnable
    labels = np.tile(np.array([1, 0, 0, 0, 0], "int64"), (2048, 1))
    dataset = tf.data.Dataset.from_tensor_slices(((targets, contexts), labels))
    dataset = dataset.shuffle(10000).batch(256, drop_remainder=True).cache()
    tf.keras.utils.set_random_seed(1)
    word2vec = Word2Vec(40, 16)
    word2vec.compile(optimizer="adam",
                     loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"])
    history = word2vec.fit(dataset, epochs=15, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert history.history["accuracy"][-1] > 0.9
    dots = word2vec((tf.constant(targets[:4]), tf.constant(contexts[:4]))).numpy()
    emb = word2vec.get_layer("w2v_embedding").get_weights()
    assert len(emb) == 1 and emb[0].shape == (40, 16) and emb[0].dtype == np.float32
    context_table = word2vec.context_embedding.get_weights()[0]
    expect = np.einsum("be,bce->bc", emb[0][targets[:4]], context_table[contexts[:4]])
    np.testing.assert_allclose(dots, expect, rtol=1e-5, atol=1e-5)

    vocab = ["", "[UNK]"] + [f"w{i}" for i in range(2, 40)]
    with open(tmp_path / "vectors.tsv", "w", encoding="utf-8") as out_v, \
            open(tmp_path / "metadata.tsv", "w", encoding="utf-8") as out_m:
        for index, word in enumerate(vocab):
            if index == 0:
                continue
            out_v.write("\t".join([str(x) for x in emb[0][index]]) + "\n")
            out_m.write(word + "\n")
    rows = np.loadtxt(tmp_path / "vectors.tsv", delimiter="\t")
    np.testing.assert_allclose(rows, emb[0][1:], rtol=1e-6)
    assert (tmp_path / "metadata.tsv").read_text().split()[:2] == ["[UNK]", "w2"]


def test_gru_get_initial_state_accepts_a_batch_size_tensor():
    # Keras 3's text-generation tutorial: get_initial_state(tf.shape(x)[0])
    gru = tf.keras.layers.GRU(4, return_sequences=True, return_state=True)
    x = tf.random.normal((2, 3, 5))
    gru(x)
    states = gru.get_initial_state(tf.shape(x)[0])
    assert isinstance(states, list) and states[0].shape == (2, 4)
    seq, state = gru(x, initial_state=states)
    expect_seq, expect_state = gru(x)
    np.testing.assert_allclose(seq.numpy(), expect_seq.numpy(), rtol=1e-6)
    np.testing.assert_allclose(state.numpy(), expect_state.numpy(), rtol=1e-6)
