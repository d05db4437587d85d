"""Op module 'random' (being written; see DESIGN.md §4 for the op pattern)."""

__all__ = []  # names exported at the dlframe top level (tf.X)
NN_NAMES = []  # names exported under dlframe.nn (tf.nn.X)
