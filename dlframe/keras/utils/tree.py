"""Nested-structure helpers for layers and models: ``dlframe.core.nest`` (tf.nest)."""

from dlframe.core.nest import (  # noqa: F401
    assert_same_structure,
    flatten,
    is_nested,
    map_structure,
    pack_sequence_as,
)
