"""``keras.preprocessing``: ``sequence`` (pad_sequences), ``text`` (Tokenizer) and a
minimal ``image`` (img_to_array)."""

from dlframe.keras.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
