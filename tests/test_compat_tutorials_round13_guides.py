"""Round-13 tutorial probes: the "Advanced automatic differentiation" guide, the
keras.io Grad-CAM example and the "Classification on imbalanced data" tutorial,
run unchanged on small synthetic data. Expected values marked "TF 2.21" were
printed by TensorFlow 2.21 running the same program."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras


# ---------------------------------------------------------------- autodiff guide
def test_watched_variables_are_listed_in_creation_order():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    c = tf.Variable(3.0, name="c")
    with tf.GradientTape() as tape:
        y = c * b * a
    # TF 2.21: ['a:0', 'b:0', 'c:0'] whatever order the variables are read in
    assert [v.name for v in tape.watched_variables()] == ["a:0", "b:0", "c:0"]
    grads = tape.gradient(y, tape.watched_variables())
    assert [float(g) for g in grads] == [6.0, 3.0, 2.0]
    frozen = tf.Variable(3.0, name="frozen", trainable=False)
    with tf.GradientTape() as tape:
        tape.watch(c)
        tape.watch(frozen)
        y = frozen * b * a
    assert [v.name for v in tape.watched_variables()] == ["a:0", "b:0", "c:0",
                                                          "frozen:0"]


def test_stop_recording_outside_the_tape_context_is_an_error():
    tape = tf.GradientTape()
    with tape:
        pass
    with pytest.raises(ValueError, match="not recording"), tape.stop_recording():
        pass   # TF 2.21: ValueError("Tape is not recording.")
    x = tf.Variable(2.0)
    y = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        x_sq = x * x
        with tape.stop_recording():
            y_sq = y * y
        z = x_sq + y_sq
    grad = tape.gradient(z, {"x": x, "y": y})
    assert float(grad["x"]) == 4.0 and grad["y"] is None


def test_guide_gradients_of_non_scalar_targets_and_unconnected_sources(caplog):
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y0 = x ** 2
        y1 = 1 / x
    assert float(tape.gradient({"y0": y0, "y1": y1}, x)) == pytest.approx(3.75)
    with tf.GradientTape() as tape:
        y = x * [3.0, 4.0]
    assert float(tape.gradient(y, x)) == 7.0
    a = tf.Variable([1.0, 2.0])
    b = tf.Variable([3.0, 4.0, 5.0])
    with tf.GradientTape(persistent=True) as tape:
        z = a * 2.0
    assert tape.jacobian(z, b) is None
    for use_pfor in (True, False):
        zero = tape.jacobian(z, b, unconnected_gradients="zero",
                             experimental_use_pfor=use_pfor)
        np.testing.assert_array_equal(zero.numpy(), np.zeros((2, 3), np.float32))
    integer = tf.constant(10)
    with tf.GradientTape() as tape:
        with caplog.at_level("WARNING"):   # TF logs it (no Python warning)
            tape.watch(integer)
        assert any("floating" in r.getMessage() for r in caplog.records)
        y = integer * integer
    assert tape.gradient(y, integer) is None


def test_guide_jacobians_hessians_and_batch_jacobian():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((7, 5)).astype(np.float32))
    layer1 = keras.layers.Dense(8, activation=tf.nn.elu)
    layer2 = keras.layers.Dense(6, activation=tf.nn.elu)
    with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = layer2(layer1(x))
    j = tape.jacobian(y, x)
    assert j.shape == (7, 6, 7, 5)
    assert float(tf.reduce_max(abs(j[2, :, 0, :]))) == 0.0   # rows are independent
    jb = tape.batch_jacobian(y, x)
    np.testing.assert_allclose(jb.numpy(), tf.einsum("bxby->bxy", j).numpy(), atol=1e-6)
    np.testing.assert_allclose(
        tape.batch_jacobian(y, x, experimental_use_pfor=False).numpy(), jb.numpy(),
        atol=1e-6)

    @tf.function
    def hessian(v):
        with tf.GradientTape() as outer:
            outer.watch(v)
            with tf.GradientTape() as inner:
                inner.watch(v)
                out = tf.reduce_sum(v ** 3) + v[0] * v[1]
            g = inner.gradient(out, v)
        return outer.jacobian(g, v)
    # d2/dv2 of sum(v^3) + v0 v1 = diag(6 v) + the v0 v1 cross terms
    np.testing.assert_allclose(hessian(tf.constant([1.0, 2.0, 3.0])).numpy(),
                               [[6, 1, 0], [1, 12, 0], [0, 0, 18]], atol=1e-5)


def test_guide_forward_accumulator_with_keras_layer_variables():
    x = tf.constant([[2.0, 3.0], [1.0, 4.0]])
    targets = tf.constant([[1.0], [-1.0]])
    dense = keras.layers.Dense(1)
    dense.build([None, 2])
    with tf.autodiff.ForwardAccumulator(primals=dense.kernel,
                                        tangents=tf.constant([[1.0], [0.0]])) as acc:
        loss = tf.reduce_sum((dense(x) - targets) ** 2.0)
    expect = np.sum(2 * (dense(x) - targets).numpy() * x.numpy()[:, :1])
    assert acc.jvp(loss).shape == ()
    assert float(acc.jvp(loss)) == pytest.approx(float(expect), rel=1e-5)

    primal = tf.constant([1.0, 2.0, 3.0])
    with tf.autodiff.ForwardAccumulator(primal, tf.constant([1.0, 0.0, 0.0])) as acc:
        with tf.GradientTape() as tape:
            tape.watch(primal)
            out = tf.reduce_prod(primal ** 3.0)
        backward = tape.gradient(out, primal)
    # Hessian-vector product, TF 2.21: [1296, 972, 648]
    np.testing.assert_allclose(acc.jvp(backward).numpy(), [1296.0, 972.0, 648.0],
                               rtol=1e-5)


# ---------------------------------------------------------------- Grad-CAM
def _make_gradcam_heatmap(img_array, model, last_conv_layer_name, pred_index=None):
    grad_model = keras.models.Model(
        model.inputs, [model.get_layer(last_conv_layer_name).output, model.output])
    with tf.GradientTape() as tape:
        last_conv_layer_output, preds = grad_model(img_array)
        if pred_index is None:
            pred_index = tf.argmax(preds[0])
        class_channel = preds[:, pred_index]
    grads = tape.gradient(class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap)
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return heatmap.numpy()


def _image():
    rng = np.random.default_rng(0)
    img = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    img[30:80, 50:110] = [250, 20, 20]
    return img


def test_gradcam_heatmap_of_a_small_cnn_matches_numpy():
    inp = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c1")(inp)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(5, activation="softmax", name="predictions")(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(1)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.3
                               for w in weights])
    model.layers[-1].activation = None
    img = _image()
    arr = img[np.linspace(0, 119, 32).astype(int)][:, np.linspace(0, 159, 32).astype(int)]
    arr = arr[None].astype("float32") / 255.0
    heatmap = _make_gradcam_heatmap(arr, model, "last_conv")
    assert heatmap.shape == (13, 13) and heatmap.dtype == np.float32
    # TF 2.21, first row
    np.testing.assert_allclose(heatmap[0, :6], [0.563, 0.32, 0.207, 0.308, 0.171, 0.085],
                               atol=1e-3)
    # NumPy: GAP -> Dense makes the pooled gradient kernel[:, c] / (13 * 13)
    conv = keras.Model(model.inputs, model.get_layer("last_conv").output)(arr).numpy()[0]
    kernel = model.get_layer("predictions").get_weights()[0]
    for c in range(5):
        expect = conv @ (kernel[:, c] / 169.0)
        expect = np.maximum(expect, 0) / expect.max()
        got = _make_gradcam_heatmap(arr, model, "last_conv", pred_index=c)
        np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-6)


def test_gradcam_on_xception_without_weights():
    keras.utils.set_random_seed(0)
    model = keras.applications.xception.Xception(weights=None, input_shape=(71, 71, 3))
    last = model.get_layer("block14_sepconv2_act")
    assert tuple(last.output.shape) == (None, 3, 3, 2048)
    assert tuple(model.output.shape) == (None, 1000)
    model.layers[-1].activation = None
    img = keras.applications.xception.preprocess_input(
        np.random.default_rng(0).uniform(0, 255, (1, 71, 71, 3)).astype("float32"))
    assert img.min() >= -1.0 and img.max() <= 1.0
    heatmap = _make_gradcam_heatmap(img, model, "block14_sepconv2_act")
    assert heatmap.shape == (3, 3)
    assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0)


def test_gradcam_image_utils_round_trip(tmp_path):
    pil_image = pytest.importorskip("PIL.Image")
    img = _image()
    pil_image.fromarray(img).save(tmp_path / "in.png")
    loaded = keras.utils.load_img(str(tmp_path / "in.png"))
    assert loaded.size == (160, 120) and loaded.mode == "RGB"
    arr = keras.utils.img_to_array(loaded)
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, img.astype(np.float32))
    small = keras.utils.load_img(str(tmp_path / "in.png"), target_size=(10, 12))
    assert small.size == (12, 10)
    heat = np.uint8(255 * np.linspace(0, 1, 12 * 10).reshape(10, 12))
    colors = np.stack([np.linspace(0, 1, 256), np.linspace(1, 0, 256),
                       np.full(256, 0.5)], 1)
    jet = keras.utils.array_to_img(colors[heat])
    assert jet.size == (12, 10) and jet.mode == "RGB"
    jet = keras.utils.img_to_array(jet.resize((img.shape[1], img.shape[0])))
    superimposed = keras.utils.array_to_img(jet * 0.4 + arr)
    superimposed.save(tmp_path / "cam.png")
    back = keras.utils.img_to_array(keras.utils.load_img(str(tmp_path / "cam.png")))
    assert back.shape == (120, 160, 3)
    with pytest.raises(ValueError):
        keras.utils.array_to_img(np.zeros((4, 4)))


# ---------------------------------------------------------------- imbalanced data
def test_imbalanced_metrics_values():
    y_true = [0, 0, 1, 1, 1, 0]
    y_pred = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2]
    prc = keras.metrics.AUC(name="prc", curve="PR")
    prc.update_state(y_true, y_pred)
    roc = keras.metrics.AUC(name="auc")
    roc.update_state(y_true, y_pred)
    precision = keras.metrics.Precision(thresholds=[0.3, 0.5])
    precision.update_state(y_true, y_pred)
    tp = keras.metrics.TruePositives()
    tp.update_state([0, 1, 1], [0.6, 0.7, 0.2], sample_weight=[1.0, 2.0, 3.0])
    # TF 2.21
    assert float(prc.result()) == pytest.approx(0.9041, abs=1e-4)
    assert float(roc.result()) == pytest.approx(0.8889, abs=1e-4)
    np.testing.assert_allclose(precision.result().numpy(), [0.75, 1.0])
    assert float(tp.result()) == 2.0 and tp.result().dtype == tf.float32
    cm = tf.math.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=4,
                                  weights=[1.0, 2.0, 3.0, 4.0], dtype=tf.float32)
    np.testing.assert_array_equal(cm.numpy(), [[1, 0, 0, 0], [0, 2, 3, 0], [0, 0, 4, 0],
                                               [0, 0, 0, 0]])


def _imbalanced_data():
    rng = np.random.default_rng(0)
    labels = (rng.random(3000) < 0.08).astype(np.int64)
    features = rng.standard_normal((3000, 6)).astype(np.float32)
    features[labels == 1, :3] += 1.7
    return features, labels


def _make_model(output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(6,)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.TruePositives(name="tp"),
                           keras.metrics.FalseNegatives(name="fn"),
                           keras.metrics.Recall(name="recall"),
                           keras.metrics.AUC(name="prc", curve="PR")])
    return model


def test_imbalanced_initial_bias_checkpoint_class_weight_and_oversampling(tmp_path):
    features, labels = _imbalanced_data()
    train_x, val_x = features[:2400], features[2400:]
    train_y, val_y = labels[:2400], labels[2400:]
    neg, pos = np.bincount(train_y)
    initial_bias = np.log([pos / neg])
    keras.utils.set_random_seed(0)
    model = _make_model(output_bias=initial_bias)
    np.testing.assert_allclose(model.layers[-1].bias.numpy(), initial_bias, rtol=1e-6)
    mean_prediction = float(np.mean(model.predict(train_x, verbose=0)))
    assert abs(mean_prediction - pos / (pos + neg)) < 0.04
    weights_path = str(tmp_path / "initial.weights.h5")
    model.save_weights(weights_path)
    fresh = _make_model()
    fresh.load_weights(weights_path)
    np.testing.assert_allclose(fresh.layers[-1].bias.numpy(), initial_bias, rtol=1e-6)

    total = neg + pos
    class_weight = {0: total / (2.0 * neg), 1: total / (2.0 * pos)}
    early = keras.callbacks.EarlyStopping(monitor="val_prc", mode="max", patience=3,
                                          restore_best_weights=True)
    history = fresh.fit(train_x, train_y, batch_size=256, epochs=12,
                        validation_data=(val_x, val_y), class_weight=class_weight,
                        callbacks=[early], verbose=0)
    assert sorted(history.history) == ["fn", "loss", "prc", "recall", "tp", "val_fn",
                                       "val_loss", "val_prc", "val_recall", "val_tp"]
    result = fresh.evaluate(val_x, val_y, batch_size=256, verbose=0, return_dict=True)
    assert result["tp"] + result["fn"] == val_y.sum()
    assert result["recall"] > 0.6   # class weights push recall up
    assert result["prc"] == pytest.approx(max(history.history["val_prc"]), abs=1e-4)

    bool_labels = train_y != 0
    pos_ds = tf.data.Dataset.from_tensor_slices(
        (train_x[bool_labels], train_y[bool_labels])).shuffle(100000).repeat()
    neg_ds = tf.data.Dataset.from_tensor_slices(
        (train_x[~bool_labels], train_y[~bool_labels])).shuffle(100000).repeat()
    resampled = tf.data.Dataset.sample_from_datasets([pos_ds, neg_ds],
                                                     weights=[0.5, 0.5], seed=0)
    resampled = resampled.batch(256).prefetch(2)
    _, batch_labels = next(iter(resampled))
    assert abs(float(np.mean(batch_labels.numpy())) - 0.5) < 0.15
    resampled_model = _make_model()
    resampled_model.load_weights(weights_path)
    resampled_model.layers[-1].bias.assign([0])
    val_ds = tf.data.Dataset.from_tensor_slices((val_x, val_y)).cache().batch(256)
    history = resampled_model.fit(resampled, epochs=3, steps_per_epoch=10,
                                  validation_data=val_ds, verbose=0)
    assert len(history.history["loss"]) == 3
    predictions = resampled_model.predict(val_x, batch_size=256, verbose=0)
    cm = tf.math.confusion_matrix(val_y, predictions[:, 0] > 0.5)
    assert cm.dtype == tf.int32 and cm.shape == (2, 2)
    assert int(tf.reduce_sum(cm)) == len(val_y)
    assert int(cm[1, 1]) > int(cm[1, 0])   # oversampling finds most positives
