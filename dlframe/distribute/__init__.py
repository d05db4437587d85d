"""``tf.distribute``: strategies (default, OneDevice, Mirrored over several devices,
MultiWorkerMirrored over MPI processes), replica contexts, ReduceOp, distributed
values and datasets, communicators, cluster resolvers. See ``strategy.py`` and
``multi_worker.py``."""

from dlframe.distribute import cluster_resolver, coordinator, experimental
from dlframe.distribute.communicators import Communicator, InProcessCommunicator
from dlframe.distribute.extended import StrategyExtended
from dlframe.distribute.input import (
    DistributedDataset,
    DistributedIterator,
    InputContext,
    InputOptions,
    ValueContext,
)
from dlframe.distribute.mirrored_strategy import MirroredStrategy, OneDeviceStrategy
from dlframe.distribute.multi_worker import (
    MultiWorkerMirroredStrategy,
    TPUStrategy,
)
from dlframe.distribute.options import InputReplicationMode, RunOptions
from dlframe.distribute.parameter_server import ParameterServerStrategy
from dlframe.distribute.strategy import (
    CrossDeviceOps,
    HierarchicalCopyAllReduce,
    NcclAllReduce,
    ReduceOp,
    ReductionToOneDevice,
    ReplicaContext,
    Strategy,
    experimental_set_strategy,
    get_cross_replica_context,
    get_replica_context,
    get_strategy,
    has_strategy,
    in_cross_replica_context,
)
from dlframe.distribute.values import (
    DistributedVariable,
    Mirrored,
    MirroredVariable,
    PerReplica,
    SyncOnReadVariable,
)

DistributedValues = PerReplica

__all__ = ["Communicator", "CrossDeviceOps", "DistributedDataset", "DistributedIterator",
           "DistributedValues", "DistributedVariable", "HierarchicalCopyAllReduce",
           "InProcessCommunicator", "InputContext", "InputOptions",
           "InputReplicationMode", "Mirrored", "MirroredStrategy", "MirroredVariable",
           "MultiWorkerMirroredStrategy", "NcclAllReduce", "OneDeviceStrategy",
           "ParameterServerStrategy", "PerReplica", "ReduceOp", "ReductionToOneDevice",
           "ReplicaContext", "RunOptions", "Strategy", "StrategyExtended",
           "SyncOnReadVariable", "TPUStrategy", "ValueContext", "cluster_resolver",
           "coordinator", "experimental", "experimental_set_strategy",
           "get_cross_replica_context", "get_replica_context", "get_strategy",
           "has_strategy", "in_cross_replica_context"]
