"""Premade estimators learn, report TF 2.15's metric and prediction keys, resume
from checkpoints; model_to_estimator and train_and_evaluate."""

import numpy as np
import pytest

import dlframe as tf
from tests.estimator.conftest import make_input_fn

CLASSIFIER_KEYS = {"accuracy", "average_loss", "loss", "global_step"}
BINARY_KEYS = CLASSIFIER_KEYS | {"auc", "auc_precision_recall", "precision", "recall",
                                 "prediction/mean", "label/mean", "accuracy_baseline"}
PREDICT_KEYS = {"logits", "probabilities", "class_ids", "classes", "all_class_ids",
                "all_classes"}


@pytest.mark.parametrize("make", [
    lambda cols, d: tf.estimator.DNNClassifier(hidden_units=[30, 10],
                                               feature_columns=cols, n_classes=3,
                                               model_dir=d),
    lambda cols, d: tf.estimator.LinearClassifier(feature_columns=cols, n_classes=3,
                                                  model_dir=d),
], ids=["dnn", "linear"])
def test_multiclass_learns(make, tmp_path, iris, columns):
    x, y = iris
    est = make(columns, str(tmp_path))
    est.train(make_input_fn(x, y), steps=300)
    result = est.evaluate(make_input_fn(x, y, training=False))
    assert set(result) == CLASSIFIER_KEYS
    assert result["accuracy"] > 0.9 and result["global_step"] == 300
    preds = list(est.predict(make_input_fn(x, y, training=False)))
    p = preds[0]
    assert set(p) == PREDICT_KEYS
    assert p["logits"].shape == (3,) and p["probabilities"].shape == (3,)
    assert p["class_ids"].dtype == np.int64 and p["class_ids"].shape == (1,)
    assert p["classes"][0] == str(p["class_ids"][0]).encode()
    np.testing.assert_array_equal(p["all_class_ids"], [0, 1, 2])
    np.testing.assert_array_equal(p["all_classes"], [b"0", b"1", b"2"])
    probs = np.stack([q["probabilities"] for q in preds])
    logits = np.stack([q["logits"] for q in preds]).astype(np.float64)
    soft = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probs, soft / soft.sum(1, keepdims=True), atol=1e-6)
    accuracy = np.mean(probs.argmax(1) == y)
    np.testing.assert_allclose(result["accuracy"], accuracy, rtol=1e-6)
    per_example = -np.log(probs[np.arange(len(y)), y])
    np.testing.assert_allclose(result["average_loss"], per_example.mean(), rtol=1e-3)


def test_dnn_variable_names_and_resume(tmp_path, iris, columns):
    x, y = iris
    kwargs = {"hidden_units": [8], "feature_columns": columns, "n_classes": 3,
                  "model_dir": str(tmp_path)}
    est = tf.estimator.DNNClassifier(**kwargs)
    est.train(make_input_fn(x, y), steps=10)
    names = set(est.get_variable_names())
    assert {"dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_0/bias", "dnn/logits/kernel",
            "dnn/logits/bias", "global_step"} <= names
    assert est.get_variable_value("dnn/hiddenlayer_0/kernel").shape == (4, 8)
    weights = {n: est.get_variable_value(n) for n in names}
    est2 = tf.estimator.DNNClassifier(**kwargs)
    p1 = next(iter(est.predict(make_input_fn(x, y, training=False))))
    p2 = next(iter(est2.predict(make_input_fn(x, y, training=False))))
    np.testing.assert_array_equal(p1["logits"], p2["logits"])
    est2.train(make_input_fn(x, y), steps=10)
    assert est2.get_variable_value("global_step") == 20
    # the Adagrad accumulators were restored too: they only grow
    acc = next(n for n in names if n.endswith("hiddenlayer_0_kernel_accumulator"))
    assert np.all(est2.get_variable_value(acc) > weights[acc])


