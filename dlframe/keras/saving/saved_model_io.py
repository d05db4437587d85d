"""SavedModel directories for Keras models.

Keras 2's ``model.save(path)`` writes a SavedModel *directory* when ``path`` has no
``.h5``/``.hdf5``/``.keras`` suffix; ``tf.saved_model.save``/``load`` use the same
directories. dlframe does not write TensorFlow's graph protocol buffers: the directory
holds the model in the single-file format (``keras_model.h5``: architecture, weights,
compile settings and optimizer state) and an empty ``assets/`` folder, so programs that
save, list, reload or delete the directory work unchanged, and ``tf.saved_model.load``
returns a callable object with a ``serving_default`` signature.

``tf.saved_model.save`` of any other object (a ``tf.Module``, a subclassed model, or
with explicit ``signatures``) writes the by-value layout of ``object_io`` instead;
``contains_saved_model`` and ``load_keras_model`` read both layouts.

A model whose layers include classes of the user's code also gets a by-value copy
in ``OBJECT_DIR`` (``object_io``'s layout, classes included): TensorFlow loads such a
SavedModel in a process that does not define the classes (it revives the traced
functions), and dlframe loads the copy when the config names unknown classes.
"""

import os
import shutil

from dlframe.keras.saving import model_io, object_io

MODEL_FILE = "keras_model.h5"
ARCHIVE_FILE = "model.keras"
MODEL_FILES = (MODEL_FILE, ARCHIVE_FILE)
OBJECT_DIR = "by_value"
_H5_SUFFIXES = (".h5", ".hdf5", ".keras")


def use_directory(filepath, save_format=None):
    """Whether ``model.save(filepath, save_format)`` writes a SavedModel directory."""
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt not in ("tf", "tensorflow", "h5", "hdf5", "keras"):
            raise ValueError("Unknown format. Received: `save_format`="
                             f"{save_format!r}. Expected 'tf', 'h5' or 'keras'.")
        return fmt in ("tf", "tensorflow")
    return not os.fspath(filepath).lower().endswith(_H5_SUFFIXES)


def _model_file(export_dir):
    """The model file in ``export_dir`` (``model.export`` writes ``ARCHIVE_FILE``)."""
    for name in MODEL_FILES:
        path = os.path.join(os.fspath(export_dir), name)
        if os.path.isfile(path):
            return path
    return None


def contains_saved_model(export_dir):
    """True when ``export_dir`` is a SavedModel directory dlframe wrote."""
    return _model_file(export_dir) is not None or object_io.contains_object(export_dir)


def save(model, export_dir, overwrite=True, include_optimizer=True,
         model_file=MODEL_FILE):
    """Writes ``model`` into the directory ``export_dir`` (created if needed) as
    ``model_file`` (HDF5, or a ``.keras`` archive for ``ARCHIVE_FILE``)."""
    export_dir = os.fspath(export_dir)
    if os.path.isfile(export_dir):
        raise FileExistsError(f"Cannot save a SavedModel directory at {export_dir}: a "
                              "file with that name exists.")
    if not overwrite and contains_saved_model(export_dir):
        raise FileExistsError(f"SavedModel {export_dir} already exists and "
                              "overwrite=False.")
    os.makedirs(os.path.join(export_dir, "assets"), exist_ok=True)
    stale = os.path.join(export_dir, object_io.OBJECT_FILE)  # an earlier object save
    if os.path.isfile(stale):
        os.remove(stale)
    model_io.save_model(model, os.path.join(export_dir, model_file),
                        include_optimizer=include_optimizer)
    _save_by_value(model, os.path.join(export_dir, OBJECT_DIR))


def _user_classes(model):
    """Whether ``model`` or one of its layers is of a class outside dlframe."""
    layers = getattr(model, "_flatten_layers", None)
    found = layers(include_self=True) if layers is not None else [model]
    return any(type(layer).__module__.split(".")[0] != "dlframe" for layer in found)


def _save_by_value(model, directory):
    """The by-value copy a process without the model's classes can load; best
    effort: a model that cannot be pickled keeps only its config file."""
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    if not _user_classes(model):
        return
    try:
        object_io.save(model, directory)
    except (ValueError, TypeError, AttributeError, OSError):
        shutil.rmtree(directory, ignore_errors=True)


def load_keras_model(export_dir, custom_objects=None, compile=True):
    """The Keras model stored in the SavedModel directory ``export_dir``."""
    export_dir = os.fspath(export_dir)
    if _model_file(export_dir) is None and object_io.contains_object(export_dir):
        return _saved_keras_object(export_dir)
    if not contains_saved_model(export_dir):
        raise OSError(
            f"{export_dir} is a directory without {MODEL_FILE}: dlframe reads the "
            "SavedModel directories it writes (model.save(dir), tf.saved_model.save), not "
            "TensorFlow's graph protos. Re-save the model from TensorFlow with "
            "model.save('model.h5') or model.save_weights('w.h5') to move it to dlframe.")
    by_value = os.path.join(export_dir, OBJECT_DIR)
    try:
        return model_io.load_model(_model_file(export_dir),
                                   custom_objects=custom_objects, compile=compile)
    except (ValueError, TypeError) as err:
        # the config names classes this process does not define: the copy saved
        # with them by value still loads
        if "Unknown" not in str(err) or not object_io.contains_object(by_value):
            raise
        return _saved_keras_object(by_value)


