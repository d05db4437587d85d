"""CIFAR-10: 50,000 training and 10,000 test 32x32 RGB uint8 images in 10 classes."""

import os
import tarfile

import numpy as np

from dlframe.keras.datasets._download import get_file, keras_extracted, safe_unpickle

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_FOLDER = "cifar-10-batches-py"
_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def load_data(*, cache_dir=None):
    """Loads CIFAR-10 from ``cifar-10-python.tar.gz`` (read in place, not extracted), or
    from the batches TensorFlow's Keras extracted into ``~/.keras/datasets``.

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3) channels last,
      uint8 labels of shape (n, 1).
    """
    folder = None if cache_dir is not None else keras_extracted(_FOLDER, _NAMES)
    if folder is not None:   # the batches TensorFlow's Keras already extracted
        def read(name):
            with open(os.path.join(folder, name), "rb") as f:
                return _decode(f)
        train = [read(f"data_batch_{i}") for i in range(1, 6)]
        x_test, y_test = read("test_batch")
    else:
        path = get_file("cifar-10-python.tar.gz", origin=ORIGIN, file_hash=FILE_HASH,
                        cache_dir_override=cache_dir)
        with tarfile.open(path, "r:gz") as tar:
            train = [_batch(tar, f"data_batch_{i}") for i in range(1, 6)]
            x_test, y_test = _batch(tar, "test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train), (x_test, y_test)


def _batch(tar, name):
    member = tar.extractfile(_FOLDER + "/" + name)
    if member is None:
        raise ValueError(f"{name} missing from the CIFAR-10 archive")
    return _decode(member)


def _decode(member):
    d = safe_unpickle(member, encoding="bytes")
    data = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(d[b"labels"], dtype=np.uint8).reshape(-1, 1)
    return data.transpose(0, 2, 3, 1).copy(), labels
