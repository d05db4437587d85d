"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 uint8 images of 10 clothing kinds."""

import gzip
import os

import numpy as np

from dlframe.keras.datasets._download import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
# Keras publishes no checksums for these four files; set entries to verify them.
FILE_HASHES = {name: None for name in FILES}


def load_data(*, cache_dir=None):
    """Loads Fashion-MNIST (IDX files, downloaded into ``<cache>/fashion-mnist``).

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28), uint8 labels.
    """
    paths = [get_file(name, origin=ORIGIN_FOLDER + name, file_hash=FILE_HASHES.get(name),
                      cache_subdir="fashion-mnist", cache_dir_override=cache_dir)
             for name in FILES]
    y_train, x_train = _labels(paths[0]), _images(paths[1])
    y_test, x_test = _labels(paths[2]), _images(paths[3])
    return (x_train, y_train), (x_test, y_test)


def _labels(path):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).copy()


def _images(path):
    with gzip.open(path, "rb") as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    if data.size % 784:
        raise ValueError(f"{os.path.basename(path)} is not an IDX file of 28x28 images")
    return data.reshape(-1, 28, 28).copy()
