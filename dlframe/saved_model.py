"""``tf.saved_model``: save and load any object as a SavedModel directory.

Two layouts, both read by ``load`` and ``contains_saved_model``:

* a Keras functional or Sequential model saved without ``signatures`` keeps the
  Keras single-file format (``keras_model.h5``, see
  ``dlframe.keras.saving.saved_model_io``), which ``tf.keras.models.load_model``
  rebuilds from its config;
* anything else (a ``tf.Module`` with ``tf.function`` methods, a subclassed Keras
  model, any model with explicit ``signatures``) is saved *by value* with
  cloudpickle next to its variables (see ``dlframe.keras.saving.object_io``).

Differences from TensorFlow: ``load`` returns an object of the saved class (TF
returns a generic restored object holding only what was traced), so its Python
methods and properties work too. A loaded ``tf.function`` accepts, as TF's, only
calls fitting a signature it was traced for before saving (None dims take any
size; others raise TF's ValueError "Could not find matching concrete function"). Loading runs code stored in the directory: as TensorFlow's
documentation warns for SavedModels, load only directories from trusted sources.
"""

from dlframe.keras.saving import object_io as _object_io
from dlframe.keras.saving import saved_model_io as _io
from dlframe.train.asset import Asset  # noqa: F401 - tf.saved_model.Asset

# TF's SavedModel constants (tag names, directory layout, signature method names).
SERVING = "serve"
TRAINING = "train"
GPU = "gpu"
TPU = "tpu"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
DEBUG_DIRECTORY = "debug"
DEBUG_INFO_FILENAME_PB = "saved_model_debug_info.pb"
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
SAVED_MODEL_SCHEMA_VERSION = 1
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
CLASSIFY_INPUTS = "inputs"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
PREDICT_INPUTS = "inputs"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
PREDICT_OUTPUTS = "outputs"
REGRESS_INPUTS = "inputs"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
REGRESS_OUTPUTS = "outputs"
contains_saved_model = _io.contains_saved_model


class SaveOptions:
    """Accepted for compatibility; dlframe has no SavedModel save options."""

    def __init__(self, namespace_whitelist=None, save_debug_info=False,
                 function_aliases=None, experimental_io_device=None, **kwargs):
        self.experimental_io_device = experimental_io_device


class LoadOptions:
    """Accepted for compatibility; dlframe has no SavedModel load options."""

    def __init__(self, allow_partial_checkpoint=False, experimental_io_device=None,
                 **kwargs):
        self.experimental_io_device = experimental_io_device


def _keras_graph_model(obj):
    from dlframe.keras.engine.functional import Functional
    return isinstance(obj, Functional)


def save(obj, export_dir, signatures=None, options=None):
    """Writes ``obj`` and its variables as a SavedModel directory at ``export_dir``.

    Args:
      obj: a ``tf.Module``, a Keras model or layer, or another object holding
        variables and ``tf.function`` methods.
      export_dir: the directory to write (created if needed).
      signatures: None, a ``tf.function`` with an ``input_signature``, a
        ConcreteFunction (``f.get_concrete_function(tf.TensorSpec(...))``), or a
        dict ``{key: function}``. With None, a Keras model serves its ``call`` and
        another object its only ``tf.function`` attribute that has an
        ``input_signature`` (none when it has several or none).
      options: accepted for compatibility (``tf.saved_model.SaveOptions``).

    Raises:
      ValueError: ``obj`` is a number, string or container, a signature is not a
        function with an input signature, or part of ``obj`` cannot be stored.
    """
    if signatures is None and _keras_graph_model(obj):
        _io.save(obj, export_dir)
    else:
        _object_io.save(obj, export_dir, signatures)


def load(export_dir, tags=None, options=None):
    """The object saved in ``export_dir``.

    Args:
      export_dir: a directory ``save``, ``model.save(dir)`` or ``model.export``
        wrote.
      tags: accepted for compatibility.
      options: accepted for compatibility (``tf.saved_model.LoadOptions``).

    Returns:
      The saved object, with ``signatures`` mapping each signature key to a function
      taking keyword tensors and returning ``{output name: Tensor}``. A Keras
      functional model comes back wrapped: call it like the model, or ``serve(x)``
      for a directory ``model.export`` wrote.

    Loading executes code stored in the directory (pickled objects and classes):
    load only SavedModels from trusted sources.
    """
    if _object_io.contains_object(export_dir):
        return _object_io.load(export_dir)
    return _io.load_artifact(export_dir)
