"""``tf.train.experimental``: ``PythonState`` (Python state in checkpoints)."""

from dlframe.train.python_state import PythonState

__all__ = ["PythonState"]
