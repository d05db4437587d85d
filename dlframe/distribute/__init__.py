"""``tf.distribute``: strategies (default, OneDevice, single-replica Mirrored),
replica contexts, ReduceOp and distributed datasets. See ``strategy.py``."""

from dlframe.distribute.strategy import (
    CrossDeviceOps,
    DistributedDataset,
    HierarchicalCopyAllReduce,
    InputContext,
    InputOptions,
    MirroredStrategy,
    NcclAllReduce,
    OneDeviceStrategy,
    ReduceOp,
    ReductionToOneDevice,
    ReplicaContext,
    Strategy,
    StrategyExtended,
    experimental_set_strategy,
    get_cross_replica_context,
    get_replica_context,
    get_strategy,
    has_strategy,
    in_cross_replica_context,
)

__all__ = ["CrossDeviceOps", "DistributedDataset", "HierarchicalCopyAllReduce",
           "InputContext", "InputOptions", "MirroredStrategy", "NcclAllReduce",
           "OneDeviceStrategy", "ReduceOp", "ReductionToOneDevice", "ReplicaContext",
           "Strategy", "StrategyExtended", "experimental_set_strategy",
           "get_cross_replica_context", "get_replica_context", "get_strategy",
           "has_strategy", "in_cross_replica_context"]
