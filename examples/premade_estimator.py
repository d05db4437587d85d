"""The TensorFlow "Premade Estimators" guide (iris DNNClassifier), offline.

The guide downloads iris_training.csv; here a synthetic iris-like data set (three
Gaussian clusters in the same four features) stands in for it. Everything else is
the guide's code, run with ``import dlframe as tf``.
"""

import numpy as np

import dlframe as tf

CSV_COLUMN_NAMES = ["SepalLength", "SepalWidth", "PetalLength", "PetalWidth",
                    "Species"]
SPECIES = ["Setosa", "Versicolor", "Virginica"]


def load_data(n_train=120, n_test=30, seed=0):
    """(train_x, train_y), (test_x, test_y) as dicts of columns and label arrays."""
    rng = np.random.RandomState(seed)
    means = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3],
                      [6.6, 3.0, 5.6, 2.0]], np.float32)
    scales = np.array([0.35, 0.35, 0.45, 0.25], np.float32)

    def sample(n):
        y = rng.randint(0, 3, n)
        x = means[y] + scales * rng.randn(n, 4).astype(np.float32)
        return {k: x[:, i] for i, k in enumerate(CSV_COLUMN_NAMES[:4])}, y
    return sample(n_train), sample(n_test)


def input_fn(features, labels, training=True, batch_size=256):
    """An input function for training or evaluating."""
    dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))
    if training:
        dataset = dataset.shuffle(1000).repeat()
    return dataset.batch(batch_size)


def main(steps=5000):
    (train_x, train_y), (test_x, test_y) = load_data()
    my_feature_columns = [tf.feature_column.numeric_column(key=key)
                          for key in train_x]
    classifier = tf.estimator.DNNClassifier(feature_columns=my_feature_columns,
                                            hidden_units=[30, 10], n_classes=3)
    classifier.train(input_fn=lambda: input_fn(train_x, train_y, training=True),
                     steps=steps)
    eval_result = classifier.evaluate(
        input_fn=lambda: input_fn(test_x, test_y, training=False))
    print("\nTest set accuracy: {accuracy:0.3f}\n".format(**eval_result))

    expected = ["Setosa", "Versicolor", "Virginica"]
    predict_x = {"SepalLength": [5.1, 5.9, 6.9], "SepalWidth": [3.3, 3.0, 3.1],
                 "PetalLength": [1.7, 4.2, 5.4], "PetalWidth": [0.5, 1.5, 2.1]}

    def input_fn_predict(features, batch_size=256):
        """An input function for prediction."""
        return tf.data.Dataset.from_tensor_slices(dict(features)).batch(batch_size)

    predictions = classifier.predict(input_fn=lambda: input_fn_predict(predict_x))
    for pred_dict, expec in zip(predictions, expected):
        class_id = pred_dict["class_ids"][0]
        probability = pred_dict["probabilities"][class_id]
        print(f'Prediction is "{SPECIES[class_id]}" ({100 * probability:.1f}%), expected "{expec}"')
    return eval_result


if __name__ == "__main__":
    main()
