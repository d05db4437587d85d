"""``keras.ops.nn``: the Keras 3 nn operations (a name table; see _tables)."""

from dlframe.keras.ops._tables import build as _build

globals().update(_build("nn"))