def _saved_keras_object(export_dir):
    """The Keras model ``tf.saved_model.save`` wrote by value (a subclassed model),
    as it was saved (compiled or not)."""
    from dlframe.keras.engine.model import Model
    model = object_io.load(export_dir)
    if not isinstance(model, Model):
        raise ValueError(  # noqa: TRY004 - TF raises ValueError here
            f"Unable to load {export_dir} as a Keras model: it holds a "
            f"{type(model).__name__}. Use tf.saved_model.load({export_dir!r}).")
    return model


class _ServingSignature:
    """``loaded.signatures['serving_default']``: keyword inputs (one input may also
    come by position) in, a dict ``{output name: Tensor}`` out (Keras 2 names
    outputs after their layers; Keras 3's ``model.export`` names a Tensor or list of
    outputs ``output_0``...)."""

    def __init__(self, model, layer_output_names=True):
        self._model = model
        self._layer_output_names = layer_output_names

    def _input_names(self):
        return list(getattr(self._model, "input_names", None) or [])

    def _output_names(self, count):
        names = list(getattr(self._model, "output_names", None) or []) \
            if self._layer_output_names else []
        return names if len(names) == count else [f"output_{i}" for i in range(count)]

    @property
    def structured_input_signature(self):
        """``((), {input name: TensorSpec})`` (Keras 2 names: the Input layers')."""
        from dlframe.core.tensor_spec import TensorSpec
        inputs = list(getattr(self._model, "inputs", None) or [])
        return ((), {n: TensorSpec([None, *t.shape.as_list()[1:]], t.dtype, name=n)
                     for n, t in zip(self._input_names(), inputs)})

    @property
    def structured_outputs(self):
        """``{output name: TensorSpec}``, as ``__call__`` names its outputs."""
        from dlframe.core.tensor_spec import TensorSpec
        outputs = getattr(self._model, "outputs", None) or []
        names = self._output_names(len(outputs))
        return {n: TensorSpec([None, *t.shape.as_list()[1:]], t.dtype, name=n)
                for n, t in zip(names, outputs)}

    def __call__(self, *args, **kwargs):
        model = self._model
        names = self._input_names()
        if len(names) == 1 and list(kwargs) == ["inputs"]:   # Keras 3's input name
            kwargs = {names[0]: kwargs["inputs"]}
        if len(args) > 1 or args and len(names) > 1:   # as TF: keywords only then
            raise TypeError(f"serving_default() takes its inputs {names} as keyword "
                            "arguments (too many positional arguments); received "
                            f"{len(args)} positional arguments.")
        if kwargs:
            missing = [n for n in names if n not in kwargs]
            if missing:
                raise TypeError(f"serving_default() missing inputs {missing}; it takes "
                                f"{names}. Received: {sorted(kwargs)}")
            inputs = [kwargs[n] for n in names]
        else:
            inputs = list(args)
        outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
        if isinstance(outputs, dict):
            return dict(outputs)
        flat = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(self._output_names(len(flat)), flat))


class LoadedSavedModel:
    """What ``tf.saved_model.load`` returns: call it like the model (``training``
    defaults to False); ``serve(x)`` (Keras 3's export endpoint) returns the outputs;
    ``signatures['serving_default']`` returns a dict of outputs.

    Attributes:
      signatures: ``{'serving_default': fn}`` (and ``'serve'`` for an export).
      variables, trainable_variables: the model's variables.
      keras_model: the underlying Keras model.
    """

    def __init__(self, model, manifest=None):
        self.keras_model = model
        self.signatures = {"serving_default": _ServingSignature(
            model, layer_output_names=manifest is None)}
        if manifest is not None:   # Keras 3's export: 'serve' is a signature too
            self.signatures = {"serve": self.signatures["serving_default"],
                               **self.signatures}
        self._input_specs = (manifest or {}).get("inputs")

    def __call__(self, inputs, training=False, **kwargs):
        return self.keras_model(inputs, training=training, **kwargs)

    def serve(self, *inputs):
        """Inference on ``inputs`` (one positional argument per model input)."""
        from dlframe.keras.saving import export
        x = inputs[0] if len(inputs) == 1 else list(inputs)
        export.check_inputs(self._input_specs, x)
        return self.keras_model(x, training=False)

    @property
    def variables(self):
        return self.keras_model.variables

    @property
    def trainable_variables(self):
        return self.keras_model.trainable_variables


def load_artifact(export_dir):
    """``tf.saved_model.load``: the ``LoadedSavedModel`` in ``export_dir`` (with the
    input specs ``model.export`` recorded, when it wrote the directory)."""
    from dlframe.keras.saving import export
    manifest = export.read_manifest(export_dir)
    model = (export.load_exported_model(export_dir) if manifest is not None
             else load_keras_model(export_dir, compile=False))
    return LoadedSavedModel(model, manifest)
