"""Small option types of ``tf.distribute``: ``InputReplicationMode``, ``RunOptions``
and ``tf.distribute.experimental.CollectiveHints`` (TF 2.2's name of the
communication options)."""

from dlframe.distribute.input import InputReplicationMode  # noqa: F401 - re-exported
from dlframe.distribute.multi_worker import CommunicationOptions


class RunOptions:
    """Options of ``strategy.run`` (accepted; they tune TPU compilation).

    Args:
      experimental_enable_dynamic_batch_size: TPU dynamic batch sizes.
      experimental_bucketizing_dynamic_shape: TPU shape bucketing.
      experimental_xla_options: XLA options of the TPU computation.
    """

    _FIELDS = ("experimental_enable_dynamic_batch_size",
               "experimental_bucketizing_dynamic_shape", "experimental_xla_options")
    __slots__ = _FIELDS

    def __init__(self, experimental_enable_dynamic_batch_size=True,
                 experimental_bucketizing_dynamic_shape=False,
                 experimental_xla_options=None):
        self.experimental_enable_dynamic_batch_size = \
            experimental_enable_dynamic_batch_size
        self.experimental_bucketizing_dynamic_shape = \
            experimental_bucketizing_dynamic_shape
        self.experimental_xla_options = experimental_xla_options

    def __eq__(self, other):
        return isinstance(other, RunOptions) and all(
            getattr(self, k) == getattr(other, k) for k in self._FIELDS)

    __hash__ = None

    def __repr__(self):
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._FIELDS)
        return f"RunOptions({body})"


class CollectiveHints:
    """``tf.distribute.experimental.CollectiveHints(bytes_per_pack, timeout_seconds)``:
    the deprecated spelling of ``CommunicationOptions``; constructing it returns one
    (as TF does).

    Args:
      bytes_per_pack: the most bytes of gradients packed into one collective.
      timeout_seconds: accepted (collectives do not time out).

    Raises:
      ValueError: for a negative ``bytes_per_pack``.
    """

    def __new__(cls, bytes_per_pack=0, timeout_seconds=None):
        return CommunicationOptions(bytes_per_pack=bytes_per_pack,
                                    timeout_seconds=timeout_seconds)
