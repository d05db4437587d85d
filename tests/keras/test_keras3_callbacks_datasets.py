"""SwapEMAWeights, RemoteMonitor (against a local HTTP server) and the Reuters and
California housing loaders reading fake files from a temporary Keras cache."""

import hashlib
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.datasets import california_housing, reuters

keras = tf.keras


def _regression(seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(64, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _ema_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    model.compile(optimizer, "mse")
    return model, optimizer


class _Recorder(keras.callbacks.Callback):
    """Records the kernel seen at the start of evaluation and at each epoch end."""

    def __init__(self):
        super().__init__()
        self.at_test, self.at_epoch_end = [], []

    def on_test_begin(self, logs=None):
        self.at_test.append(self.model.layers[0].kernel.numpy().copy())

    def on_epoch_end(self, epoch, logs=None):
        self.at_epoch_end.append(self.model.layers[0].kernel.numpy().copy())


def test_swap_ema_weights_evaluates_with_the_averages():
    x, y = _regression()
    model, optimizer = _ema_model()
    for start in range(0, 64, 16):   # (fit would end by copying the averages in)
        model.train_on_batch(x[start:start + 16], y[start:start + 16])
    raw = model.layers[0].kernel.numpy().copy()
    average = optimizer._averages[0].numpy().copy()
    assert not np.allclose(raw, average)
    recorder = _Recorder()
    loss_ema = model.evaluate(x, y, verbose=0,
                              callbacks=[keras.callbacks.SwapEMAWeights(), recorder])
    np.testing.assert_allclose(recorder.at_test[0], average)     # swapped in
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), raw)   # and back
    np.testing.assert_allclose(optimizer._averages[0].numpy(), average)
    # the loss is the loss of the averaged weights
    bias = model.layers[0].bias.numpy()
    model.layers[0].kernel.assign(average)
    model.layers[0].bias.assign(optimizer._averages[1].numpy())
    assert loss_ema == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    model.layers[0].kernel.assign(raw)
    model.layers[0].bias.assign(bias)
    pred = model.predict(x, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    expected = x @ average + optimizer._averages[1].numpy()
    np.testing.assert_allclose(pred, expected, rtol=1e-5, atol=1e-5)


def test_swap_ema_weights_in_fit_and_on_epoch():
    x, y = _regression(1)
    model, _ = _ema_model()
    recorder = _Recorder()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x, y),
              callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True), recorder])
    # with swap_on_epoch the epoch-end callbacks after it see the averages, and the
    # validation inside the epoch ran on them too
    assert len(recorder.at_test) == 2 and len(recorder.at_epoch_end) == 2
    # the swaps never disturb training: same losses as without the callback
    twin, _ = _ema_model()
    start = twin.get_weights()
    with_swap = model.__class__.from_config(model.get_config())
    with_swap.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9), "mse")
    with_swap.set_weights(start)
    plain_hist = twin.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False,
                          validation_data=(x, y)).history
    swap_hist = with_swap.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False,
                              validation_data=(x, y), callbacks=[
                                  keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    np.testing.assert_allclose(swap_hist.history["loss"], plain_hist["loss"], rtol=1e-6)
    assert swap_hist.history["val_loss"] != plain_hist["val_loss"]   # EMA weights
    model2, _ = _ema_model()
    with pytest.raises(ValueError, match="use_ema"):
        plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        plain.compile("sgd", "mse")
        plain.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                  callbacks=[keras.callbacks.SwapEMAWeights()])
    before = model2.layers[0].kernel.numpy()   # never trained: averages == weights
    model2.evaluate(x, y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    np.testing.assert_array_equal(model2.layers[0].kernel.numpy(), before)


@pytest.fixture
def monitor_server():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", received
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_epoch_logs(monitor_server):
    root, received = monitor_server
    x, y = _regression()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        keras.callbacks.RemoteMonitor(root=root, headers={"X-Run": "7"})])
    assert len(received) == 2
    path, headers, body = received[1]
    assert path == "/publish/epoch/end/" and headers["X-Run"] == "7"
    form = urllib.parse.parse_qs(body.decode())
    data = json.loads(form["data"][0])
    assert data["epoch"] == 1
    assert data["loss"] == pytest.approx(history.history["loss"][1])
    received.clear()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.RemoteMonitor(
        root=root, path="/json", send_as_json=True)])
    path, headers, body = received[0]
    assert path == "/json" and headers["Content-Type"] == "application/json"
    assert json.loads(body)["epoch"] == 0


