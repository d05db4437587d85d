# ruff: noqa: F401 - re-export tables
"""``keras.utils``: serialization registry, data helpers, plot_model, summaries."""

import random as _py_random

from dlframe.keras.utils import experimental
from dlframe.keras.utils.audio_dataset_utils import audio_dataset_from_directory
from dlframe.keras.utils.backend_utils import (
    Config,
    clear_session,
    get_source_inputs,
    is_keras_tensor,
    pack_x_y_sample_weight,
    standardize_dtype,
    unpack_x_y_sample_weight,
)
from dlframe.keras.utils.dataset_utils import split_dataset
from dlframe.keras.utils.generic_utils import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from dlframe.keras.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from dlframe.keras.utils.layer_utils import count_params, print_summary
from dlframe.keras.utils.multi_gpu_utils import multi_gpu_model
from dlframe.keras.utils.py_dataset import PyDataset, Sequence
from dlframe.keras.utils.sequence_utils import pad_sequences
from dlframe.keras.utils.text_dataset_utils import text_dataset_from_directory
from dlframe.keras.utils.timeseries_dataset_utils import timeseries_dataset_from_array
from dlframe.keras.utils.vis_utils import model_to_dot, plot_model


def serialize_keras_object(obj):
    """Keras 3's config dict of ``obj`` (as ``keras.saving.serialize_keras_object``;
    Keras 2's format stays in ``keras.utils.legacy``).

    Args:
      obj: a layer, model, optimizer, loss, ... a function, or a plain value.
    """
    from dlframe.keras.saving import serialization
    return serialization.serialize_keras_object(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Rebuilds an object from a Keras 3 or Keras 2 config dict, or a registered name
    (as ``keras.saving.deserialize_keras_object``).

    Args:
      config: the dict or name.
      custom_objects: ``{name: class or function}`` for unregistered objects.
      safe_mode: refuse ``Lambda`` functions stored as bytecode.
      **kwargs: Keras 2's ``module_objects``/``printable_module_name``.
    """
    from dlframe.keras.saving import serialization
    return serialization.deserialize_keras_object(config, custom_objects, safe_mode,
                                                  **kwargs)


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels; returns a NumPy array (as Keras does)."""
    from dlframe.core.tensor import convert_to_tensor
    from dlframe.ops import creation, reduction
    from dlframe.ops import math as _math
    labels = convert_to_tensor(y)
    shape = list(labels.shape)
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    labels = _math.cast(labels, "int64")
    from dlframe.ops import array as _array
    flat = _array.reshape(labels, [-1])
    if num_classes is None:
        num_classes = int(reduction.reduce_max(flat).numpy()) + 1
    low = int(reduction.reduce_min(flat).numpy()) if flat.shape[0] else 0
    high = int(reduction.reduce_max(flat).numpy()) if flat.shape[0] else 0
    if high >= num_classes or low < -num_classes:
        # Keras lets NumPy raise IndexError here; say which argument is wrong
        bad = high if high >= num_classes else low
        raise IndexError(f"to_categorical: argument `y` holds the label {bad}, out of "
                         f"range for num_classes={num_classes} (labels must be in "
                         f"[-{num_classes}, {num_classes}))")
    if low < 0:   # Keras indexes with NumPy: -1 is the last class
        flat = _math.where(flat < 0, flat + num_classes, flat)
    onehot = creation.one_hot(flat, num_classes, dtype=dtype)
    return _array.reshape(onehot, shape + [num_classes]).numpy()


def normalize(x, axis=-1, order=2):
    """Scales ``x`` to unit L``order`` norm along ``axis``; returns a NumPy array."""
    from dlframe.core.tensor import convert_to_tensor
    from dlframe.ops import math as _math
    from dlframe.ops import reduction
    t = convert_to_tensor(x)
    if not t.dtype.is_floating:
        # Keras divides a NumPy array in NumPy: integers give float64
        t = _math.cast(t, "float64" if hasattr(x, "__array_interface__") else "float32")
    if t.ndim == 1 and hasattr(x, "__array_interface__"):
        # Keras' NumPy path divides by a (1, 1) norm of the whole vector (axis 0 or
        # -1): a vector comes back as (1, n)
        if axis not in (0, -1, None):
            raise ValueError(f"normalize: `axis` must be 0, -1 or None for a 1-D "
                             f"array; received axis={axis}")
        t, axis = t[None], -1
    if order == 2:
        norm = _math.sqrt(reduction.reduce_sum(t * t, axis=axis, keepdims=True))
    elif order == 1:
        norm = reduction.reduce_sum(_math.abs(t), axis=axis, keepdims=True)
    else:
        norm = reduction.reduce_sum(_math.abs(t) ** order, axis=axis,
                                    keepdims=True) ** (1.0 / order)
    norm = _math.where(_math.equal(norm, 0), _math.ones_like(norm), norm)
    return (t / norm).numpy()


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy's global RNG and dlframe's random ops.

    From then on, a random initializer built with ``seed=None`` takes Keras 3's
    default seed from Python's ``random`` when it is constructed (the same initial
    weights as TF 2.21 for the same program).

    Args:
      seed: an int.

    Raises:
      ValueError: ``seed`` is not an int.
    """
    if not isinstance(seed, int):
        raise ValueError(  # noqa: TRY004 - TF's error type
            f"Expected `seed` argument to be an integer. Received: seed={seed} (of "
            f"type {type(seed)})")
    _py_random.seed(seed)
    from dlframe.backends.base import np
    np.random.seed(seed)
    from dlframe.ops import random as _random
    _random.set_seed(seed)
    from dlframe.keras import default_seeds
    default_seeds.enable()
    from dlframe.keras import random as _keras_random   # seed=None draws restart
    _keras_random.reset_global_seed_generator()


def get_file(*args, **kwargs):
    from dlframe.keras.utils.file_utils import get_file as _get_file
    return _get_file(*args, **kwargs)


get_file.__doc__ = "Downloads a file into Keras' cache unless it is there (file_utils)."


_IMAGE_UTILS = ("array_to_img", "image_dataset_from_directory", "img_to_array",
                "load_img", "save_img")


def __getattr__(name):
    if name in _IMAGE_UTILS:   # imported on use: image_utils needs keras.layers
        from dlframe.keras.utils import image_utils
        return getattr(image_utils, name)
    if name == "legacy":   # Keras 2's serialization format, as keras.utils.legacy
        import importlib
        return importlib.import_module("dlframe.keras.utils.legacy")
    if name == "FeatureSpace":   # imported on use: it is built on keras.layers
        from dlframe.keras.utils.feature_space import FeatureSpace
        return FeatureSpace
    # Progbar and friends come from the training issue's modules once they exist.
    if name == "Progbar":
        from dlframe.keras.callbacks import Progbar
        return Progbar
    raise AttributeError(f"module 'dlframe.keras.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_IMAGE_UTILS) | {"FeatureSpace", "Progbar",
                                                        "legacy"})
