"""``keras.preprocessing.sequence``: ``pad_sequences`` (also ``keras.utils``)."""

from dlframe.keras.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
