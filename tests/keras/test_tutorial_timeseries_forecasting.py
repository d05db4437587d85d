"""The TF tutorial "Time series forecasting", run unchanged on a synthetic weather
table: the WindowGenerator class (``timeseries_dataset_from_array``, ``tf.stack`` of
label columns, ``set_shape``), baselines, Dense/Conv1D/LSTM models, a residual
wrapper and the autoregressive FeedBack model (LSTMCell + RNN(return_state=True) and
a Python loop over ``tf.stack`` + ``tf.transpose``)."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
COLUMNS = ["p (mbar)", "T (degC)", "rh (%)", "wv (m/s)"]
NUM_FEATURES = len(COLUMNS)


def _table(n=600):
    t = np.arange(n)
    rng = np.random.RandomState(0)
    data = np.stack([1000 + np.sin(t / 50) * 5 + rng.randn(n) * 0.1,
                     10 + np.sin(t / 24 * 2 * np.pi) * 5 + rng.randn(n) * 0.2,
                     60 + np.cos(t / 24 * 2 * np.pi) * 10 + rng.randn(n),
                     np.abs(rng.randn(n)) * 2], 1).astype(np.float32)
    train, val = data[:int(n * 0.7)], data[int(n * 0.7):int(n * 0.9)]
    mean, std = train.mean(0), train.std(0)
    return (train - mean) / std, (val - mean) / std


TRAIN, VAL = _table()


class WindowGenerator:
    def __init__(self, input_width, label_width, shift, label_columns=None):
        self.train_df, self.val_df = TRAIN, VAL
        self.label_columns = label_columns
        self.column_indices = {name: i for i, name in enumerate(COLUMNS)}
        self.input_width, self.label_width, self.shift = input_width, label_width, shift
        self.total_window_size = input_width + shift
        self.input_slice = slice(0, input_width)
        self.label_start = self.total_window_size - self.label_width
        self.labels_slice = slice(self.label_start, None)

    def split_window(self, features):
        inputs = features[:, self.input_slice, :]
        labels = features[:, self.labels_slice, :]
        if self.label_columns is not None:
            labels = tf.stack([labels[:, :, self.column_indices[name]]
                               for name in self.label_columns], axis=-1)
        inputs.set_shape([None, self.input_width, None])
        labels.set_shape([None, self.label_width, None])
        return inputs, labels

    def make_dataset(self, data):
        data = np.array(data, dtype=np.float32)
        ds = keras.utils.timeseries_dataset_from_array(
            data=data, targets=None, sequence_length=self.total_window_size,
            sequence_stride=1, shuffle=True, batch_size=32)
        return ds.map(self.split_window)

    @property
    def train(self):
        return self.make_dataset(self.train_df)

    @property
    def val(self):
        return self.make_dataset(self.val_df)

    @property
    def example(self):
        result = getattr(self, "_example", None)
        if result is None:
            result = self._example = next(iter(self.train))
        return result


def compile_and_fit(model, window, epochs=6, patience=2):
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                   mode="min")
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer=keras.optimizers.Adam(),
                  metrics=[keras.metrics.MeanAbsoluteError()])
    return model.fit(window.train, epochs=epochs, validation_data=window.val,
                     callbacks=[early_stopping], verbose=0)


def test_split_window_stacks_label_columns_and_sets_shapes():
    w2 = WindowGenerator(input_width=6, label_width=1, shift=1, label_columns=["T (degC)"])
    example_window = tf.stack([np.array(TRAIN[:7]), np.array(TRAIN[100:107]),
                               np.array(TRAIN[200:207])])
    inputs, labels = w2.split_window(example_window)
    assert example_window.shape == (3, 7, 4)
    assert inputs.shape == (3, 6, 4) and labels.shape == (3, 1, 1)
    np.testing.assert_array_equal(labels.numpy()[1, 0, 0], TRAIN[106, 1])
    x_spec, y_spec = w2.train.element_spec
    assert x_spec.shape.as_list() in ([None, 6, 4], [None, 6, None])
    assert y_spec.shape.as_list() in ([None, 1, 1], [None, 1, None])
    with pytest.raises(ValueError):
        inputs.set_shape([None, 5, None])


def test_baseline_and_single_step_models():
    tf.keras.utils.set_random_seed(0)
    single = WindowGenerator(input_width=1, label_width=1, shift=1,
                             label_columns=["T (degC)"])
    wide = WindowGenerator(input_width=24, label_width=24, shift=1,
                           label_columns=["T (degC)"])

    class Baseline(keras.Model):
        def __init__(self, label_index=None):
            super().__init__()
            self.label_index = label_index

        def call(self, inputs):
            if self.label_index is None:
                return inputs
            return inputs[:, :, self.label_index][:, :, tf.newaxis]

    baseline = Baseline(label_index=1)
    baseline.compile(loss=keras.losses.MeanSquaredError(),
                     metrics=[keras.metrics.MeanAbsoluteError()])
    base = baseline.evaluate(single.val, return_dict=True, verbose=0)
    assert sorted(base) == ["loss", "mean_absolute_error"]
    assert baseline(wide.example[0]).shape == (32, 24, 1)

    conv_window = WindowGenerator(input_width=3, label_width=1, shift=1,
                                  label_columns=["T (degC)"])
    conv_model = keras.Sequential([
        keras.layers.Conv1D(filters=16, kernel_size=(3,), activation="relu"),
        keras.layers.Dense(units=16, activation="relu"),
        keras.layers.Dense(units=1)])
    assert conv_model(conv_window.example[0]).shape == (32, 1, 1)
    history = compile_and_fit(conv_model, conv_window)
    assert sorted(history.history) == ["loss", "mean_absolute_error", "val_loss",
                                       "val_mean_absolute_error"]
    assert conv_model(wide.example[0]).shape == (32, 22, 1)

    lstm_model = keras.Sequential([keras.layers.LSTM(16, return_sequences=True),
                                   keras.layers.Dense(units=1)])
    history = compile_and_fit(lstm_model, wide)
    lstm = lstm_model.evaluate(wide.val, return_dict=True, verbose=0)
    assert lstm["loss"] < min(0.3, history.history["val_loss"][0])


class FeedBack(keras.Model):
    def __init__(self, units, out_steps):
        super().__init__()
        self.out_steps = out_steps
        self.units = units
        self.lstm_cell = keras.layers.LSTMCell(units)
        self.lstm_rnn = keras.layers.RNN(self.lstm_cell, return_state=True)
        self.dense = keras.layers.Dense(NUM_FEATURES)

    def warmup(self, inputs):
        x, *state = self.lstm_rnn(inputs)
        return self.dense(x), state

    def call(self, inputs, training=None):
        predictions = []
        prediction, state = self.warmup(inputs)
        predictions.append(prediction)
        for _ in range(1, self.out_steps):
            x, state = self.lstm_cell(prediction, states=state, training=training)
            prediction = self.dense(x)
            predictions.append(prediction)
        return tf.transpose(tf.stack(predictions), [1, 0, 2])


def test_multi_step_models_and_autoregressive_feedback():
    tf.keras.utils.set_random_seed(1)
    out_steps = 8
    multi = WindowGenerator(input_width=24, label_width=out_steps, shift=out_steps)

    class MultiStepLastBaseline(keras.Model):
        def call(self, inputs):
            return tf.tile(inputs[:, -1:, :], [1, out_steps, 1])
    last = MultiStepLastBaseline()
    last.compile(loss=keras.losses.MeanSquaredError(),
                 metrics=[keras.metrics.MeanAbsoluteError()])
    assert len(last.evaluate(multi.val, verbose=0)) == 2

    multi_conv = keras.Sequential([
        keras.layers.Lambda(lambda x: x[:, -3:, :]),
        keras.layers.Conv1D(32, activation="relu", kernel_size=3),
        keras.layers.Dense(out_steps * NUM_FEATURES,
                           kernel_initializer=tf.initializers.zeros()),
        keras.layers.Reshape([out_steps, NUM_FEATURES])])
    compile_and_fit(multi_conv, multi, epochs=2)
    assert multi_conv(multi.example[0]).shape == (32, out_steps, NUM_FEATURES)

    feedback = FeedBack(units=16, out_steps=out_steps)
    prediction, state = feedback.warmup(multi.example[0])
    assert prediction.shape == (32, 4) and len(state) == 2 and state[0].shape == (32, 16)
    out = feedback(multi.example[0])
    assert out.shape == (32, out_steps, NUM_FEATURES)
    # the loop feeds each prediction back: step 2 is the cell run on step 1's output
    x, _ = feedback.lstm_cell(out[:, 0], states=state)
    np.testing.assert_allclose(feedback.dense(x).numpy(), out.numpy()[:, 1], atol=1e-5)
    history = compile_and_fit(feedback, multi, epochs=4)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(feedback.trainable_variables) == 5
