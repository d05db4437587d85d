"""``tf.keras.layers.experimental`` (Keras 2): the names TF 2.x code imported from
there before they moved into ``tf.keras.layers`` — ``EinsumDense``,
``SyncBatchNormalization``, ``RandomFourierFeatures`` and the ``preprocessing``
submodule (``from tensorflow.keras.layers.experimental import preprocessing``).
"""

from dlframe.keras.layers.einsum_dense import EinsumDense
from dlframe.keras.layers.experimental import preprocessing
from dlframe.keras.layers.experimental.random_fourier_features import (
    RandomFourierFeatures,
)
from dlframe.keras.layers.normalization import BatchNormalization


class SyncBatchNormalization(BatchNormalization):
    """``BatchNormalization(synchronized=True)``: batch statistics over all replicas
    (Keras 2's experimental name for it)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon,
                         synchronized=True, **kwargs)


__all__ = ["EinsumDense", "RandomFourierFeatures", "SyncBatchNormalization",
           "preprocessing"]
