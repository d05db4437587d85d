"""``dlframe.train``: the tf.train.Example protocol buffers.

``Example``, ``Features``, ``Feature``, ``BytesList``, ``FloatList``, ``Int64List``,
``FeatureList``, ``FeatureLists`` and ``SequenceExample`` are protobuf message classes
wire-compatible with TensorFlow's. They are built on first use, so importing dlframe
does not import protobuf.
"""

_PROTO_NAMES = ("Example", "Features", "Feature", "BytesList", "FloatList", "Int64List",
                "FeatureList", "FeatureLists", "SequenceExample")

from dlframe.distribute.cluster_resolver import ClusterSpec  # tf.train.ClusterSpec
from dlframe.train.checkpoint import (
    Checkpoint,
    CheckpointManager,
    CheckpointOptions,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_checkpoint,
    load_variable,
)
from dlframe.train.coordinator import Coordinator, checkpoints_iterator
from dlframe.train.moving_averages import ExponentialMovingAverage
from dlframe.train import experimental  # noqa: E402 - tf.train.experimental

__all__ = list(_PROTO_NAMES) + [
    "Checkpoint", "CheckpointManager", "CheckpointOptions", "get_checkpoint_state",
    "latest_checkpoint", "list_variables", "load_checkpoint", "load_variable",
    "ExponentialMovingAverage", "ClusterSpec", "Coordinator", "checkpoints_iterator",
    "experimental"]


def __getattr__(name):
    if name in _PROTO_NAMES:
        from dlframe.train import _proto
        cls = _proto.classes()[name]
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'dlframe.train' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PROTO_NAMES))
