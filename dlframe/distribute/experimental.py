"""``tf.distribute.experimental``: the experimental spellings of the multi-worker
strategy and its communication options, CentralStorageStrategy,
ParameterServerStrategy with its coordinator and partitioners, preemption
handling, and the TPU strategy name (unsupported)."""

from dlframe.distribute import coordinator, partitioners
from dlframe.distribute.central_storage import CentralStorageStrategy
from dlframe.distribute.input import ValueContext
from dlframe.distribute.multi_worker import (
    CollectiveCommunication,
    CommunicationImplementation,
    CommunicationOptions,
    TPUStrategy,
)
from dlframe.distribute.multi_worker import (
    _ExperimentalMultiWorkerMirroredStrategy as MultiWorkerMirroredStrategy,
)
from dlframe.distribute.options import CollectiveHints
from dlframe.distribute.parameter_server import ParameterServerStrategy
from dlframe.distribute.preemption import (
    PreemptionCheckpointHandler,
    PreemptionWatcher,
    TerminationConfig,
)

__all__ = ["CentralStorageStrategy", "CollectiveCommunication", "CollectiveHints",
           "CommunicationImplementation", "CommunicationOptions",
           "MultiWorkerMirroredStrategy", "ParameterServerStrategy",
           "PreemptionCheckpointHandler", "PreemptionWatcher", "TPUStrategy",
           "TerminationConfig", "ValueContext", "coordinator", "partitioners"]
