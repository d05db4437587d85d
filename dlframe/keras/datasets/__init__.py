"""``dlframe.keras.datasets``: the Keras datasets, downloaded into ``~/.dlframe/datasets``
(or ``DLFRAME_DATASETS_DIR``) and checksum-verified; ``mnist_sample`` works offline."""

from dlframe.keras.datasets import (
           boston_housing,
           california_housing,
           cifar10,
           cifar100,
           fashion_mnist,
           imdb,
           mnist,
           mnist_sample,
           reuters,
)
from dlframe.keras.datasets._download import DatasetDownloadError

__all__ = ["DatasetDownloadError", "boston_housing", "california_housing", "cifar10",
           "cifar100", "fashion_mnist", "imdb", "mnist", "mnist_sample", "reuters"]
