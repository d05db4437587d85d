"""tf.estimator.Estimator with custom model_fns: train/evaluate/predict, checkpoint
resume, compat.v1 optimizers/metrics/losses, Keras optimizers, errors."""

import os

import numpy as np
import pytest

import dlframe as tf
from tests.estimator.conftest import NAMES, make_input_fn


def iris_model_fn(features, labels, mode, params):
    """The TF 'Creating custom Estimators' guide's model_fn."""
    net = tf.keras.layers.DenseFeatures(params["feature_columns"])(features)
    for units in params["hidden_units"]:
        net = tf.keras.layers.Dense(units, activation="relu")(net)
    logits = tf.keras.layers.Dense(params["n_classes"])(net)
    predicted = tf.argmax(logits, 1)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={
            "class_ids": predicted[:, tf.newaxis],
            "probabilities": tf.nn.softmax(logits), "logits": logits})
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels=labels,
                                                            logits=logits)
    accuracy = tf.compat.v1.metrics.accuracy(labels=labels, predictions=predicted,
                                             name="acc_op")
    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          eval_metric_ops={"accuracy": accuracy})
    optimizer = tf.compat.v1.train.AdagradOptimizer(learning_rate=0.1)
    train_op = optimizer.minimize(loss,
                                  global_step=tf.compat.v1.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def _params(columns):
    return {"feature_columns": columns, "hidden_units": [10, 10], "n_classes": 3}


def test_mode_keys():
    assert (tf.estimator.ModeKeys.TRAIN, tf.estimator.ModeKeys.EVAL,
            tf.estimator.ModeKeys.PREDICT) == ("train", "eval", "infer")


def test_custom_model_fn_learns_and_predicts(tmp_path, iris, columns):
    x, y = iris
    est = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path),
                                 params=_params(columns))
    assert est.latest_checkpoint() is None
    est.train(make_input_fn(x, y), steps=200)
    assert est.latest_checkpoint() == os.path.join(str(tmp_path), "model.ckpt-200")
    result = est.evaluate(make_input_fn(x, y, training=False))
    assert set(result) == {"accuracy", "loss", "global_step"}
    assert result["global_step"] == 200 and result["accuracy"] > 0.9
    preds = list(est.predict(make_input_fn(x, y, training=False)))
    assert len(preds) == len(y)
    assert set(preds[0]) == {"class_ids", "probabilities", "logits"}
    ids = np.array([p["class_ids"][0] for p in preds])
    probs = np.stack([p["probabilities"] for p in preds])
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(ids, probs.argmax(1))
    # the streaming accuracy equals accuracy recomputed from the predictions
    np.testing.assert_allclose(result["accuracy"], np.mean(ids == y), rtol=1e-6)
    # and 'loss' is the mean of the per-batch losses (batches of 32, the last of 12)
    logits = np.stack([p["logits"] for p in preds]).astype(np.float64)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per = -logp[np.arange(len(y)), y]
    batches = [per[i:i + 32].mean() for i in range(0, len(y), 32)]
    np.testing.assert_allclose(result["loss"], np.mean(batches), rtol=1e-4)
    one = list(est.predict(make_input_fn(x, y, training=False),
                           predict_keys=["class_ids"], yield_single_examples=False))
    assert set(one[0]) == {"class_ids"} and one[0]["class_ids"].shape == (32, 1)


def test_checkpoint_resume_in_new_estimator(tmp_path, iris, columns):
    x, y = iris
    est = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path),
                                 params=_params(columns))
    est.train(make_input_fn(x, y), steps=10)
    names = est.get_variable_names()
    assert {"global_step", "dense/kernel", "dense/bias", "dense_2/kernel"} <= set(names)
    assert not any("acc_op" in n for n in names)   # metric state is not saved
    kernel = est.get_variable_value("dense/kernel")
    assert est.get_variable_value("global_step") == 10
    # a new Estimator on the same directory restores, then continues at 10
    est2 = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path),
                                  params=_params(columns))
    first = next(iter(est.predict(make_input_fn(x, y, training=False))))
    second = next(iter(est2.predict(make_input_fn(x, y, training=False))))
    np.testing.assert_array_equal(first["logits"], second["logits"])
    assert est2.evaluate(make_input_fn(x, y, False), steps=1)["global_step"] == 10
    est2.train(make_input_fn(x, y), steps=5)
    assert est2.get_variable_value("global_step") == 15
    assert not np.array_equal(est2.get_variable_value("dense/kernel"), kernel)
    # max_steps counts the global step: 15 already reached 12, so nothing happens
    est2.train(make_input_fn(x, y), max_steps=12)
    assert est2.get_variable_value("global_step") == 15
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == \
        ["model.ckpt-10", "model.ckpt-15"]
    assert tf.train.load_variable(str(tmp_path), "global_step") == 15


