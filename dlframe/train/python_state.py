"""``tf.train.experimental.PythonState``: Python state saved in a checkpoint.

A subclass says how to turn its state into a string (``serialize``) and back
(``deserialize``). The string is stored under TF's key ``<path>/.ATTRIBUTES/py_state``
as a scalar string value; a restore that assigns it calls ``deserialize`` at once.
"""

import abc

STATE_EDGE = ".ATTRIBUTES/py_state"   # TF's checkpoint key of a PythonState


class PythonState(metaclass=abc.ABCMeta):
    """A checkpointable object holding Python state, e.g. a NumPy random generator.

    Subclasses implement ``serialize`` and ``deserialize``; the object can then be a
    ``tf.train.Checkpoint`` keyword or an attribute of a checkpointed ``tf.Module``.

    Example:

    >>> class Counter(tf.train.experimental.PythonState):
    ...     def __init__(self):
    ...         self.count = 0
    ...     def serialize(self):
    ...         return str(self.count)
    ...     def deserialize(self, string_value):
    ...         self.count = int(string_value)
    """

    @abc.abstractmethod
    def serialize(self):
        """Returns the state as a ``str`` or ``bytes``."""

    @abc.abstractmethod
    def deserialize(self, string_value):
        """Sets the state from ``bytes`` produced by ``serialize``."""

    def _checkpoint_children(self):
        # the Variable a checkpoint saves and restores: a save first fills it with
        # ``serialize()`` (``_before_save``), a restore assigning it hands the saved
        # bytes to ``deserialize`` (``_after_restore``), as TF does
        var = self.__dict__.get("_py_state_variable")
        if var is None:
            from dlframe.core import dtypes
            from dlframe.core.variable import Variable
            var = Variable(b"", dtype=dtypes.string, trainable=False, name="py_state")
            var.__dict__["_before_save"] = lambda: var.assign(self._serialized())
            var.__dict__["_after_restore"] = lambda: self.deserialize(var.numpy())
            self.__dict__["_py_state_variable"] = var
        return [(STATE_EDGE, var)]

    def _serialized(self):
        value = self.serialize()
        if not isinstance(value, (str, bytes)):
            raise TypeError(f"{type(self).__name__}.serialize() must return a str or "
                            f"bytes, got {type(value).__name__}: {value!r}")
        return value
