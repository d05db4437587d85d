"""``model.save`` / ``load_model``: Keras 2's single-file HDF5 model format (paths
without an HDF5 suffix are SavedModel directories holding such a file).

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
      filepath: ``*.h5``/``*.hdf5``/``*.keras``: one HDF5 file; any other path: a
        SavedModel directory (Keras 2's default), see ``saved_model_io``.
      overwrite: whether to replace an existing file.
      include_optimizer: whether to store the optimizer's state.
      save_format: ``'tf'`` or ``'h5'`` to override the choice by suffix.
    """
    from dlframe.keras.saving import saved_model_io
    filepath = os.fspath(filepath)
    if saved_model_io.use_directory(filepath, save_format):
        return saved_model_io.save(model, filepath, overwrite, include_optimizer)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"File {filepath} already exists and overwrite=False.")
    config = model.to_json()
    training = _compile_config(model)

    def write(f):
        f.attrs["model_config"] = config
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "2.15.0"
        if training is not None:
            f.attrs["training_config"] = json.dumps(training, default=_default)
        weights_io.write_weights_group(f.create_group("model_weights"), model, False)
        if include_optimizer and training is not None and model.optimizer.built:
            weights_io.write_optimizer_group(f, model.optimizer)
    weights_io._atomic_write(filepath, write)


def _default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, **kwargs):
    """A model saved by ``save_model`` (compiled again when it was compiled)."""
    from dlframe.keras import losses, metrics, models, optimizers
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise OSError(f"No file or directory found at {filepath}")
    if os.path.isdir(filepath):
        from dlframe.keras.saving import saved_model_io
        return saved_model_io.load_keras_model(filepath, custom_objects, compile)
    import zipfile
    if zipfile.is_zipfile(filepath):
        raise ValueError(
            f"{filepath} is a Keras 3 zip archive (config.json + model.weights.h5), "
            "which dlframe does not read yet; dlframe writes and reads HDF5 model files "
            "(also under the .keras suffix). From TensorFlow, save with "
            "model.save('model.h5'), or rebuild the model in code and load "
            "model.save_weights('w.weights.h5').")
    h5py = weights_io._h5py()
    with h5py.File(filepath, "r") as f:
        config = f.attrs["model_config"]
        config = config.decode("utf8") if isinstance(config, bytes) else config
        model = models.model_from_json(config, custom_objects=custom_objects)
        weights_io.read_weights_group(f["model_weights"], model)
        training = f.attrs.get("training_config")
        if compile and training is not None:
            training = json.loads(training.decode("utf8") if isinstance(training, bytes)
                                  else training)
            custom = custom_objects or {}

            def de_loss(x):
                if isinstance(x, dict) and "class_name" not in x:
                    return {k: de_loss(v) for k, v in x.items()}
                if isinstance(x, list):
                    return [de_loss(v) for v in x]
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
            opt = optimizers.deserialize(training["optimizer_config"], custom)
            model.compile(optimizer=opt, loss=de_loss(training["loss"]),
                          metrics=de_metric(training.get("metrics")),
                          weighted_metrics=de_metric(training.get("weighted_metrics")),
                          loss_weights=training.get("loss_weights"))
            weights_io.read_optimizer_group(f, model.optimizer, model.trainable_variables)
    return model
