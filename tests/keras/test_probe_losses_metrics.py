"""Regressions found by probing Keras losses and metrics against TF 2.21 (helper K):
sample-weight rank rules, loss dtypes, Keras masks reaching losses and metrics,
``Sum``/``R2Score`` reductions and multi-output label routing."""

import numpy as np
import pytest

import dlframe as tf
from tests.helpers import check_grad

keras = tf.keras
L = keras.losses
M = keras.metrics
RNG = np.random.default_rng(11)


# ---------------------------------------------------------------- losses
def test_sample_weight_b1_with_reduction_none_keeps_column_shape():
    y = np.array([[1., 0.], [0., 1.], [1., 1.]], "float32")
    p = np.array([[.8, .3], [.4, .6], [.5, .9]], "float32")
    sw = np.array([[1.], [0.5], [0.]], "float32")
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)
    out = L.BinaryCrossentropy(reduction="none")(y, p, sample_weight=sw)
    assert tuple(out.shape) == (3, 1)    # Keras 3 (TF 2.21) keeps (B, 1)
    np.testing.assert_allclose(out.numpy()[:, 0], per * sw[:, 0], rtol=1e-5)
    flat = L.BinaryCrossentropy(reduction="none")(y, p, sample_weight=sw[:, 0])
    assert tuple(flat.shape) == (3,)
    total = L.BinaryCrossentropy(reduction="sum")(y, p, sample_weight=sw)
    np.testing.assert_allclose(float(total), (per * sw[:, 0]).sum(), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_loss_classes_compute_in_floatx_and_functions_keep_dtype(dtype):
    a = RNG.normal(size=(4, 3)).astype(dtype)
    b = RNG.normal(size=(4, 3)).astype(dtype)
    ref = ((a.astype("float64") - b) ** 2).mean()
    for loss in (L.MeanSquaredError(), L.Huber(), L.LogCosh()):
        value = loss(tf.constant(a), tf.constant(b))
        assert value.dtype == tf.float32, type(loss).__name__
    np.testing.assert_allclose(float(L.MeanSquaredError()(a, b)), ref, rtol=2e-3)
    assert L.mean_squared_error(tf.constant(a), tf.constant(b)).dtype.name == dtype
    explicit = L.MeanSquaredError(dtype="float64")(tf.constant(a), tf.constant(b))
    assert explicit.dtype == tf.float64


def test_masked_loss_call_weights_only_unmasked_steps_and_grad():
    """A prediction carrying a Keras mask (Masking/Embedding) is averaged over its
    unmasked steps, eagerly and under tf.function, with finite-difference grads."""
    keep = np.array([[True, True, False, False], [True, True, True, False]])
    y = RNG.normal(size=(2, 4, 1))

    def loss_of(pred, dtype=None):
        masked = tf.identity(pred)
        masked._keras_mask = tf.constant(keep)
        return L.MeanSquaredError(dtype=dtype)(y, masked)

    pred = RNG.normal(size=(2, 4, 1))
    ref = ((pred - y) ** 2)[..., 0][keep].mean()
    np.testing.assert_allclose(float(loss_of(tf.constant(pred))), ref, rtol=1e-5)
    np.testing.assert_allclose(float(tf.function(loss_of)(tf.constant(pred))), ref,
                               rtol=1e-5)
    check_grad(lambda p: loss_of(p, "float64"), [pred])


def _embedding_model():
    inp = keras.Input((5,), dtype="int32")
    e = keras.layers.Embedding(6, 4, mask_zero=True)(inp)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(e))


def test_embedding_mask_reaches_compiled_loss_and_metrics():
    keras.utils.set_random_seed(1)
    x = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0], [1, 1, 1, 1, 1], [2, 0, 0, 0, 0]],
                 "int32")
    y = np.array([[1, 0, 1, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]],
                 "int32")
    model = _embedding_model()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  optimizer="adam")
    res = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    keep = x != 0
    ce = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0])
    np.testing.assert_allclose(res["loss"], ce[keep].mean(), rtol=1e-5)
    hit = p.argmax(-1) == y
    np.testing.assert_allclose(res["accuracy"], hit[keep].mean(), rtol=1e-6)
    hist = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


def test_masking_layer_and_temporal_sample_weights_in_evaluate():
    keras.utils.set_random_seed(2)
    x = RNG.normal(size=(3, 4, 2)).astype("float32")
    x[0, 2:] = 0.0
    x[2, 1:] = 0.0
    y = RNG.normal(size=(3, 4, 1)).astype("float32")
    inp = keras.Input((4, 2))
    model = keras.Model(inp, keras.layers.Dense(1)(keras.layers.Masking(0.0)(inp)))
    model.compile(loss="mse", optimizer="sgd", metrics=["mae"])
    res = model.evaluate(x, y, verbose=0, return_dict=True)
    err = (model.predict(x, verbose=0) - y)[..., 0]
    keep = np.any(x != 0, -1)
    np.testing.assert_allclose(res["loss"], (err ** 2)[keep].mean(), rtol=1e-5)
    np.testing.assert_allclose(res["mae"], np.abs(err)[keep].mean(), rtol=1e-5)

    sw = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], "float32")
    plain = keras.Model(inp, keras.layers.Dense(1)(inp))
    plain.compile(loss="mse", optimizer="sgd", weighted_metrics=["mae"])
    res = plain.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    err = (plain.predict(x, verbose=0) - y)[..., 0]
    # loss: sum over batch size (all 12 steps); weighted metric: weighted mean
    np.testing.assert_allclose(res["loss"], (err ** 2 * sw).sum() / sw.size, rtol=1e-5)
    np.testing.assert_allclose(res["mae"], (np.abs(err) * sw).sum() / sw.sum(),
                               rtol=1e-5)


