"""``dlframe.compat.v1``: the TF1 names that TF2 programs still call.

Logging verbosity, seeding and switches to eager/v2 behaviour work (the last are
no-ops: dlframe always runs eagerly, compiling with ``tf.function``). TF1's graphs,
sessions and placeholders raise NotImplementedError naming the API. Any other name
is looked up in the TF2 API (``tf.compat.v1.Variable`` is ``tf.Variable``).
"""

import logging as _logging
import sys as _sys
from types import SimpleNamespace as _Namespace

import dlframe as _tf
from dlframe.compat.aliases import PassThrough as _PassThrough
from dlframe.keras.layers import cudnn_legacy as _cudnn_legacy


def _tf2_only(api):
    def unsupported(*args, **kwargs):
        raise NotImplementedError(
            f"tf.compat.v1.{api} is not supported: dlframe implements TensorFlow 2 "
            "with eager execution only (no graphs, sessions or placeholders). Run ops "
            "directly, pass inputs as function arguments, and use tf.function for "
            "compiled code.")
    unsupported.__name__ = api
    unsupported.__doc__ = "Raises NotImplementedError: dlframe is TF2 (eager) only."
    return unsupported


class Session:
    """TF1's session, kept so TF2 scripts' setup idiom runs
    (``sess = tf.compat.v1.Session(config=config)`` with ``allow_growth``, then
    ``tf.compat.v1.keras.backend.set_session(sess)``). Nothing is attached to it:
    ops run eagerly. ``run`` raises, as TF2 does for eager tensors.

    Args:
      target: accepted and ignored (no remote sessions).
      graph: must be None (there are no TF1 graphs).
      config: a ``ConfigProto``; kept as ``self.config``, nothing reads it.
    """

    def __init__(self, target="", graph=None, config=None):
        if graph is not None:
            _tf2_only("Session(graph=...)")()
        self.sess_str = target
        self.config = config
        self.graph = None
        self._closed = False

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        _tf2_only("Session.run")()

    def as_default(self):
        return self

    def close(self):
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class InteractiveSession(Session):
    """TF1's interactive session: a ``Session`` (see there)."""


_SESSION = [None]


def _set_session(session):
    """``tf.compat.v1.keras.backend.set_session``: remembered, nothing uses it."""
    _SESSION[0] = session


def _get_session(op_input_list=()):
    """``tf.compat.v1.keras.backend.get_session``: the session last set (or a new one)."""
    if _SESSION[0] is None:
        _SESSION[0] = Session()
    return _SESSION[0]


disable_eager_execution = _tf2_only("disable_eager_execution")
disable_v2_behavior = _tf2_only("disable_v2_behavior")

# tf.compat.v1.keras: TF2's Keras plus backend.set_session/get_session and
# layers.CuDNNLSTM/CuDNNGRU; also
# importable as a module path (from tensorflow.compat.v1.keras.backend import ...)
_backend = _PassThrough(lambda: _tf.keras.backend, set_session=_set_session,
                        get_session=_get_session)
_layers = _PassThrough(lambda: _tf.keras.layers, CuDNNLSTM=_cudnn_legacy.CuDNNLSTM,
                       CuDNNGRU=_cudnn_legacy.CuDNNGRU)
keras = _PassThrough(lambda: _tf.keras, backend=_backend, layers=_layers)
_sys.modules[__name__ + ".keras"] = keras
_sys.modules[__name__ + ".keras.backend"] = _backend
_sys.modules[__name__ + ".keras.layers"] = _layers


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    """No-op: dlframe always executes eagerly."""


def enable_v2_behavior():
    """No-op: dlframe always behaves as TF2."""


def enable_resource_variables():
    """No-op: dlframe's Variables are always resource variables."""


def executing_eagerly():
    """False while a dlframe.function is being traced, else True."""
    return _tf.executing_eagerly()


def set_random_seed(seed):
    """TF1's name of ``tf.random.set_seed``."""
    _tf.random.set_seed(seed)


def py_func(func, inp, Tout, stateful=True, name=None):
    """TF1's ``py_func``: ``tf.numpy_function``."""
    return _tf.numpy_function(func, inp, Tout, stateful=stateful, name=name)


class _Options:
    """A permissive options message (ConfigProto, GPUOptions): any field is settable."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _Options()
        setattr(self, name, value)
        return value


class GPUOptions(_Options):
    """Accepted for TF compatibility (dlframe's GPU memory is CuPy's pool)."""


class ConfigProto(_Options):
    """Accepted for TF compatibility; nothing reads it (there are no sessions)."""


# -- tf.compat.v1.logging: Python logging of the 'tensorflow' logger ----------------
def _logger():   # tf.get_logger(); dlframe's own 'dlframe' logger sits under it
    return _logging.getLogger("tensorflow")


def _set_verbosity(v):
    """Sets the threshold of the 'tensorflow' logger (DEBUG, INFO, WARN, ERROR,
    FATAL), which dlframe's own records obey too."""
    _logger().setLevel(v)


