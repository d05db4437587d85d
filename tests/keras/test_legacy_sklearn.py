"""Keras 2's scikit-learn wrappers (tf.keras.wrappers.scikit_learn)."""

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.wrappers.scikit_learn import KerasClassifier, KerasRegressor


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4)).astype("float32")
    labels = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    y_reg = x @ np.array([1.0, 2.0, -1.0, 0.5], "float32")
    return x, labels, y_reg


def build_classifier(units=8, loss="sparse_categorical_crossentropy"):
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(units, activation="relu", input_shape=(4,)),
        tf.keras.layers.Dense(2, activation="softmax")])
    model.compile(tf.keras.optimizers.Adam(0.05), loss, metrics=["accuracy"])
    return model


def build_regressor():
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(4,))])
    model.compile(tf.keras.optimizers.SGD(0.1), "mse")
    return model


def test_classifier_string_labels_predict_proba_score():
    x, labels, _ = _data()
    clf = KerasClassifier(build_fn=build_classifier, epochs=15, batch_size=16, verbose=0)
    clf.fit(x, labels)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    assert clf.n_classes_ == 2
    pred = clf.predict(x)
    proba = clf.predict_proba(x)
    assert proba.shape == (90, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    accuracy = clf.score(x, labels)
    assert accuracy == pytest.approx(np.mean(pred == labels), abs=1e-6)
    assert accuracy > 0.9


def test_classifier_categorical_loss_one_hot_and_int_labels():
    x, labels, _ = _data()
    y = (labels == "yes").astype(int) + 3          # labels 3 and 4
    clf = KerasClassifier(build_fn=build_classifier, loss="categorical_crossentropy",
                          epochs=15, verbose=0)
    clf.fit(x, y)
    np.testing.assert_array_equal(clf.classes_, [3, 4])
    assert set(np.unique(clf.predict(x))) <= {3, 4}
    assert clf.score(x, y) > 0.9


def test_binary_sigmoid_classifier():
    x, labels, _ = _data()

    def build():
        model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid",
                                                           input_shape=(4,))])
        model.compile(tf.keras.optimizers.Adam(0.1), "binary_crossentropy",
                      metrics=["acc"])
        return model
    y = (labels == "yes").astype("float32")
    clf = KerasClassifier(build, epochs=20, verbose=0)
    clf.fit(x, y)
    p = clf.model.predict(x, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(x), np.hstack([1 - p, p]), rtol=1e-6)
    assert clf.predict(x).shape == (90, 1)        # Keras 2 kept the unit axis
    assert clf.score(x, y) > 0.9


def test_regressor_predict_squeezes_and_score_is_negative_loss():
    x, _, y = _data()
    reg = KerasRegressor(build_fn=build_regressor, epochs=40, verbose=0)
    reg.fit(x, y)
    pred = reg.predict(x)
    assert pred.shape == (90,)
    mse = float(np.mean((pred - y) ** 2))
    assert reg.score(x, y) == pytest.approx(-mse, rel=1e-4, abs=1e-6)
    assert mse < 0.05


def test_params_and_errors():
    clf = KerasClassifier(build_fn=build_classifier, units=4, epochs=2, verbose=0)
    params = clf.get_params()
    assert params == {"build_fn": build_classifier, "units": 4, "epochs": 2,
                      "verbose": 0}
    clf.set_params(units=6, batch_size=8)
    assert clf.get_params()["units"] == 6 and clf.sk_params["batch_size"] == 8
    with pytest.raises(ValueError, match="nonsense is not a legal parameter"):
        KerasClassifier(build_fn=build_classifier, nonsense=1)
    with pytest.raises(ValueError, match="nonsense"):
        clf.set_params(nonsense=1)
    with pytest.raises(ValueError, match="not fitted"):
        clf.predict(np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="Invalid shape for y"):
        clf.fit(np.zeros((2, 4), "float32"), np.zeros((2, 1, 1)))


def test_score_requires_accuracy_metric():
    x, labels, _ = _data()

    def build():
        model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation="softmax",
                                                           input_shape=(4,))])
        model.compile("sgd", "sparse_categorical_crossentropy")
        return model
    clf = KerasClassifier(build, epochs=1, verbose=0)
    clf.fit(x, labels)
    with pytest.raises(ValueError, match="accuracy"):
        clf.score(x, labels)


def test_callable_object_build_fn_and_subclass_call():
    class Builder:
        def __call__(self, units=3):
            return build_classifier(units)

    class MyClassifier(KerasClassifier):
        def __call__(self, units=5):
            return build_classifier(units)
    x, labels, _ = _data()
    for clf in (KerasClassifier(Builder(), units=7, epochs=1, verbose=0),
                MyClassifier(units=7, epochs=1, verbose=0)):
        clf.fit(x, labels)
        assert clf.model.layers[0].units == 7


def test_sklearn_clone_cross_val_score_and_grid_search():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, cross_val_score
    x, labels, y = _data()
    clf = KerasClassifier(build_fn=build_classifier, epochs=10, batch_size=16, verbose=0)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf
    scores = cross_val_score(clf, x, labels, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(clf, {"units": [2, 8], "epochs": [1, 10]}, cv=2).fit(x, labels)
    assert grid.best_params_["epochs"] == 10
    assert grid.best_score_ > 0.8
    reg = KerasRegressor(build_fn=build_regressor, epochs=20, verbose=0)
    neg = cross_val_score(reg, x, y, cv=3)
    assert (neg <= 0).all() and neg.mean() > -0.2


def test_namespace():
    assert tf.keras.wrappers.scikit_learn.KerasClassifier is KerasClassifier
    assert tf.keras.wrappers.scikit_learn.KerasRegressor is KerasRegressor
