"""``tf.distribute.experimental``: the experimental spellings of the multi-worker
strategy and its communication options, and the TPU strategy name (unsupported)."""

from dlframe.distribute.multi_worker import (
    CollectiveCommunication,
    CommunicationImplementation,
    CommunicationOptions,
    TPUStrategy,
)
from dlframe.distribute.multi_worker import (
    _ExperimentalMultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy,
)

__all__ = ["CollectiveCommunication", "CommunicationImplementation",
           "CommunicationOptions", "MultiWorkerMirroredStrategy", "TPUStrategy"]
