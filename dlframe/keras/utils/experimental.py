"""``tf.keras.utils.experimental``: ``DatasetCreator``."""

from dlframe.keras.utils.dataset_creator import DatasetCreator

__all__ = ["DatasetCreator"]