def test_checkpoints_steps_and_keep_max(tmp_path, iris, columns):
    from dlframe.ops import random_kernels
    x, y = iris
    seed_before = random_kernels._SEEDS.global_seed
    config = tf.estimator.RunConfig(save_checkpoints_steps=2, keep_checkpoint_max=2,
                                    tf_random_seed=3)
    est = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path),
                                 config=config, params=_params(columns))
    est.train(make_input_fn(x, y), steps=7)
    kept = sorted(f for f in os.listdir(tmp_path) if f.endswith(".index"))
    assert kept == ["model.ckpt-6.index", "model.ckpt-7.index"]
    # tf_random_seed makes runs repeatable and does not leak into the global seed
    assert random_kernels._SEEDS.global_seed == seed_before
    again = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path / "again"),
                                   config=config, params=_params(columns))
    again.train(make_input_fn(x, y), steps=7)
    np.testing.assert_array_equal(again.get_variable_value("dense/kernel"),
                                  est.get_variable_value("dense/kernel"))


def _linear_model_fn(features, labels, mode):
    w = tf.Variable(tf.zeros([1]), name="w")
    b = tf.Variable(0.0, name="b")
    pred = features["x"] * w + b
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=pred)
    loss = tf.reduce_mean(tf.square(pred - labels))
    opt = tf.compat.v1.train.GradientDescentOptimizer(0.1)
    return tf.estimator.EstimatorSpec(
        mode, loss=loss, train_op=opt.minimize(
            loss, global_step=tf.compat.v1.train.get_or_create_global_step()),
        eval_metric_ops={"mse": tf.compat.v1.metrics.mean_squared_error(labels, pred)})


def test_raw_variables_are_reused_and_gradient_step_is_exact(tmp_path):
    x = np.array([1.0, 2.0, 3.0], np.float32)
    y = 2.0 * x + 1.0
    est = tf.estimator.Estimator(_linear_model_fn, model_dir=str(tmp_path))

    def input_fn():
        return {"x": tf.constant(x)}, tf.constant(y)
    est.train(input_fn, steps=1)
    # one plain gradient step from zeros: d/dw mean((w x + b - y)^2) = -2 mean(x y)
    np.testing.assert_allclose(est.get_variable_value("w"), [0.1 * 2 * np.mean(x * y)],
                               rtol=1e-5)
    np.testing.assert_allclose(est.get_variable_value("b"), 0.1 * 2 * np.mean(y),
                               rtol=1e-5)
    est.train(input_fn, steps=300)
    np.testing.assert_allclose(est.get_variable_value("w"), [2.0], atol=0.05)
    preds = list(est.predict(input_fn))
    np.testing.assert_allclose(np.ravel(preds), y, atol=0.1)
    assert est.evaluate(input_fn)["mse"] < 0.01


def test_keras_optimizer_get_updates_and_keras_metric(tmp_path, iris):
    x, y = iris

    def model_fn(features, labels, mode):
        inputs = tf.stack([features[k] for k in NAMES], axis=1)
        logits = tf.keras.layers.Dense(3, name="out")(inputs)
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True))
        if mode == tf.estimator.ModeKeys.EVAL:
            metric = tf.keras.metrics.SparseCategoricalAccuracy(name="acc")
            metric.update_state(labels, logits)
            return tf.estimator.EstimatorSpec(mode, loss=loss,
                                              eval_metric_ops={"acc": metric})
        optimizer = tf.keras.optimizers.Adam(0.05)
        optimizer.iterations = tf.compat.v1.train.get_or_create_global_step()
        train_op = optimizer.get_updates(loss, tf.compat.v1.trainable_variables())[0]
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path))
    est.train(make_input_fn(x, y), steps=150)
    assert est.get_variable_value("global_step") == 150   # adopted by the optimizer
    result = est.evaluate(make_input_fn(x, y, training=False))
    assert result["acc"] > 0.9
    # metric state restarts per evaluate: a second run gives the same value
    assert est.evaluate(make_input_fn(x, y, training=False))["acc"] == result["acc"]


def test_tf_gradients_in_model_fn(tmp_path):
    def model_fn(features, labels, mode):
        w = tf.Variable(3.0, name="w")
        loss = tf.square(w * features - labels)[0]
        (grad,) = tf.gradients(loss, [w])
        step = tf.compat.v1.train.get_global_step()
        return tf.estimator.EstimatorSpec(mode, loss=loss,
                                          train_op=[w.assign_sub(0.1 * grad),
                                                    step.assign_add(1)])
    est = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path))
    est.train(lambda: (tf.constant([1.0]), tf.constant([1.0])), steps=1)
    np.testing.assert_allclose(est.get_variable_value("w"), 3.0 - 0.1 * 4.0, rtol=1e-6)


def test_compat_v1_pieces_outside_estimator():
    with pytest.raises(RuntimeError, match="not supported when eager"):
        tf.compat.v1.metrics.accuracy([1], [1])
    with pytest.raises(RuntimeError, match="should be a function"):
        tf.compat.v1.train.AdamOptimizer().minimize(tf.constant(1.0),
                                                    var_list=[tf.Variable(1.0)])
    v = tf.Variable(2.0)
    opt = tf.compat.v1.train.GradientDescentOptimizer(0.5)
    opt.minimize(lambda: v * v, var_list=[v])
    np.testing.assert_allclose(v.numpy(), 2.0 - 0.5 * 4.0)
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(
        [0, 1], tf.constant([[2.0, 0.0], [0.0, 1.0]]), weights=[1.0, 0.0])
    np.testing.assert_allclose(loss.numpy(), np.log1p(np.exp(-2.0)), rtol=1e-6)
    with pytest.raises(TypeError, match="missing required"):
        tf.compat.v1.train.MomentumOptimizer(0.1)


