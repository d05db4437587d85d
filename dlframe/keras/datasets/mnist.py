"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 uint8 images."""

import numpy as np

from dlframe.keras.datasets._download import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", *, cache_dir=None):
    """Loads MNIST, downloading ``mnist.npz`` into the dataset cache on first use.

    Args:
      path: file name under the cache folder (``~/.dlframe/datasets`` unless
        ``cache_dir`` or env ``DLFRAME_DATASETS_DIR`` says otherwise).

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28), uint8 labels.
    """
    path = get_file(path, origin=ORIGIN_FOLDER + "mnist.npz", file_hash=FILE_HASH,
                    cache_dir_override=cache_dir)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
