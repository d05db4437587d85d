"""``keras.config``: Keras 3's global settings.

The float type, epsilon and image data format are the same state as
``keras.backend.floatx()`` and friends (kept in ``dlframe.config``); the dtype policy
is ``keras.mixed_precision``'s global policy and traceback filtering is
``tf.debugging``'s flag, so every spelling reads and writes one setting.
"""

from dlframe import config as _config
from dlframe.keras import mixed_precision as _mixed_precision
from dlframe.ops import debugging_extra as _debugging

_FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
_DATA_FORMATS = ("channels_first", "channels_last")

_STATE = {"unsafe_deserialization": False, "interactive_logging": True,
          "max_epochs": None, "max_steps_per_epoch": None, "flash_attention": None}

floatx = _config.floatx
epsilon = _config.epsilon
image_data_format = _config.image_data_format
set_epsilon = _config.set_epsilon
dtype_policy = _mixed_precision.global_policy
enable_traceback_filtering = _debugging.enable_traceback_filtering
disable_traceback_filtering = _debugging.disable_traceback_filtering
is_traceback_filtering_enabled = _debugging.is_traceback_filtering_enabled


def backend():
    """The name of the backend Keras runs on: always ``'tensorflow'``."""
    return "tensorflow"


def set_backend(backend):
    """Accepts ``'tensorflow'`` only: dlframe is the TensorFlow backend.

    Args:
      backend: the backend name.

    Raises:
      ValueError: any other backend.
    """
    if backend != "tensorflow":
        raise ValueError("dlframe runs Keras on its TensorFlow backend only. Received: "
                         f"backend={backend!r}")


def set_floatx(value):
    """Sets the default float type.

    Args:
      value: ``'bfloat16'``, ``'float16'``, ``'float32'`` or ``'float64'``.

    Raises:
      ValueError: any other value.
    """
    if value not in _FLOAT_TYPES:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of "
                         f"{set(_FLOAT_TYPES)}")
    _config.set_floatx(str(value))


def set_image_data_format(data_format):
    """Sets the default image layout.

    Args:
      data_format: ``'channels_last'`` or ``'channels_first'``.

    Raises:
      ValueError: any other value.
    """
    if data_format not in _DATA_FORMATS:
        raise ValueError("The `data_format` argument must be one of "
                         f"{set(_DATA_FORMATS)}. Received: data_format={data_format}")
    _config.set_image_data_format(str(data_format))


def set_dtype_policy(policy):
    """Sets the global dtype policy (``keras.mixed_precision.set_global_policy``).

    Args:
      policy: a policy name (``'mixed_float16'``, ``'float32'``...) or a
        ``DTypePolicy``.
    """
    if not isinstance(policy, (str, _mixed_precision.Policy)):
        raise ValueError(  # noqa: TRY004 - Keras raises ValueError here"Invalid `policy` argument. Expected the string name of a "
                         "policy (such as 'mixed_float16') or a `DTypePolicy` instance. "
                         f"Received: policy={policy!r}")
    _mixed_precision.set_global_policy(policy)


def enable_unsafe_deserialization():
    """Lets ``load_model`` rebuild ``Lambda`` layers from stored Python bytecode."""
    _STATE["unsafe_deserialization"] = True


def unsafe_deserialization_enabled():
    """Whether ``enable_unsafe_deserialization`` was called (read by ``load_model``)."""
    return _STATE["unsafe_deserialization"]


def enable_interactive_logging():
    """Progress bars and summaries print to stdout (the default)."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Records that progress output should go to the logging module, not stdout."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled():
    """Whether interactive logging is on (default True)."""
    return _STATE["interactive_logging"]


def _non_negative_or_none(value, name):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise ValueError(f"`{name}` must be None or a non-negative integer. Received: "
                         f"{name}={value!r}")
    return value


def max_epochs():
    """The cap on ``fit``'s epochs set by ``set_max_epochs`` (None: no cap)."""
    return _STATE["max_epochs"]


def set_max_epochs(max_epochs):
    """Caps the number of epochs ``fit`` runs (None removes the cap).

    Args:
      max_epochs: a non-negative int or None.
    """
    _STATE["max_epochs"] = _non_negative_or_none(max_epochs, "max_epochs")


def max_steps_per_epoch():
    """The cap on steps per epoch set by ``set_max_steps_per_epoch`` (None: no cap)."""
    return _STATE["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Caps the number of steps per epoch (None removes the cap).

    Args:
      max_steps_per_epoch: a non-negative int or None.
    """
    _STATE["max_steps_per_epoch"] = _non_negative_or_none(max_steps_per_epoch,
                                                          "max_steps_per_epoch")


def enable_flash_attention():
    """Records a preference for flash attention (dlframe's attention is unchanged)."""
    _STATE["flash_attention"] = True


def disable_flash_attention():
    """Records that flash attention should not be used."""
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    """The flash attention preference: None (automatic), True or False."""
    return _STATE["flash_attention"]


def is_nnx_enabled():
    """Always False: Flax NNX belongs to the JAX backend."""
    return False
