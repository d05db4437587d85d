"""Structured data classification with Keras preprocessing layers, after TensorFlow's
"Classify structured data using Keras preprocessing layers" tutorial: a table of
numeric, string-categorical and integer-categorical columns goes through a
tf.data pipeline of feature dicts; Normalization, StringLookup and IntegerLookup
layers are adapted on the training columns and one-hot encoded; a functional model
over a dict of keras.Input is trained with fit, saved to a .keras file, re-loaded
and asked for a prediction on a raw dict of Python values.

The table is generated offline (a pet-adoption-like dataset): the target depends on
the age, the fee, the pet type and the number of photos, plus noise.

Run: python examples/structured_data_preprocessing.py
"""

import os
import tempfile

import numpy as np

import dlframe as tf

NUMERIC = ["Age", "Fee"]
STRING_CATEGORICAL = ["Type", "Color"]
INTEGER_CATEGORICAL = ["PhotoAmt"]
TYPES = ["Cat", "Dog", "Rabbit"]
COLORS = ["Black", "Brown", "White", "Golden", "Gray"]


def make_table(n=2000, seed=0):
    """Returns a dict of column name -> NumPy array (a DataFrame-like table) with
    the binary column "target"."""
    rng = np.random.default_rng(seed)
    table = {
        "Age": rng.integers(1, 120, n).astype("int64"),
        "Fee": np.round(rng.exponential(50.0, n), 1).astype("float32"),
        "Type": rng.choice(TYPES, n),
        "Color": rng.choice(COLORS, n),
        "PhotoAmt": rng.integers(0, 8, n).astype("int64"),
    }
    score = (-0.04 * table["Age"] - 0.03 * table["Fee"] + 0.6 * table["PhotoAmt"]
             + np.select([table["Type"] == "Dog", table["Type"] == "Rabbit"],
                         [1.5, -1.5], 0.0)
             + rng.normal(0.0, 0.5, n))
    table["target"] = (score > np.median(score)).astype("int64")
    return table


def df_to_dataset(table, shuffle=True, batch_size=32, seed=0):
    table = dict(table)
    labels = table.pop("target")
    features = {key: value[:, None] for key, value in table.items()}
    ds = tf.data.Dataset.from_tensor_slices((features, labels))
    if shuffle:
        ds = ds.shuffle(buffer_size=len(labels), seed=seed)
    return ds.batch(batch_size).prefetch(batch_size)


def get_normalization_layer(name, dataset):
    normalizer = tf.keras.layers.Normalization(axis=None)
    feature_ds = dataset.map(lambda x, y: x[name])
    normalizer.adapt(feature_ds)
    return normalizer


def get_category_encoding_layer(name, dataset, dtype, max_tokens=None):
    if dtype == "string":
        index = tf.keras.layers.StringLookup(max_tokens=max_tokens)
    else:
        index = tf.keras.layers.IntegerLookup(max_tokens=max_tokens)
    feature_ds = dataset.map(lambda x, y: x[name])
    index.adapt(feature_ds)
    encoder = tf.keras.layers.CategoryEncoding(
        num_tokens=index.vocabulary_size(), output_mode="one_hot")
    return lambda feature: encoder(index(feature))


def split(table, seed=0):
    n = len(table["target"])
    order = np.random.default_rng(seed).permutation(n)
    cuts = [int(0.8 * n * 0.8), int(0.8 * n)]
    parts = np.split(order, cuts)
    return [{key: value[part] for key, value in table.items()} for part in parts]


def build_model(train_ds):
    all_inputs = {}
    encoded_features = []
    for name in NUMERIC:
        column = tf.keras.Input(shape=(1,), name=name)
        layer = get_normalization_layer(name, train_ds)
        all_inputs[name] = column
        encoded_features.append(layer(column))
    for name in STRING_CATEGORICAL:
        column = tf.keras.Input(shape=(1,), name=name, dtype="string")
        layer = get_category_encoding_layer(name, train_ds, dtype="string")
        all_inputs[name] = column
        encoded_features.append(layer(column))
    for name in INTEGER_CATEGORICAL:
        column = tf.keras.Input(shape=(1,), name=name, dtype="int64")
        layer = get_category_encoding_layer(name, train_ds, dtype="int64",
                                            max_tokens=6)
        all_inputs[name] = column
        encoded_features.append(layer(column))

    all_features = tf.keras.layers.concatenate(encoded_features)
    x = tf.keras.layers.Dense(32, activation="relu")(all_features)
    x = tf.keras.layers.Dropout(0.2)(x)
    output = tf.keras.layers.Dense(1)(x)
    model = tf.keras.Model(all_inputs, output)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def main(epochs=10, n=2000, seed=0, verbose=2, workdir=None):
    tf.keras.utils.set_random_seed(seed)
    train, val, test = split(make_table(n=n, seed=seed), seed=seed)
    print(len(train["target"]), "training rows,", len(val["target"]),
          "validation rows,", len(test["target"]), "test rows")
    batch_size = 32
    train_ds = df_to_dataset(train, batch_size=batch_size, seed=seed)
    val_ds = df_to_dataset(val, shuffle=False, batch_size=batch_size)
    test_ds = df_to_dataset(test, shuffle=False, batch_size=batch_size)

    [(features, labels)] = train_ds.take(1)
    print("feature keys:", sorted(features), "a batch of ages:",
          features["Age"].shape)

    model = build_model(train_ds)
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs,
                        verbose=verbose)
    loss, accuracy = model.evaluate(test_ds, verbose=0)
    print(f"test accuracy: {accuracy:.3f}")

    path = os.path.join(workdir or tempfile.mkdtemp(), "my_pet_classifier.keras")
    model.save(path)
    reloaded = tf.keras.models.load_model(path)

    sample = {"Age": 30, "Fee": 20.0, "Type": "Cat", "Color": "Brown", "PhotoAmt": 3}
    input_dict = {name: tf.convert_to_tensor([value])
                  for name, value in sample.items()}
    predictions = reloaded.predict(input_dict, verbose=0)
    prob = float(tf.nn.sigmoid(predictions[0])[0])
    print(f"This particular pet had a {100 * prob:.1f} percent probability "
          "of getting adopted.")
    reloaded_accuracy = reloaded.evaluate(test_ds, verbose=0)[1]
    return history.history, accuracy, reloaded_accuracy, prob, path


if __name__ == "__main__":
    main()
