"""Boston housing prices: 13 features per house, median value targets (404/102 split)."""

import numpy as np

from dlframe.keras.datasets._download import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, *, cache_dir=None):
    """Loads the Boston housing data, shuffled with ``seed`` and split by ``test_split``.

    Returns:
      ``(x_train, y_train), (x_test, y_test)`` float arrays.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1 (exclusive of 1), got "
                         f"{test_split}")
    path = get_file(path, origin=ORIGIN_FOLDER + "boston_housing.npz", file_hash=FILE_HASH,
                    cache_dir_override=cache_dir)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x))
    rng.shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
