"""Text classification from raw strings, after TensorFlow's "Basic text classification"
tutorial: a TextVectorization layer adapted on the training text, an Embedding +
Bidirectional(LSTM) classifier trained with fit on integer sequences, then an export
model that takes raw strings end to end.

The corpus is generated offline: movie-review-like sentences whose sentiment comes
from the positive or negative words they contain, some negated ("not boring"), written
to a temporary folder in the IMDB layout and read back with
text_dataset_from_directory.

Run: python examples/text_classification_vectorize.py
"""

import os
import re
import string
import tempfile

import numpy as np

import dlframe as tf

POSITIVE = ["great", "wonderful", "brilliant", "moving", "funny", "superb", "charming",
            "delightful"]
NEGATIVE = ["awful", "boring", "terrible", "dull", "clumsy", "tedious", "weak",
            "dreadful"]
FILLER = ["the", "film", "movie", "plot", "acting", "was", "really", "quite", "and",
          "story", "cast", "director", "ending", "scenes", "a", "very"]
MAX_TOKENS = 200
SEQUENCE_LENGTH = 12


def make_corpus(n=1200, seed=0):
    """Returns (sentences, labels): label 1 when the sentence is positive."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    sentences = []
    for label in labels:
        words = list(rng.choice(FILLER, rng.integers(4, 8)))
        for _ in range(rng.integers(1, 3)):
            # A third of the opinions are negated ("not boring"), so the order of
            # the words matters, not only which words occur.
            if rng.random() < 1 / 3:
                opinion = "not " + rng.choice(NEGATIVE if label else POSITIVE)
            else:
                opinion = rng.choice(POSITIVE if label else NEGATIVE)
            words.insert(rng.integers(0, len(words) + 1), opinion)
        sentence = " ".join(words)
        sentences.append(sentence.capitalize() + rng.choice([".", "!", "..."]))
    return np.array(sentences), labels.astype("float32")


def write_corpus(directory, seed=0):
    """Writes the generated reviews as train/{neg,pos}/*.txt and test/{neg,pos}/*.txt,
    the directory layout of the IMDB archive the tutorial downloads."""
    sentences, labels = make_corpus(seed=seed)
    for i, (sentence, label) in enumerate(zip(sentences, labels)):
        split = "train" if i < 1000 else "test"
        folder = os.path.join(directory, split, "pos" if label else "neg")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{i}.txt"), "w") as f:
            # Line breaks as HTML, as in the IMDB reviews.
            f.write(sentence.replace(" and ", " and<br />"))
    return directory


def custom_standardization(input_data):
    lowercase = tf.strings.lower(input_data)
    stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
    return tf.strings.regex_replace(stripped_html,
                                    "[%s]" % re.escape(string.punctuation), "")


def build_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Embedding(MAX_TOKENS, 16, mask_zero=True),
        tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(8)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(1),
    ])
    model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(0.01),
                  metrics=[tf.keras.metrics.BinaryAccuracy(threshold=0.0)])
    return model


def main(epochs=4, seed=0, verbose=2, workdir=None):
    tf.keras.utils.set_random_seed(seed)
    corpus_dir = write_corpus(workdir or tempfile.mkdtemp(), seed=seed)
    batch_size = 32
    raw_train_ds = tf.keras.utils.text_dataset_from_directory(
        os.path.join(corpus_dir, "train"), batch_size=batch_size,
        validation_split=0.2, subset="training", seed=seed)
    raw_val_ds = tf.keras.utils.text_dataset_from_directory(
        os.path.join(corpus_dir, "train"), batch_size=batch_size,
        validation_split=0.2, subset="validation", seed=seed)
    raw_test_ds = tf.keras.utils.text_dataset_from_directory(
        os.path.join(corpus_dir, "test"), batch_size=batch_size)
    print("classes:", raw_train_ds.class_names)

    vectorize_layer = tf.keras.layers.TextVectorization(
        standardize=custom_standardization, max_tokens=MAX_TOKENS,
        output_mode="int", output_sequence_length=SEQUENCE_LENGTH)
    vectorize_layer.adapt(raw_train_ds.map(lambda x, y: x))
    vocab = vectorize_layer.get_vocabulary()
    print("vocabulary size:", len(vocab), "first tokens:", vocab[:4])

    def vectorize_text(text, label):
        text = tf.expand_dims(text, -1)
        return vectorize_layer(text), label

    autotune = tf.data.AUTOTUNE
    train_ds = raw_train_ds.map(vectorize_text).cache().prefetch(buffer_size=autotune)
    val_ds = raw_val_ds.map(vectorize_text).cache().prefetch(buffer_size=autotune)

    model = build_model()
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs,
                        verbose=verbose)

    # The export model takes raw strings and returns probabilities.
    export_model = tf.keras.Sequential([
        vectorize_layer,
        model,
        tf.keras.layers.Activation("sigmoid"),
    ])
    export_model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=False),
                         optimizer="adam", metrics=["accuracy"])
    loss, accuracy = export_model.evaluate(raw_test_ds, verbose=0)
    print(f"raw-string test accuracy: {accuracy:.3f}")

    examples = tf.constant(["The movie was great and<br />charming!",
                            "A boring plot, really dreadful acting.",
                            "Quite a superb cast.",
                            "The ending was not boring!"])
    probs = export_model.predict(examples, verbose=0)
    for sentence, p in zip(examples.numpy(), probs[:, 0]):
        print(f"{p:.3f}  {sentence.decode()}")
    return history.history, accuracy, probs[:, 0]


if __name__ == "__main__":
    main()