def test_variable_creator_scope():
    seen = []

    def creator(next_creator, **kwargs):
        seen.append(kwargs["name"])
        kwargs["trainable"] = False
        return next_creator(**kwargs)
    with tf.variable_creator_scope(creator):
        v = tf.Variable(1.0, name="a")
    assert seen == ["a"] and not v.trainable
    assert tf.Variable(1.0).trainable


# -- bad input ---------------------------------------------------------------------
def test_model_fn_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="must include features"):
        tf.estimator.Estimator(lambda x, labels: None)
    with pytest.raises(ValueError, match="not expected args"):
        tf.estimator.Estimator(lambda features, labels, extra: None)
    with pytest.raises(ValueError, match="does not include params"):
        tf.estimator.Estimator(lambda features, labels: None, params={"a": 1})
    with pytest.raises(ValueError, match="different values"):
        tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path / "a"),
                               config=tf.estimator.RunConfig(model_dir=str(tmp_path)))


def test_missing_loss_and_bad_spec(tmp_path):
    def no_loss(features, labels, mode):
        return tf.estimator.EstimatorSpec(mode, predictions=features)

    est = tf.estimator.Estimator(no_loss, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Missing loss"):
        est.train(lambda: (tf.ones([2, 1]), tf.ones([2])), steps=1)
    with pytest.raises(ValueError, match="Missing train_op"):
        tf.estimator.EstimatorSpec("train", loss=tf.constant(1.0))
    with pytest.raises(ValueError, match="Missing predictions"):
        tf.estimator.EstimatorSpec("infer")
    with pytest.raises(ValueError, match="mode must be one of"):
        tf.estimator.EstimatorSpec("training", loss=tf.constant(1.0))
    with pytest.raises(ValueError, match="Loss must be scalar"):
        tf.estimator.EstimatorSpec("eval", loss=tf.ones([3]))
    with pytest.raises(TypeError, match="eval_metric_ops"):
        tf.estimator.EstimatorSpec("eval", loss=tf.constant(1.0),
                                   eval_metric_ops={"m": 3.0})

    def not_a_spec(features, labels):
        return {"loss": 1.0}
    est = tf.estimator.Estimator(not_a_spec, model_dir=str(tmp_path / "b"))
    with pytest.raises(ValueError, match="should return an EstimatorSpec"):
        est.train(lambda: (tf.ones([2, 1]), tf.ones([2])), steps=1)


def test_input_fn_errors(tmp_path, iris, columns):
    est = tf.estimator.Estimator(iris_model_fn, model_dir=str(tmp_path),
                                 params=_params(columns))
    with pytest.raises(ValueError, match="len 2 tuple"):
        est.train(lambda: (1, 2, 3), steps=1)
    with pytest.raises(ValueError, match="features as a Tensor or a dict"):
        est.train(lambda: ("not features", None), steps=1)
    with pytest.raises(TypeError, match="input_fn must be callable"):
        est.train(42, steps=1)
    with pytest.raises(ValueError, match="train forever"):
        est.train(lambda: ({"a": tf.ones([1])}, tf.ones([1])))
    with pytest.raises(ValueError, match="both steps and max_steps"):
        est.train(lambda: None, steps=1, max_steps=2)
    with pytest.raises(ValueError, match="steps > 0"):
        est.train(lambda: None, steps=0)
    with pytest.raises(ValueError, match="steps > 0"):
        est.evaluate(lambda: None, steps=-1)


def test_input_fn_receives_params_mode_config(tmp_path):
    seen = {}

    def input_fn(params, mode, config):
        seen.update(params=params, mode=mode, model_dir=config.model_dir)
        return {"x": tf.ones([2])}, tf.ones([2])

    def model_fn(features, labels, mode, params):
        w = tf.Variable(1.0, name="w")
        loss = tf.reduce_mean(tf.square(features["x"] * w - labels))
        return tf.estimator.EstimatorSpec(mode, loss=loss)

    est = tf.estimator.Estimator(model_fn, model_dir=str(tmp_path), params={"k": 1})
    est.evaluate(input_fn, steps=1)
    assert seen == {"params": {"k": 1}, "mode": "eval", "model_dir": str(tmp_path)}


def test_hooks_stop_and_listeners(tmp_path):
    calls = []

    class Listener(tf.estimator.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            calls.append(global_step_value)

    est = tf.estimator.Estimator(_linear_model_fn, model_dir=str(tmp_path))
    est.train(lambda: ({"x": tf.ones([2])}, tf.ones([2])), steps=50,
              hooks=[tf.estimator.StopAtStepHook(num_steps=4)],
              saving_listeners=[Listener()])
    assert est.get_variable_value("global_step") == 4 and calls == [4]