# ---------------------------------------------------------------- multi-output
def _two_output_model():
    inp = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inp)
    model = keras.Model(inp, [keras.layers.Dense(1, name="reg")(hidden),
                              keras.layers.Dense(3, activation="softmax",
                                                 name="cls")(hidden)])
    model.compile(optimizer="adam",
                  loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 2.0},
                  metrics={"cls": ["accuracy"], "reg": ["mae"]})
    return model


def test_dict_labels_route_by_output_name_with_loss_weights():
    """Labels keyed by output name reach their own output (the first-batch label
    check used to read the regression targets as class ids)."""
    x = RNG.normal(size=(64, 4)).astype("float32")
    y_reg = (x @ np.array([1., -2., .5, 3.], "float32"))[:, None] * 4
    y_cls = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")
    model = _two_output_model()
    res = model.evaluate(x, {"reg": y_reg, "cls": y_cls}, verbose=0, return_dict=True)
    assert sorted(res) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]
    np.testing.assert_allclose(res["loss"], 0.5 * res["reg_loss"] + 2 * res["cls_loss"],
                               rtol=1e-5)
    # the out-of-range label check is the CPU kernel's (TF's GPU kernel gives NaN)
    with tf.device("/CPU:0"):
        model = _two_output_model()
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 3"):
            model.evaluate(x, {"reg": y_reg, "cls": y_cls + 1}, verbose=0)


# ---------------------------------------------------------------- metrics
def test_sum_metric_sums_every_entry():
    m = M.Sum()
    m.update_state([[1., 2.], [3., 4.]])
    assert float(m.result()) == 10.0    # TF 2.21 gives 10.0
    m.update_state([[1., 1.], [1., 1.]], sample_weight=[2., 0.])
    assert float(m.result()) == 14.0
    mean = M.Mean()
    mean.update_state([[1., 2.], [3., 4.]])
    assert float(mean.result()) == 2.5


def test_masked_prediction_weights_metric_wrapper():
    y = np.array([[1., 2., 3.], [4., 5., 6.]], "float32")
    p = tf.constant(np.array([[1., 0., 0.], [4., 5., 0.]], "float32"))
    p._keras_mask = tf.constant([[True, True, False], [True, False, False]])
    m = M.MeanMetricWrapper(lambda a, b: tf.abs(a - b), name="abs_err")
    m.update_state(y, p, sample_weight=np.array([1., 3.], "float32"))
    # weights: mask * sample_weight -> [[1, 1, 0], [3, 0, 0]]; errors [[0, 2, .], [0]]
    np.testing.assert_allclose(float(m.result()), 2.0 / 5.0, rtol=1e-6)


def test_adjusted_r2_counts_every_entry_as_a_sample():
    y = RNG.integers(0, 2, (12, 4)).astype("float32")
    p = RNG.uniform(size=(12, 4)).astype("float32")
    ss_res = ((y - p) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    r2 = (1 - ss_res / ss_tot).mean()
    n = y.size    # Keras counts size(y_true), not the batch
    m = M.R2Score(num_regressors=1)
    m.update_state(y, p)
    np.testing.assert_allclose(float(m.result()), 1 - (1 - r2) * (n - 1) / (n - 2),
                               rtol=1e-5)
    y2, p2 = RNG.normal(size=(2, 2)), RNG.normal(size=(2, 2))
    few = M.R2Score(num_regressors=5)   # p >= n - 1: the plain R2 (as Keras)
    few.update_state(y2, p2)
    plain = M.R2Score()
    plain.update_state(y2, p2)
    np.testing.assert_allclose(float(few.result()), float(plain.result()), rtol=1e-6)


def test_metrics_in_compiled_custom_loop_match_eager():
    x = RNG.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((5,)),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    loss_fn = L.BinaryCrossentropy(from_logits=True)
    acc = M.BinaryAccuracy(threshold=0.0)
    auc = M.AUC(from_logits=True)
    opt = keras.optimizers.Adam(0.1)

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def measure(xb, yb):
        logits = model(xb)
        acc.update_state(yb, logits)
        auc.update_state(yb, logits)

    for _ in range(10):
        for s in range(0, 64, 16):
            step(x[s:s + 16], y[s:s + 16])
    measure(x, y)
    compiled = float(acc.result()), float(auc.result())
    acc.reset_state()
    auc.reset_state()
    logits = model(x)
    acc.update_state(y, logits)
    auc.update_state(y, logits)
    assert compiled == (float(acc.result()), float(auc.result()))
    assert compiled[0] == ((logits.numpy() > 0) == y).mean()
    assert compiled[0] > 0.85


def test_masked_metric_and_loss_and_deleting_the_mask():
    """A masked (B, T, 1) output weighs only unmasked steps in metrics and losses;
    ``del t._keras_mask`` (TF's Transformer tutorial) removes the mask."""
    y = np.array([[1., 2., 3.], [4., 5., 6.]], "float32")
    p = tf.constant(np.zeros((2, 3, 1), "float32"))
    p._keras_mask = tf.constant([[True, False, False], [True, True, False]])
    metric = M.MeanAbsoluteError()
    metric.update_state(y[..., None], p)
    np.testing.assert_allclose(float(metric.result()), (1 + 4 + 5) / 3, rtol=1e-6)
    np.testing.assert_allclose(float(L.MeanAbsoluteError()(y[..., None], p)),
                               (1 + 4 + 5) / 3, rtol=1e-6)
    del p._keras_mask
    assert p._keras_mask is None
    metric.reset_state()
    metric.update_state(y[..., None], p)
    np.testing.assert_allclose(float(metric.result()), y.mean(), rtol=1e-6)
