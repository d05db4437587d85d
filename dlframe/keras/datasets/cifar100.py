"""CIFAR-100: 50,000 training and 10,000 test 32x32 RGB uint8 images in 100 classes
(grouped into 20 coarse superclasses)."""

import os
import tarfile

import numpy as np

from dlframe.keras.datasets._download import get_file, keras_extracted, safe_unpickle

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
_FOLDER = "cifar-100-python"


def load_data(label_mode="fine", *, cache_dir=None):
    """Loads CIFAR-100 from ``cifar-100-python.tar.gz``, or from the files TensorFlow's
    Keras extracted into ``~/.keras/datasets``.

    Args:
      label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3), labels of
      shape (n, 1).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    key = b"fine_labels" if label_mode == "fine" else b"coarse_labels"
    folder = None if cache_dir is not None else keras_extracted(_FOLDER, ("train", "test"))
    if folder is not None:
        def read(name):
            with open(os.path.join(folder, name), "rb") as f:
                return _decode(f, key)
        train, test = read("train"), read("test")
    else:
        path = get_file("cifar-100-python.tar.gz", origin=ORIGIN, file_hash=FILE_HASH,
                        cache_dir_override=cache_dir)
        with tarfile.open(path, "r:gz") as tar:
            train, test = (_decode(_member(tar, n), key) for n in ("train", "test"))
    return train, test


def _member(tar, name):
    member = tar.extractfile(f"{_FOLDER}/{name}")
    if member is None:
        raise ValueError(f"{name} missing from the CIFAR-100 archive")
    return member


def _decode(fileobj, key):
    d = safe_unpickle(fileobj, encoding="bytes")
    data = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(d[key], dtype=np.int64).reshape(-1, 1)
    return data.transpose(0, 2, 3, 1).copy(), labels
