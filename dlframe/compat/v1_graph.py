"""TF1's graph-level names as they behave eagerly in TF 2 (``tf.compat.v1.*``).

Eagerly TF2 still keeps one default ``Graph`` object holding named collections
(``add_to_collection``/``get_collection``), initializer ops are no-ops returning
None, and placeholders raise ``RuntimeError``. This module gives the same.
"""

import re
import threading
from typing import ClassVar


class GraphKeys:
    """Standard names of TF1 graph collections."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    SAVERS = "savers"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    _VARIABLE_COLLECTIONS = [  # noqa: RUF012  (a list, as TF's)
        "variables", "local_variables", "metric_variables", "model_variables",
        "trainable_variables", "moving_average_variables", "concatenated_variables",
        "trainable_resource_variables"]


class Graph:
    """The part of TF1's ``Graph`` that works eagerly: collections, unique names.

    There are no operations: ``get_operations()`` is empty, as in TF2's eager mode.
    """

    def __init__(self):
        self._collections = {}
        self._names = {}
        self._finalized = False
        self.seed = None
        self.version = 0

    # collections
    def add_to_collection(self, name, value):
        """Appends ``value`` to the collection ``name``."""
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        """Appends ``value`` to each collection in ``names`` (a name or a list)."""
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        """The collection's list itself (created empty if missing)."""
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of the collection; with ``scope``, only items whose ``name``
        matches that regular expression from the start."""
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [item for item in items
                if isinstance(getattr(item, "name", None), str)
                and pattern.match(item.name)]

    def get_all_collection_keys(self):
        """Names of the non-empty collections."""
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name):
        """Empties the collection ``name``."""
        self._collections.pop(name, None)

    @property
    def collections(self):
        return list(self._collections)

    # everything else a script touches eagerly
    def get_operations(self):
        """Always empty: eager ops are not recorded in a graph."""
        return []

    def unique_name(self, name, mark_as_used=True):
        """``name``, or ``name_1``, ``name_2``... when already taken."""
        count = self._names.get(name, 0)
        if mark_as_used:
            self._names[name] = count + 1
        return name if count == 0 else f"{name}_{count}"

    def get_name_scope(self):
        from dlframe.core.variable import current_scope
        return current_scope()

    def as_default(self):
        return _AsDefault(self)

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _AsDefault:
    def __init__(self, graph):
        self.graph = graph

    def __enter__(self):
        _STATE.stack.append(self.graph)
        return self.graph

    def __exit__(self, *exc):
        _STATE.stack.pop()
        return False


class _State(threading.local):
    def __init__(self):
        self.stack = []


_STATE = _State()
_GLOBAL = [Graph()]


def get_default_graph():
    """The default graph (one per program until ``reset_default_graph``)."""
    return _STATE.stack[-1] if _STATE.stack else _GLOBAL[0]


def reset_default_graph():
    """Replaces the default graph by an empty one (collections are cleared)."""
    if _STATE.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested "
                             "graphs. If you need a cleared graph, exit the nesting "
                             "and create a new graph.")
    _GLOBAL[0] = Graph()


def add_to_collection(name, value):
    """Adds ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    """Adds ``value`` to each of the default graph's collections ``names``."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """The default graph's collection ``key`` (a copy; see ``Graph.get_collection``)."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    """The default graph's collection ``key`` itself."""
    return get_default_graph().get_collection_ref(key)


def _no_op_initializer(name):
    def initializer(*args, **kwargs):
        return None   # eager variables are initialized when created
    initializer.__name__ = name
    initializer.__doc__ = "Eagerly a no-op returning None (as TF2)."
    return initializer


global_variables_initializer = _no_op_initializer("global_variables_initializer")
local_variables_initializer = _no_op_initializer("local_variables_initializer")
tables_initializer = _no_op_initializer("tables_initializer")
variables_initializer = _no_op_initializer("variables_initializer")
initialize_all_variables = _no_op_initializer("initialize_all_variables")
initialize_local_variables = _no_op_initializer("initialize_local_variables")
initialize_all_tables = _no_op_initializer("initialize_all_tables")


def _eager_error(tf_message, api):
    # NotImplementedError is a RuntimeError: TF's eager error type still catches it
    return NotImplementedError(
        f"{tf_message} tf.compat.v1.{api} is not supported: dlframe implements "
        "TensorFlow 2 with eager execution only (no graphs, sessions or "
        "placeholders). Pass inputs as function arguments, and use tf.function for "
        "compiled code.")


def placeholder(dtype, shape=None, name=None):
    """Raises TF2's eager RuntimeError: there is nothing to feed a placeholder from."""
    raise _eager_error("tf.placeholder() is not compatible with eager execution.",
                       "placeholder")


def sparse_placeholder(dtype, shape=None, name=None):
    """Raises TF2's eager RuntimeError: there is nothing to feed a placeholder from."""
    raise _eager_error("`sparse_placeholder` is not compatible with eager execution.",
                       "sparse_placeholder")


class _Message:
    """A protocol-message stand-in with fixed fields and TF's unknown-field error."""

    _FIELDS: ClassVar[dict] = {}

    def __init__(self, **fields):
        for key, value in self._FIELDS.items():
            setattr(self, key, value)
        for key, value in fields.items():
            if key not in self._FIELDS:
                raise ValueError(f'Protocol message {type(self).__name__} has no '
                                 f'"{key}" field.')
            setattr(self, key, value)

    def __repr__(self):
        return "".join(f"{k}: {getattr(self, k)!r}\n" for k in self._FIELDS
                       if getattr(self, k) != self._FIELDS[k])


class RunOptions(_Message):
    """Options of ``Session.run`` (accepted; eager ops ignore them)."""

    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3
    _FIELDS: ClassVar[dict] = {"trace_level": 0, "timeout_in_ms": 0, "inter_op_thread_pool": 0,
               "output_partition_graphs": False, "debug_options": None,
               "report_tensor_allocations_upon_oom": False, "experimental": None}


class RunMetadata(_Message):
    """Metadata of ``Session.run`` (empty eagerly)."""

    _FIELDS: ClassVar[dict] = {"step_stats": None, "cost_graph": None, "partition_graphs": (),
               "function_graphs": ()}


__all__ = [
    "Graph",
    "GraphKeys",
    "RunMetadata",
    "RunOptions",
    "add_to_collection",
    "add_to_collections",
    "get_collection",
    "get_collection_ref",
    "get_default_graph",
    "global_variables_initializer",
    "initialize_all_tables",
    "initialize_all_variables",
    "initialize_local_variables",
    "local_variables_initializer",
    "placeholder",
    "reset_default_graph",
    "sparse_placeholder",
    "tables_initializer",
    "variables_initializer",
]
