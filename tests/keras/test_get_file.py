"""``keras.utils.get_file`` and the dataset loaders use Keras' own cache folder: what a
TensorFlow program already fetched into ``~/.keras/datasets`` is found offline."""

import functools
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import dlframe as tf
from dlframe.keras.datasets import cifar10, mnist


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("DLFRAME_DATASETS_DIR", str(tmp_path / "dl_cache"))
    monkeypatch.setenv("DLFRAME_DATASETS_ORIGIN", "http://127.0.0.1:9/")  # unreachable
    return home


@pytest.fixture
def www(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


def _tar_gz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def test_mnist_found_in_keras_cache_offline(keras_home, monkeypatch):
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    buf = io.BytesIO()
    np.savez(buf, x_train=x, y_train=np.array([1, 2], np.uint8), x_test=x[:1],
             y_test=np.array([3], np.uint8))
    (keras_home / "datasets" / "mnist.npz").write_bytes(buf.getvalue())
    monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(buf.getvalue()).hexdigest())
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    np.testing.assert_array_equal(x_train, x)
    assert y_test.tolist() == [3]


def test_mnist_with_wrong_checksum_in_keras_cache_is_not_used(keras_home):
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"not the real file")
    with pytest.raises(tf.keras.datasets.DatasetDownloadError, match="mnist.npz"):
        tf.keras.datasets.mnist.load_data()


def test_cifar10_from_keras_extracted_batches(keras_home):
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (2, 3072), dtype=np.uint8),
                 b"labels": [4, 1]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (10, 32, 32, 3) and xt.shape == (2, 32, 32, 3)
    assert yt[:, 0].tolist() == [4, 1]


def test_get_file_downloads_once_untars_and_reuses(keras_home, www, tmp_path):
    root, url = www
    archive = _tar_gz({"flower_photos/roses/a.txt": b"rose",
                       "flower_photos/tulips/b.txt": b"tulip"})
    (root / "flower_photos.tgz").write_bytes(archive)
    path = tf.keras.utils.get_file("flower_photos", origin=url + "flower_photos.tgz",
                                   untar=True)
    assert path == str(keras_home / "datasets" / "flower_photos")
    assert (keras_home / "datasets" / "flower_photos" / "roses" / "a.txt").read_bytes() \
        == b"rose"
    (root / "flower_photos.tgz").unlink()   # the cached folder is used from now on
    assert tf.keras.utils.get_file("flower_photos", origin=url + "flower_photos.tgz",
                                   untar=True) == path


def test_get_file_checks_hash_and_extracts_zip_into_cache_dir(www, tmp_path):
    root, url = www
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/x.csv", "a,b\n1,2\n")
    blob = buf.getvalue()
    (root / "d.zip").write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    path = tf.keras.utils.get_file("d.zip", url + "d.zip", file_hash=digest,
                                   extract=True, cache_dir=str(tmp_path / "c"),
                                   cache_subdir="")
    assert path == str(tmp_path / "c" / "d.zip")
    assert (tmp_path / "c" / "data" / "x.csv").read_text() == "a,b\n1,2\n"
    with pytest.raises(ValueError, match="corrupted"):
        tf.keras.utils.get_file("e.zip", url + "d.zip", file_hash="0" * 64,
                                cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="origin"):
        tf.keras.utils.get_file("x.zip")


def test_get_file_refuses_archive_escaping_the_cache(www, tmp_path):
    root, url = www
    (root / "evil.tar.gz").write_bytes(_tar_gz({"../outside.txt": b"x"}))
    with pytest.raises(ValueError, match="outside"):
        tf.keras.utils.get_file("evil", url + "evil.tar.gz", untar=True,
                                cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "c" / "outside.txt").exists()
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("layout", [("cifar-100-python",),
                                    ("cifar-100-python-target", "cifar-100-python")])
def test_cifar100_from_keras_extracted_files(keras_home, layout):
    from dlframe.keras.datasets import cifar100
    folder = keras_home.joinpath("datasets", *layout)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in (("train", 3), ("test", 2)):
        blob = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
                b"fine_labels": list(range(90, 90 + n)), b"coarse_labels": [7] * n}
        (folder / name).write_bytes(pickle.dumps(blob, protocol=2))
    (x, y), (xt, yt) = tf.keras.datasets.cifar100.load_data()
    assert x.shape == (3, 32, 32, 3) and y[:, 0].tolist() == [90, 91, 92]
    raw = pickle.loads((folder / "test").read_bytes())[b"data"]
    np.testing.assert_array_equal(xt[1], raw[1].reshape(3, 32, 32).transpose(1, 2, 0))
    (_, yc), _ = cifar100.load_data(label_mode="coarse")
    assert yc[:, 0].tolist() == [7, 7, 7]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar100_archive_download(www, tmp_path, monkeypatch):
    from dlframe.keras.datasets import cifar100
    root, url = www
    blobs = {f"cifar-100-python/{n}": pickle.dumps(
        {b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [5, 6],
         b"coarse_labels": [1, 2]}, protocol=2) for n in ("train", "test")}
    data = _tar_gz(blobs)
    (root / "cifar-100-python.tar.gz").write_bytes(data)
    monkeypatch.setenv("DLFRAME_DATASETS_ORIGIN", url)
    monkeypatch.setattr(cifar100, "FILE_HASH", hashlib.sha256(data).hexdigest())
    (x, y), _ = cifar100.load_data(cache_dir=str(tmp_path / "cache"))
    assert x.shape == (2, 32, 32, 3) and y[:, 0].tolist() == [5, 6]