def test_remote_monitor_warns_when_unreachable():
    monitor = keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9")
    monitor.timeout = 2
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        monitor.on_epoch_end(0, {"loss": np.float32(1.5)})


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """A fake ~/.keras/datasets (KERAS_HOME) and an empty dlframe cache."""
    folder = tmp_path / "keras_home" / "datasets"
    folder.mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("DLFRAME_DATASETS_DIR", str(tmp_path / "dlframe_cache"))
    monkeypatch.setenv("DLFRAME_DATASETS_ORIGIN", "http://127.0.0.1:9/")  # offline
    return folder


def _store(folder, name, module, monkeypatch, **arrays):
    path = folder / name
    np.savez(path, **arrays)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(module, "FILE_HASH", digest)


def test_california_housing_from_keras_cache(keras_cache, monkeypatch):
    x = np.arange(700 * 8, dtype="float64").reshape(700, 8)
    y = np.arange(700, dtype="float32") * 10
    _store(keras_cache, "california_housing.npz", california_housing, monkeypatch,
           x=x, y=y)
    (xt, yt), (xv, yv) = california_housing.load_data(version="small")
    assert xt.shape == (480, 8) and xv.shape == (120, 8) and yt.dtype == np.float32
    assert max(yt.max(), yv.max()) == 5990.0     # only the first 600 samples
    # from TF 2.21 / Keras 3.15 with the same file: the seed-113 shuffle
    assert yt[:5].tolist() == [5680.0, 5050.0, 590.0, 710.0, 2980.0]
    assert yv[:3].tolist() == [1630.0, 1610.0, 3010.0]
    np.testing.assert_array_equal(xt[:, 0] / 8 * 10, yt)   # rows stay with targets
    (xt, yt), (xv, _) = california_housing.load_data(test_split=0.1, seed=1)
    assert xt.shape == (630, 8) and xv.shape == (70, 8)
    assert yt[:5].tolist() == [6810.0, 6260.0, 3290.0, 6200.0, 3990.0]   # TF 2.21
    with pytest.raises(ValueError, match="version=mid"):
        california_housing.load_data(version="mid")
    with pytest.raises(ValueError, match="test_split=1"):
        california_housing.load_data(test_split=1)


def test_reuters_from_keras_cache(keras_cache, monkeypatch):
    xs = np.empty(6, dtype=object)
    xs[:] = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [2], [9, 9], [3, 1, 4, 1, 5]]
    _store(keras_cache, "reuters.npz", reuters, monkeypatch, x=xs,
           y=np.arange(6))
    # expected values from TF 2.21 / Keras 3.15 on the same file
    (x, y), (xt, yt) = reuters.load_data()
    assert x.dtype == object and [list(s) for s in x] == [
        [1, 7, 8], [1, 4, 5, 6], [1, 5], [1, 9, 10, 11, 12, 2]]
    assert y.tolist() == [1, 0, 3, 2] and yt.tolist() == [4, 5]
    assert [list(s) for s in xt] == [[1, 12, 12], [1, 6, 4, 7, 4, 8]]
    (x, y), (xt, yt) = reuters.load_data(num_words=6, skip_top=1, maxlen=5,
                                         test_split=0.5, seed=3, start_char=None,
                                         oov_char=None, index_from=0)
    assert [list(s) for s in x] == [[2], []] and y.tolist() == [3, 4]
    assert [list(s) for s in xt] == [[4, 5], [1, 2, 3]] and yt.tolist() == [1, 0]
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:3] == ("cocoa", "grain", "veg-oil")
    with pytest.raises(ValueError, match="maxlen"):
        reuters.load_data(maxlen=1)
    word_index = keras_cache / "reuters_word_index.json"
    word_index.write_text('{"the": 1}')
    monkeypatch.setattr(reuters, "WORD_INDEX_HASH",
                        hashlib.md5(b'{"the": 1}').hexdigest())
    assert reuters.get_word_index() == {"the": 1}
    assert keras.datasets.reuters is reuters
    assert keras.datasets.california_housing is california_housing
