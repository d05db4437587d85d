"""``tf.data.Options`` and its option groups."""

import enum
from typing import ClassVar

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class AutoShardPolicy(enum.IntEnum):
    """How a distributed dataset is split between workers."""
    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class AutotuneAlgorithm(enum.IntEnum):
    """The algorithm ``Options.autotune.autotune_algorithm`` names (accepted; dlframe
    sizes AUTOTUNE parallelism from the CPU count)."""
    DEFAULT = 0
    HILL_CLIMB = 1
    GRADIENT_DESCENT = 2
    MAX_PARALLELISM = 3
    STAGE_BASED = 4


class ExternalStatePolicy(enum.Enum):
    """What checkpointing does with external state (a plain Enum, as TF's)."""
    WARN = 0
    IGNORE = 1
    FAIL = 2


class _Group:
    """A set of named options; assigning an unknown name is an AttributeError, and a
    value of the wrong type (None included) a TypeError, as TF."""

    _fields: ClassVar[dict] = {}
    _types: ClassVar[dict] = {}   # name -> the type TF checks (bool options refuse ints and back)

    def __init__(self):
        for name, default in self._fields.items():
            if isinstance(default, type) and issubclass(default, _Group):
                default = default()
            object.__setattr__(self, name, default)

    def __setattr__(self, name, value):
        if name not in self._fields and not isinstance(getattr(type(self), name, None),
                                                       property):
            raise AttributeError(f"Cannot set the property {name} on "
                                 f"{type(self).__name__}.")
        want = self._types.get(name)
        if want is None and isinstance(self._fields.get(name), type):
            want = self._fields[name]   # a nested group
        if want is not None and not _is_of_type(value, want):
            raise TypeError(f"Property \"{name}\" must be of type {want}, got: "
                            f"{value} (type: {type(value)})")
        object.__setattr__(self, name, value)

    def _merge(self, other):
        for name in self._fields:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, _Group):
                mine._merge(theirs)
            elif theirs is not None:
                object.__setattr__(self, name, theirs)

    def __eq__(self, other):
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n in self._fields)

    def __repr__(self):
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({body})"


def _is_of_type(value, want):
    if want is bool:
        return isinstance(value, bool)
    return isinstance(value, want)


class OptimizationOptions(_Group):
    _fields: ClassVar[dict] = {n: None for n in (
        "apply_default_optimizations", "filter_fusion", "map_and_batch_fusion",
        "map_and_filter_fusion", "map_fusion", "map_parallelization", "noop_elimination",
        "parallel_batch", "shuffle_and_repeat_fusion", "inject_prefetch",
        "filter_parallelization", "seq_interleave_prefetch", "warm_start")}
    _types: ClassVar[dict] = dict.fromkeys(_fields, bool)


class DistributeOptions(_Group):
    _fields: ClassVar[dict] = {"auto_shard_policy": AutoShardPolicy.AUTO, "num_devices": None}
    _types: ClassVar[dict] = {"auto_shard_policy": AutoShardPolicy, "num_devices": int}


class ThreadingOptions(_Group):
    _fields: ClassVar[dict] = {"max_intra_op_parallelism": None, "private_threadpool_size": None}
    _types: ClassVar[dict] = dict.fromkeys(_fields, int)


class AutotuneOptions(_Group):
    _fields: ClassVar[dict] = {"enabled": None, "cpu_budget": None, "ram_budget": None,
               "autotune_algorithm": None, "initial_parallelism": None,
               "min_parallelism": None}
    _types: ClassVar[dict] = {"enabled": bool, "cpu_budget": int, "ram_budget": int,
              "autotune_algorithm": AutotuneAlgorithm, "initial_parallelism": int,
              "min_parallelism": int}


class ServiceOptions(_Group):
    """tf.data service options (accepted; dlframe has no tf.data service)."""
    _fields: ClassVar[dict] = {"pinned": None}
    _types: ClassVar[dict] = {"pinned": bool}


class Options(_Group):
    """Options of a dataset pipeline (``tf.data.Options``).

    ``deterministic`` (default None, meaning True) is honoured by parallel ``map``;
    ``threading.private_threadpool_size`` caps AUTOTUNE parallelism. The other fields
    are accepted for compatibility.
    """

    _fields: ClassVar[dict] = {"deterministic": None, "experimental_optimization": OptimizationOptions,
               "experimental_distribute": DistributeOptions,
               "threading": ThreadingOptions, "autotune": AutotuneOptions,
               "experimental_service": ServiceOptions,
               "experimental_slack": None, "experimental_external_state_policy": None,
               "experimental_symbolic_checkpoint": None, "experimental_warm_start": None,
               "dataset_name": None, "framework_type": None}
    _types: ClassVar[dict] = {"deterministic": bool, "experimental_slack": bool,
              "experimental_external_state_policy": ExternalStatePolicy,
              "experimental_symbolic_checkpoint": bool, "experimental_warm_start": bool,
              "dataset_name": str, "framework_type": list}

    @property
    def experimental_deterministic(self):
        return self.deterministic

    @experimental_deterministic.setter
    def experimental_deterministic(self, value):
        self.deterministic = value

    @property
    def experimental_threading(self):
        return self.threading

    def merge(self, options):
        """A new Options with ``options``' set values overriding this one's."""
        out = Options()
        out._merge(self)
        out._merge(options)
        return out