def test_binary_linear_keys_and_vocabulary(tmp_path, iris, columns):
    x, y = iris
    labels = np.where(y > 0, "yes", "no")
    est = tf.estimator.LinearClassifier(feature_columns=columns,
                                        label_vocabulary=["no", "yes"],
                                        model_dir=str(tmp_path))
    est.train(make_input_fn(x, labels), steps=200)
    result = est.evaluate(make_input_fn(x, labels, training=False))
    assert set(result) == BINARY_KEYS
    assert result["accuracy"] > 0.9 and result["auc"] > 0.95
    np.testing.assert_allclose(result["label/mean"], np.mean(y > 0), rtol=1e-6)
    np.testing.assert_allclose(result["accuracy_baseline"],
                               max(np.mean(y > 0), 1 - np.mean(y > 0)), rtol=1e-6)
    preds = list(est.predict(make_input_fn(x, labels, training=False)))
    p = preds[0]
    assert set(p) == PREDICT_KEYS | {"logistic"}
    assert p["logits"].shape == (1,) and p["probabilities"].shape == (2,)
    np.testing.assert_allclose(p["logistic"], 1 / (1 + np.exp(-p["logits"])),
                               rtol=1e-5)
    assert p["classes"][0] in (b"no", b"yes")
    np.testing.assert_array_equal(p["all_classes"], [b"no", b"yes"])
    logistic = np.array([q["logistic"][0] for q in preds])
    np.testing.assert_allclose(result["prediction/mean"], logistic.mean(), rtol=1e-5)
    assert "linear/linear_model/PetalLength/weights" in est.get_variable_names()
    with pytest.raises(ValueError, match="not in label_vocabulary"):
        est.evaluate(make_input_fn(x, np.where(y > 0, "yes", "maybe"), False))


def test_linear_categorical_columns_and_weights(tmp_path):
    rng = np.random.RandomState(0)
    color = rng.choice(["red", "green", "blue"], 200)
    size = rng.randn(200).astype(np.float32)
    y = ((color == "red") | (size > 1.0)).astype(np.int64)
    cols = [tf.feature_column.categorical_column_with_vocabulary_list(
        "color", ["red", "green", "blue"]), tf.feature_column.numeric_column("size")]

    def input_fn(training=True):
        ds = tf.data.Dataset.from_tensor_slices(
            ({"color": color, "size": size, "w": np.ones(200, np.float32)}, y))
        return (ds.shuffle(200, seed=0).repeat() if training else ds).batch(20)
    est = tf.estimator.LinearClassifier(feature_columns=cols, weight_column="w",
                                        model_dir=str(tmp_path))
    est.train(input_fn, steps=300)
    assert est.evaluate(lambda: input_fn(False))["accuracy"] > 0.9
    assert est.get_variable_value("linear/linear_model/color/weights").shape == (3, 1)


def test_regressors(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.rand(256, 2).astype(np.float32)
    y = (x @ np.array([2.0, -1.0], np.float32) + 0.5).astype(np.float32)
    cols = [tf.feature_column.numeric_column("x", shape=(2,))]

    def input_fn(training=True):
        ds = tf.data.Dataset.from_tensor_slices(({"x": x}, y))
        return (ds.repeat() if training else ds).batch(32)
    est = tf.estimator.LinearRegressor(feature_columns=cols, model_dir=str(tmp_path),
                                       optimizer=tf.keras.optimizers.SGD(0.2))
    est.train(input_fn, steps=400)
    result = est.evaluate(lambda: input_fn(False))
    assert set(result) == {"average_loss", "loss", "label/mean", "prediction/mean",
                           "global_step"}
    assert result["average_loss"] < 1e-3
    preds = np.array([p["predictions"][0] for p in est.predict(lambda: input_fn(False))])
    np.testing.assert_allclose(preds, y, atol=0.1)
    np.testing.assert_allclose(result["label/mean"], y.mean(), rtol=1e-5)
    dnn = tf.estimator.DNNRegressor(hidden_units=[16], feature_columns=cols,
                                    optimizer="Adam", model_dir=str(tmp_path / "d"))
    dnn.train(input_fn, steps=300)
    assert dnn.evaluate(lambda: input_fn(False))["average_loss"] < 0.05


def test_combined_and_baseline(tmp_path, iris, columns):
    x, y = iris
    est = tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=columns, dnn_feature_columns=columns,
        dnn_hidden_units=[10], n_classes=3, linear_optimizer="Adam",
        dnn_optimizer=tf.keras.optimizers.Adam(0.01), model_dir=str(tmp_path))
    est.train(make_input_fn(x, y), steps=200)
    assert est.evaluate(make_input_fn(x, y, training=False))["accuracy"] > 0.9
    names = est.get_variable_names()
    assert "dnn/logits/kernel" in names and "linear/linear_model/bias_weights" in names
    positive = (y > 0).astype(np.int64)   # 2/3 positive: the baseline learns that
    base = tf.estimator.BaselineClassifier(model_dir=str(tmp_path / "b"),
                                           optimizer=tf.keras.optimizers.SGD(0.1))
    base.train(make_input_fn(x, positive), steps=300)
    probs = next(iter(base.predict(make_input_fn(x, positive, training=False))))
    np.testing.assert_allclose(probs["probabilities"][1], positive.mean(), atol=0.05)
    assert base.get_variable_names().count("baseline/bias") == 1


