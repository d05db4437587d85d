"""``dlframe.compat``: TF's compatibility namespaces.

``compat.v2`` is dlframe itself. ``compat.v1`` holds the TF1 names TF2 programs
still call (logging, seeding, enabling eager execution); TF1's graph-and-session
API raises NotImplementedError naming the API, since dlframe is TF2 (eager) only.
"""

import dlframe as v2
from dlframe.compat import aliases as _aliases
from dlframe.compat import v1
from dlframe.compat import v1_ops_args as _args

_aliases.install()   # tensorflow.compat.v1.keras.*, compat.v2.*, python.keras.* paths


def as_bytes(bytes_or_text, encoding="utf-8"):
    """``bytes_or_text`` as bytes (text is encoded)."""
    if isinstance(bytes_or_text, bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    if isinstance(bytes_or_text, bytes):
        return bytes_or_text
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text, encoding="utf-8"):
    """``bytes_or_text`` as str (bytes are decoded)."""
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, (bytes, bytearray)):
        return bytes(bytes_or_text).decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text
as_str_any = str
dimension_value = _args.dimension_value
dimension_at_index = _args.dimension_at_index

__all__ = ["as_bytes", "as_str", "as_str_any", "as_text", "dimension_at_index",
           "dimension_value", "v1", "v2"]
