"""``tf.saved_model``: save and load Keras models as SavedModel directories.

dlframe's SavedModel directories hold the model in Keras's single-file format (see
``dlframe.keras.saving.saved_model_io``); they are read back by ``tf.saved_model.load``
and ``tf.keras.models.load_model``. Other objects (a ``tf.Module`` with
``tf.function`` methods) cannot be saved without their Python code: keep their
variables with ``tf.train.Checkpoint``.
"""

from dlframe.keras.saving import saved_model_io as _io

SERVING = "serve"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
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


def save(obj, export_dir, signatures=None, options=None):
    """Writes the Keras model ``obj`` as a SavedModel directory at ``export_dir``.

    Args:
      obj: a Keras Model.
      export_dir: the directory to write (created if needed).
      signatures: unused; the saved model always serves ``serving_default``.
      options: unused.

    Raises:
      NotImplementedError: ``obj`` is not a Keras model.
    """
    from dlframe.keras.engine.training import TrainingMixin
    if not isinstance(obj, TrainingMixin):
        raise NotImplementedError(
            f"dlframe's tf.saved_model.save writes Keras models only; received "
            f"{type(obj).__name__}. Save its variables with tf.train.Checkpoint(obj=...) "
            "and rebuild the object in Python to restore them.")
    _io.save(obj, export_dir)


def load(export_dir, tags=None, options=None):
    """The object saved in ``export_dir``: call it like the model, or ``serve(x)``
    for a directory ``model.export`` wrote; its ``signatures['serving_default']``
    returns ``{output name: Tensor}``."""
    return _io.load_artifact(export_dir)
