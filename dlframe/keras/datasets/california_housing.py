"""California housing: 20,640 census block groups, 8 features, median house value."""

import numpy as np

from dlframe.keras.datasets._download import get_file

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL_SIZE = 600


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113,
              *, cache_dir=None):
    """Loads the California housing regression data, shuffled and split.

    Features: median income, house age, average rooms, average bedrooms,
    population, average occupancy, latitude, longitude; targets in dollars.

    Args:
      version: 'large' (all 20,640 samples) or 'small' (the first 600, a stand-in
        for ``boston_housing``).
      path: file name in the cache (``~/.keras/datasets`` copies are used as is).
      test_split: fraction held out for testing, in [0, 1).
      seed: shuffling seed.
      cache_dir: cache folder to use instead of the default.

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: x of shape ``(n, 8)``, y ``(n,)``.

    Raises:
      ValueError: ``version`` or ``test_split`` is invalid.
    """
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    if not 0 <= test_split < 1:
        raise ValueError("Invalid value for argument `test_split`: it must be between "
                         f"0 and 1 (exclusive of 1). Received: test_split={test_split}")
    path = get_file(path, origin=ORIGIN_FOLDER + "california_housing.npz",
                    file_hash=FILE_HASH, cache_dir_override=cache_dir)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:SMALL_SIZE], y[:SMALL_SIZE]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
