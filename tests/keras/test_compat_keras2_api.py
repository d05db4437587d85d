"""tf.keras names TF2 programs use that dlframe lacked: the Keras 2 backend functions of
hand-written metrics (the StackOverflow F1 metric), F1Score/R2Score and operating-point
metrics, CategoricalFocalCrossentropy, 1-D depthwise/separable and 3-D layers,
``layers.Wrapper`` and ``tf.train.ExponentialMovingAverage``. Expected numbers were
printed by TensorFlow 2.21 for the same inputs."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
K = keras.backend
layers = keras.layers


def recall_m(y_true, y_pred):
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    possible_positives = K.sum(K.round(K.clip(y_true, 0, 1)))
    return true_positives / (possible_positives + K.epsilon())


def precision_m(y_true, y_pred):
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    predicted_positives = K.sum(K.round(K.clip(y_pred, 0, 1)))
    return true_positives / (predicted_positives + K.epsilon())


def f1_m(y_true, y_pred):
    precision, recall = precision_m(y_true, y_pred), recall_m(y_true, y_pred)
    return 2 * ((precision * recall) / (precision + recall + K.epsilon()))


def test_stackoverflow_f1_metric_in_compile():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["acc", f1_m, precision_m,
                                                          recall_m])
    hist = model.fit(x, y, epochs=3, verbose=0)
    assert sorted(hist.history) == ["acc", "f1_m", "loss", "precision_m", "recall_m"]
    assert all(0.0 <= v <= 1.0 for v in hist.history["f1_m"])


def test_backend_functions_match_keras():
    y_true = tf.constant([[1.0, 0, 1], [0, 1, 1]])
    y_pred = tf.constant([[0.9, 0.2, 0.4], [0.1, 0.8, 0.7]])
    np.testing.assert_allclose(K.binary_crossentropy(y_true, y_pred).numpy(),
                               [[0.105, 0.223, 0.916], [0.105, 0.223, 0.357]], atol=1e-3)
    np.testing.assert_allclose(K.categorical_crossentropy(y_true, y_pred).numpy(),
                               [1.833, 1.52], atol=1e-3)
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(
        tf.constant([0, 2]), y_pred).numpy(), [0.511, 0.827], atol=1e-3)
    np.testing.assert_allclose(K.std(y_true).numpy(), 0.4714045, rtol=1e-6)
    np.testing.assert_allclose(K.var(y_true, axis=0).numpy(), [0.25, 0.25, 0.0])
    # a rank-1 condition picks whole rows, as Keras 2's switch did
    np.testing.assert_allclose(K.switch(tf.constant([True, False]), y_true, y_pred),
                               [[1, 0, 1], [0.1, 0.8, 0.7]])
    assert K.batch_flatten(tf.ones((2, 3, 4))).shape == (2, 12)
    assert K.repeat(y_true, 2).shape == (2, 2, 3)
    assert K.repeat_elements(y_true, 2, 1).shape == (2, 6)
    assert K.permute_dimensions(tf.ones((2, 3, 4)), (2, 0, 1)).shape == (4, 2, 3)
    assert K.count_params(y_true) == 6 and K.eval(y_true).shape == (2, 3)
    assert K.in_top_k(y_pred, tf.constant([0, 2]), 1).numpy().tolist() == [True, False]
    np.testing.assert_array_equal(K.relu(tf.constant([-1.0, 2, 8]), max_value=6.0),
                                  [0, 2, 6])
    var = tf.Variable(1.0)
    K.moving_average_update(var, 3.0, 0.5)
    K.update_add(var, 1.0)
    assert float(var.numpy()) == 3.0
    assert float(K.foldl(lambda a, x: a + x, tf.constant([1.0, 2.0, 3.0]))) == 6.0


def test_f_scores_match_keras():
    rng = np.random.default_rng(0)
    y_true = np.eye(3)[rng.integers(0, 3, 20)].astype("float32")
    y_pred = rng.random((20, 3)).astype("float32")
    weights = rng.random(20).astype("float32")
    expected = {(None, None): [0.61945, 0.48266, 0.5045], (None, 0.5): [0.39022, 0.63961,
                                                                        0.45572],
                ("micro", None): 0.5432, ("micro", 0.5): 0.49565,
                ("macro", None): 0.53554, ("macro", 0.5): 0.49519,
                ("weighted", None): 0.53672, ("weighted", 0.5): 0.50552}
    for (average, threshold), value in expected.items():
        metric = keras.metrics.F1Score(average=average, threshold=threshold)
        metric.update_state(y_true, y_pred, sample_weight=weights)
        metric.update_state(y_true[:5], y_pred[:5])
        np.testing.assert_allclose(metric.result().numpy(), value, atol=1e-5)
    fbeta = keras.metrics.FBetaScore(beta=2.0, average="macro")
    fbeta.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(fbeta.result()), 0.45268, atol=1e-5)
    with pytest.raises(ValueError, match="average"):
        keras.metrics.F1Score(average="samples")


def test_r2_and_operating_point_metrics_match_keras():
    rng = np.random.default_rng(0)
    rng.integers(0, 3, 20), rng.random((20, 3)), rng.random(20)   # as in the TF run
    y = rng.normal(size=(30, 2)).astype("float32")
    p = y + 0.5 * rng.normal(size=(30, 2)).astype("float32")
    for aggregation, value in (("uniform_average", 0.76576),
                               ("variance_weighted_average", 0.74589),
                               (None, [0.69376, 0.75188])):
        metric = keras.metrics.R2Score(class_aggregation=aggregation)
        metric.update_state(y, p, sample_weight=rng.random(30))
        np.testing.assert_allclose(metric.result().numpy(), value, atol=1e-5)
    adjusted = keras.metrics.R2Score(num_regressors=2)
    adjusted.update_state(y[:, :1], p[:, :1])
    np.testing.assert_allclose(float(adjusted.result()), 0.71421, atol=1e-5)
    yb = (rng.random(50) > 0.5).astype("float32")
    pb = np.clip(yb * 0.3 + rng.random(50) * 0.7, 0, 1).astype("float32")
    cases = [(keras.metrics.SensitivityAtSpecificity, 0.5, 1.0, 0.96429),
             (keras.metrics.SpecificityAtSensitivity, 0.8, 0.47264, 0.5),
             (keras.metrics.PrecisionAtRecall, 0.7, 0.79283, 0.71053),
             (keras.metrics.RecallAtPrecision, 0.8, 0.574, 0.42857)]
    for cls, bound, weighted, coarse in cases:
        metric = cls(bound)
        metric.update_state(yb, pb, sample_weight=rng.random(50))
        np.testing.assert_allclose(float(metric.result()), weighted, atol=1e-5)
        metric = cls(bound, num_thresholds=7)
        metric.update_state(yb, pb)
        np.testing.assert_allclose(float(metric.result()), coarse, atol=1e-5)


def test_categorical_focal_crossentropy_matches_keras():
    rng = np.random.default_rng(0)
    y_true = np.eye(3)[rng.integers(0, 3, 6)].astype("float32")
    y_pred = rng.random((6, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.losses.categorical_focal_crossentropy(y_true, y_pred).numpy(),
        [0.03666, 0.08861, 0.05471, 0.0353, 0.4339, 0.08285], atol=1e-5)
    loss = keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0,
                                                     label_smoothing=0.1)
    np.testing.assert_allclose(float(loss(y_true, y_pred)), 0.38013, atol=1e-5)
    logits = keras.losses.CategoricalFocalCrossentropy(from_logits=True)
    np.testing.assert_allclose(float(logits(y_true, y_pred * 3)), 0.13932, atol=1e-5)
    assert keras.losses.get("categorical_focal_crossentropy") is \
        keras.losses.categorical_focal_crossentropy


def test_one_d_depthwise_and_separable_match_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 3)).astype("float32")
    cases = [  # drawn in this order from one generator, as in the TF run
        (layers.DepthwiseConv1D, {"kernel_size": 3}, (2, 7, 3),
         [-1.154, -0.1968, -1.4466, 0.8289], -3.047),
        (layers.DepthwiseConv1D, {"kernel_size": 3, "strides": 2, "padding": "same",
                                  "depth_multiplier": 2}, (2, 5, 6),
         [-1.1463, 0.7628, 0.2395, 1.8082], 27.91),
        (layers.DepthwiseConv1D, {"kernel_size": 2, "dilation_rate": 2}, (2, 7, 3),
         [-0.8342, -0.5569, -2.3443, 1.0616], -23.318),
        (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3}, (2, 7, 4),
         [5.7206, 0.4628, 1.4762, -0.9073], 41.639),
        (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3, "strides": 2,
                                  "padding": "same", "depth_multiplier": 2}, (2, 5, 4),
         [-1.1135, -0.6257, 1.7905, 0.4694], 8.609),
        (layers.SeparableConv1D, {"filters": 2, "kernel_size": 3, "dilation_rate": 2},
         (2, 5, 2), [-1.437, -2.4461, 1.1681, -1.6269], 4.704),
    ]
    for cls, kwargs, shape, first, total in cases:
        layer = cls(**kwargs)
        layer.build(x.shape)
        layer.set_weights([rng.normal(size=w.shape).astype("float32")
                           for w in layer.weights])
        y = layer(x).numpy()
        assert y.shape == shape
        np.testing.assert_allclose(y.ravel()[:4], first, atol=1e-4)
        np.testing.assert_allclose(y.sum(), total, atol=2e-3)
    causal = layers.SeparableConv1D(2, 3, padding="causal", dilation_rate=2)
    assert causal(x).shape == (2, 9, 2)


def test_three_d_reshaping_layers_match_keras():
    x = np.arange(2 * 2 * 3 * 4 * 2, dtype="float32").reshape(2, 2, 3, 4, 2)
    cases = [(layers.UpSampling3D((1, 2, 3)), (2, 2, 6, 12, 2), 27360.0),
             (layers.ZeroPadding3D(((1, 0), 2, (0, 1))), (2, 3, 7, 5, 2), 4560.0),
             (layers.Cropping3D((0, (0, 1), 1)), (2, 2, 2, 2, 2), 1392.0),
             (layers.UpSampling3D(2, data_format="channels_first"), (2, 2, 6, 8, 4),
              36480.0),
             (layers.Cropping3D(((1, 0), (0, 1), 0), data_format="channels_first"),
              (2, 2, 2, 3, 2), 2424.0)]
    for layer, shape, total in cases:
        y = layer(x).numpy()
        assert y.shape == shape and float(y.sum()) == total
    dropped = layers.SpatialDropout3D(0.5)(np.ones((4, 2, 2, 2, 6), "float32"),
                                           training=True).numpy()
    assert set(np.unique(dropped).tolist()) <= {0.0, 2.0}
    assert all(len(np.unique(dropped[b, ..., c])) == 1 for b in range(4) for c in range(6))


def test_conv3d_transpose_matches_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4, 5, 2)).astype("float32")
    for kwargs, shape, total in (
            ({"filters": 3, "kernel_size": 2}, (2, 4, 5, 6, 3), -183.238),
            ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
             (2, 6, 8, 10, 2), 235.25)):
        layer = layers.Conv3DTranspose(**kwargs)
        layer.build(x.shape)
        layer.set_weights([rng.normal(size=w.shape).astype("float32")
                           for w in layer.weights])
        y = layer(x).numpy()
        assert y.shape == shape
        np.testing.assert_allclose(y.sum(), total, atol=2e-3)


def test_custom_wrapper_layer():
    class Scaled(layers.Wrapper):
        def __init__(self, layer, factor=2.0, **kwargs):
            super().__init__(layer, **kwargs)
            self.factor = factor

        def call(self, x):
            return self.layer(x) * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    inp = keras.Input((3,))
    model = keras.Model(inp, Scaled(layers.Dense(2))(inp))
    assert model.count_params() == 8
    assert isinstance(layers.TimeDistributed(layers.Dense(2)), layers.Wrapper)
    again = keras.Model.from_config(model.get_config(), custom_objects={"Scaled": Scaled})
    again.set_weights(model.get_weights())
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_exponential_moving_average_matches_tensorflow():
    ema = tf.train.ExponentialMovingAverage(decay=0.9)
    v, w = tf.Variable(1.0), tf.Variable([1.0, 2.0])
    ema.apply([v, w])
    v.assign(2.0)
    w.assign([3.0, 3.0])
    ema.apply([v, w])
    np.testing.assert_allclose(float(ema.average(v)), 1.1, rtol=1e-6)
    np.testing.assert_allclose(ema.average(w).numpy(), [1.2, 2.1], rtol=1e-6)
    step, x = tf.Variable(0), tf.Variable(0.0)
    with_steps = tf.train.ExponentialMovingAverage(0.99, num_updates=step)

    @tf.function
    def update():
        x.assign_add(1.0)
        step.assign_add(1)
        with_steps.apply([x])

    with_steps.apply([x])
    for _ in range(3):
        update()
    np.testing.assert_allclose(float(with_steps.average(x)), 2.6014, atol=1e-4)