def _get_verbosity():
    return _logger().getEffectiveLevel()


def _log(level, msg, *args, **kwargs):
    _logger().log(level, msg, *args, **kwargs)


logging = _Namespace(
    DEBUG=_logging.DEBUG, INFO=_logging.INFO, WARN=_logging.WARNING,
    WARNING=_logging.WARNING, ERROR=_logging.ERROR, FATAL=_logging.FATAL,
    set_verbosity=_set_verbosity, get_verbosity=_get_verbosity, log=_log,
    debug=lambda msg, *a, **k: _logger().debug(msg, *a, **k),
    info=lambda msg, *a, **k: _logger().info(msg, *a, **k),
    warning=lambda msg, *a, **k: _logger().warning(msg, *a, **k),
    warn=lambda msg, *a, **k: _logger().warning(msg, *a, **k),
    error=lambda msg, *a, **k: _logger().error(msg, *a, **k),
    fatal=lambda msg, *a, **k: _logger().critical(msg, *a, **k),
)


# TF1 top-level names that TF2 moved into a namespace: name -> (namespace, TF2 name)
_MOVED = {"matrix_diag": ("linalg", "diag"), "matrix_diag_part": ("linalg", "diag_part"),
          "matrix_set_diag": ("linalg", "set_diag"),
          "matrix_band_part": ("linalg", "band_part"),
          "diag": ("linalg", "tensor_diag"), "diag_part": ("linalg", "tensor_diag_part"),
          "floor_div": ("math", "floordiv"), "mod": ("math", "floormod"),
          "substr": ("strings", "substr"),
          "string_to_number": ("strings", "to_number"),
          "string_to_hash_bucket": ("strings", "to_hash_bucket"),
          "string_to_hash_bucket_fast": ("strings", "to_hash_bucket_fast"),
          "string_to_hash_bucket_strong": ("strings", "to_hash_bucket_strong")}
_MOVED.update({name: ("math", name) for name in (
    "segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod",
    "unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_max",
    "unsorted_segment_min", "unsorted_segment_prod", "unsorted_segment_sqrt_n")})
_MOVED.update({name: ("quantization", name) for name in (
    "fake_quant_with_min_max_args", "fake_quant_with_min_max_vars",
    "fake_quant_with_min_max_vars_per_channel")})


# modules holding TF1 top-level names (their __all__), looked up before TF2's names
_TF1_TABLES = ("v1_ops", "v1_graph", "v1_variables", "v1_platform", "v1_random",
               "v1_ops_args")
_TF1_RENAMED = {"Variable": "VariableV1"}
_MISSING = object()


def _tf1_name(name):
    import importlib
    for table in _TF1_TABLES:
        module = importlib.import_module(f"dlframe.compat.{table}")
        attr = _TF1_RENAMED.get(name, name)
        if attr in module.__all__:
            value = getattr(module, attr)
            globals()[name] = value
            return value
    return _MISSING


# TF1 modules whose names differ from TF2's: their TF1 functions in front of TF2's
_TF1_MODULES = {"train": "v1_train", "metrics": "v1_metrics", "losses": "v1_losses",
                "nn": "v1_nn", "random": "v1_random", "data": "v1_data",
                "image": "v1_image"}


def _tf1_module(name):
    import importlib
    module = importlib.import_module(f"dlframe.compat.{_TF1_MODULES[name]}")
    extra = {k: getattr(module, k) for k in module.__all__}
    namespace = _PassThrough(lambda: getattr(_tf, name), **extra)
    globals()[name] = namespace
    return namespace


def trainable_variables(scope=None):
    """The trainable variables of the running tf.estimator ``model_fn`` (TF1's
    graph collection); [] elsewhere."""
    from dlframe.compat import v1_train
    return v1_train.trainable_variables(scope)


def global_variables(scope=None):
    """The variables of the running tf.estimator ``model_fn``; [] elsewhere."""
    from dlframe.compat import v1_train
    return v1_train.global_variables(scope)


def __getattr__(name):
    """Other names: the TF2 API's (most TF1 names kept their meaning)."""
    if name.startswith("__"):   # module protocol names (__path__) are v1's own
        raise AttributeError(name)
    if name in _TF1_MODULES:
        return _tf1_module(name)
    value = _tf1_name(name)
    if value is not _MISSING:
        return value
    if name in _MOVED:
        namespace, tf2_name = _MOVED[name]
        return getattr(getattr(_tf, namespace), tf2_name)
    try:
        return getattr(_tf, name)
    except AttributeError:
        raise AttributeError(f"module 'dlframe.compat.v1' has no attribute {name!r}") \
            from None
