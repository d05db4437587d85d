"""``model.save`` / ``load_model``: ``.keras`` paths get Keras 3's zip archive
(``keras_archive``), ``.h5``/``.hdf5`` Keras 2's single-file HDF5 model format, and
paths without a suffix SavedModel directories holding such a file.

Root attributes ``model_config`` (JSON architecture) and ``training_config``
(compile settings); weights under ``model_weights`` in the ``save_weights`` layout;
optimizer state under ``optimizer``. Written atomically like weights files.
"""

import json
import os

from dlframe.keras.saving import weights_io


def _compile_config(model):
    if not getattr(model, "_is_compiled", False):
        return None
    from dlframe.keras import losses, metrics, optimizers

    def ser_loss(x):
        if isinstance(x, dict):
            return {k: ser_loss(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [ser_loss(v) for v in x]
        return losses.serialize(x) if x is not None else None

    def ser_metric(x):
        if isinstance(x, dict):
            return {k: ser_metric(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [ser_metric(v) for v in x]
        return metrics.serialize(x)
    cm = model.compiled_metrics
    return {"optimizer_config": optimizers.serialize(model.optimizer),
            "loss": ser_loss(model.loss), "metrics": ser_metric(cm._spec),
            "weighted_metrics": ser_metric(cm._weighted_spec),
            "loss_weights": model.compiled_loss._weights_spec}


def save_model(model, filepath, overwrite=True, include_optimizer=True,
               save_format=None, **kwargs):
    """Saves architecture, weights and compile settings.

    Args:
      model: the Keras model.
      filepath: ``*.keras``: Keras 3's zip archive; ``*.h5``/``*.hdf5``: one HDF5
        file; any other path: a SavedModel directory (Keras 2's default), see
        ``saved_model_io``.
      overwrite: whether to replace an existing file.
      include_optimizer: whether to store the optimizer's state.
      save_format: ``'tf'``, ``'h5'`` or ``'keras'`` to override the choice by
        suffix.
      **kwargs: ``signatures`` for a SavedModel directory (as
        ``tf.saved_model.save``; the model is then stored by value and
        ``load_model`` returns it as saved); others are ignored.
    """
    from dlframe.keras.saving import keras_archive, saved_model_io
    filepath = os.fspath(filepath)
    if saved_model_io.use_directory(filepath, save_format):
        if kwargs.get("signatures") is not None:
            if not overwrite and saved_model_io.contains_saved_model(filepath):
                raise FileExistsError(f"SavedModel {filepath} already exists and "
                                      "overwrite=False.")
            from dlframe.keras.saving import object_io
            return object_io.save(model, filepath, kwargs["signatures"])
        return saved_model_io.save(model, filepath, overwrite, include_optimizer)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath} already exists and overwrite=False.")
    if keras_archive.use_archive(filepath, save_format):
        return keras_archive.save(model, filepath, include_optimizer)
    config = model.to_json()
    training = _compile_config(model)
    build_config = model.get_build_config() if getattr(model, "built", False) else None

    def write(f):
        f.attrs["model_config"] = config
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.15.0"
        if training is not None:
            f.attrs["training_config"] = json.dumps(training, default=_default)
        if build_config is not None:   # a subclassed model: its input shape
            f.attrs["build_config"] = json.dumps(build_config, default=_default)
        weights_io.write_weights_group(f.create_group("model_weights"), model)
        if include_optimizer and training is not None and model.optimizer.built:
            weights_io.write_optimizer_group(f, model.optimizer)
    weights_io._atomic_write(filepath, write)


def _default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def compile_from_config(model, training, custom_objects=None):
    """Compiles ``model`` from a stored compile configuration: Keras 2's
    ``training_config`` (``optimizer_config``...) or Keras 3's ``compile_config``
    (``optimizer``...)."""
    from dlframe.keras import losses, metrics, optimizers
    custom = custom_objects or {}

    def de_loss(x):
        if isinstance(x, dict) and "class_name" not in x:
            return {k: de_loss(v) for k, v in x.items()}
        if isinstance(x, list):
            return [de_loss(v) for v in x]
        if isinstance(x, str) and x not in custom:
            try:    # a built-in name stays a name, as Keras 3 reloads ``loss="mse"``
                losses.deserialize(x)
                return x
            except ValueError:
                pass
        return losses.deserialize(x, custom) if x is not None else None

    def de_metric(x):
        if isinstance(x, dict) and "class_name" not in x:
            return {k: de_metric(v) for k, v in x.items()}
        if isinstance(x, list):
            return [de_metric(v) for v in x]
        if x is None or x in ("accuracy", "acc", "crossentropy", "ce"):
            return x
        if isinstance(x, str) and x not in custom:
            try:    # a built-in name stays a name: history keys keep it
                metrics.deserialize(x)
                return x
            except ValueError:
                pass
        return metrics.deserialize(x, custom)
    opt = training.get("optimizer_config", training.get("optimizer"))
    opt = optimizers.deserialize(opt, custom) if isinstance(opt, dict) else opt
    extra = {k: training[k] for k in ("run_eagerly", "steps_per_execution",
                                      "jit_compile") if training.get(k) is not None}
    model.compile(optimizer=opt, loss=de_loss(training.get("loss")),
                  metrics=de_metric(training.get("metrics")),
                  weighted_metrics=de_metric(training.get("weighted_metrics")),
                  loss_weights=training.get("loss_weights"), **extra)


class ModelFileNotFoundError(FileNotFoundError, ValueError):
    """``load_model`` of a missing path: Keras 3 raises ValueError, Keras 2 OSError."""


class UnreadableModelFileError(OSError, ValueError):
    """``load_model`` of a file in no model format: Keras 3 raises ValueError, Keras 2
    OSError."""


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, **kwargs):
    """A model saved by ``save_model`` (compiled again when it was compiled).

    Args:
      filepath: a ``.keras`` zip archive (Keras 3's format), an HDF5 file or a
        SavedModel directory dlframe wrote.
      custom_objects: ``{name: class or function}`` for custom objects that are
        not registered with ``register_keras_serializable``.
      compile: whether to compile the model as it was saved.
      safe_mode: refuse to rebuild ``Lambda`` functions from stored bytecode
        (``.keras`` files; see ``keras.config.enable_unsafe_deserialization``).
    """
    from dlframe.keras import models
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise ModelFileNotFoundError(
            f"No file or directory found at {filepath} (File not found: "
            f"filepath={filepath}). Please ensure the file is an accessible `.keras` zip "
            "file.")
    if os.path.isdir(filepath):
        from dlframe.keras.saving import saved_model_io
        return saved_model_io.load_keras_model(filepath, custom_objects, compile)
    import zipfile
    if zipfile.is_zipfile(filepath):
        from dlframe.keras.saving import keras_archive
        return keras_archive.load(filepath, custom_objects, compile, safe_mode)
    h5py = weights_io._h5py()
    if not h5py.is_hdf5(filepath):
        raise UnreadableModelFileError(
            f"File format not supported: filepath={filepath}. It is neither a `.keras` "
            "zip archive nor an HDF5 file (or it is damaged).")
    with h5py.File(filepath, "r") as f:
        if "model_config" not in f.attrs:
            raise ValueError(f"No model config found in the file at {filepath}.")
        config = f.attrs["model_config"]
        config = json.loads(config.decode("utf8") if isinstance(config, bytes)
                            else config)
        version = f.attrs.get("keras_version", b"")
        if str(version.decode("utf8") if isinstance(version, bytes)
               else version).startswith("3"):
            # Keras 3 writes its own layer configs (dtype policies, new arguments)
            from dlframe.keras.saving import keras3_config
            config = keras3_config.from_keras3(config, custom_objects,
                                               safe_mode=safe_mode)
        model = models.model_from_config(config, custom_objects=custom_objects)
        build_config = f.attrs.get("build_config")
        if build_config is not None and not model.built:
            model.build_from_config(json.loads(build_config))
        weights_io.read_weights_group(f["model_weights"], model)
        training = f.attrs.get("training_config")
        if compile and training is not None:
            training = json.loads(training.decode("utf8") if isinstance(training, bytes)
                                  else training)
            compile_from_config(model, training, custom_objects)
            weights_io.read_optimizer_group(f, model.optimizer, model.trainable_variables)
    return model