def test_premade_argument_errors(columns):
    with pytest.raises(ValueError, match="hidden_units"):
        tf.estimator.DNNClassifier(hidden_units=[], feature_columns=columns)
    with pytest.raises(ValueError, match="n_classes"):
        tf.estimator.DNNClassifier(hidden_units=[3], feature_columns=columns,
                                   n_classes=1)
    with pytest.raises(ValueError, match="Unsupported optimizer name"):
        tf.estimator.LinearClassifier(feature_columns=columns,
                                      optimizer="Nope").train(
            lambda: ({"SepalLength": [1.0], "SepalWidth": [1.0], "PetalLength": [1.0],
                      "PetalWidth": [1.0]}, [1]), steps=1)
    with pytest.raises(ValueError, match="Either linear_feature_columns"):
        tf.estimator.DNNLinearCombinedClassifier()
    with pytest.raises(ValueError, match="feature columns"):
        tf.estimator.LinearRegressor(feature_columns=["x"])


def test_model_to_estimator_and_train_and_evaluate(tmp_path):
    tf.random.set_seed(0)   # initial weights and shuffles: unseeded, 1 run in ~5 fell short
    rng = np.random.RandomState(0)
    x = rng.randn(200, 4).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu",
                                                       input_shape=(4,)),
                                 tf.keras.layers.Dense(2)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.get_weights()
    est = tf.keras.estimator.model_to_estimator(keras_model=model,
                                                model_dir=str(tmp_path))

    def train_fn():
        return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(200).repeat().batch(32)

    def eval_fn():
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(200)
    # the estimator starts from the Keras model's weights
    first = est.evaluate(eval_fn)
    keras_loss, keras_acc = model.evaluate(x, y, batch_size=200, verbose=0)
    np.testing.assert_allclose(first["loss"], keras_loss, rtol=1e-5)
    np.testing.assert_allclose(first["accuracy"], keras_acc, rtol=1e-5)
    result, exports = tf.estimator.train_and_evaluate(
        est, tf.estimator.TrainSpec(train_fn, max_steps=300),
        tf.estimator.EvalSpec(eval_fn, steps=None))
    assert exports == [] and result["global_step"] == 300
    assert result["accuracy"] > 0.9
    for a, b in zip(before, model.get_weights()):   # the Keras model is untouched
        np.testing.assert_array_equal(a, b)
    pred = next(iter(est.predict(eval_fn)))
    assert set(pred) == {model.output_names[0]} and pred[model.output_names[0]].shape \
        == (2,)
    with pytest.raises(ValueError, match="not been compiled"):
        tf.keras.estimator.model_to_estimator(keras_model=tf.keras.Sequential(
            [tf.keras.layers.Dense(1, input_shape=(2,))]))
    with pytest.raises(TypeError, match="TrainSpec"):
        tf.estimator.train_and_evaluate(est, None, None)
