"""``keras.ops.numpy``: the Keras 3 numpy operations (a name table; see _tables)."""

from dlframe.keras.ops._tables import build as _build

globals().update(_build("numpy"))
