"""Nested-structure helpers for layers and models: ``dlframe.core.nest`` (tf.nest)."""

from dlframe.core.nest import (assert_same_structure, flatten, is_nested,  # noqa: F401
                               map_structure, pack_sequence_as)
