"""Keras 3's ``.keras`` model files: a zip archive of ``config.json`` (the model's
Keras 3 config plus ``build_config`` and ``compile_config``), ``metadata.json`` and
``model.weights.h5`` (the ``keras3_layout`` weights, optimizer state included) and,
for lookup layers whose vocabulary was learned by ``adapt``, Keras 3's
``assets/<layer path>/vocabulary.txt``.

Files TensorFlow's Keras writes load here, and files written here load in
TensorFlow's Keras (for layers both libraries have). Archives are written to a
temporary file and moved into place, like weights files.
"""

import datetime
import io
import json
import os
import tempfile
import zipfile

from dlframe.keras.saving import keras3_config, keras3_layout, keras3_operations, weights_io
from dlframe.train.checkpoint_io import publish_mode

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
FORMAT_VERSION = "3.0.0"   # the Keras version whose file layout this writes


def use_archive(filepath, save_format=None):
    """Whether ``model.save(filepath, save_format=...)`` writes a zip archive."""
    if save_format is not None:
        return str(save_format).lower() == "keras"
    return os.fspath(filepath).lower().endswith(".keras")


def _compile_config(model):
    from dlframe.keras.saving import model_io
    training = model_io._compile_config(model)
    if training is None:
        return None
    return {"optimizer": keras3_config.to_keras3(training["optimizer_config"],
                                                 "keras.optimizers"),
            "loss": keras3_config.to_keras3(training["loss"], "keras.losses"),
            "loss_weights": training["loss_weights"],
            "metrics": keras3_config.to_keras3(training["metrics"], "keras.metrics"),
            "weighted_metrics": keras3_config.to_keras3(training["weighted_metrics"],
                                                        "keras.metrics"),
            "run_eagerly": bool(getattr(model, "_run_eagerly", False)),
            "steps_per_execution": int(getattr(model, "_steps_per_execution", 1) or 1),
            "jit_compile": False}


def model_config(model):
    """The Keras 3 ``config.json`` content of ``model`` (a dict)."""
    from dlframe.keras.utils import generic_utils
    config = keras3_config.to_keras3(generic_utils.serialize_keras_object(model))
    config = keras3_operations.operations_to_keras3(config)
    config["build_config"] = model.get_build_config()
    config["compile_config"] = _compile_config(model)
    return config


def save(model, filepath, include_optimizer=True):
    """Writes ``model`` to the ``.keras`` archive ``filepath``."""
    config = json.dumps(model_config(model), default=_json_default)
    metadata = json.dumps({"keras_version": FORMAT_VERSION, "producer": "dlframe",
                           "date_saved": datetime.datetime.now().strftime(
                               "%Y-%m-%d@%H:%M:%S")})
    optimizer = None
    if include_optimizer and getattr(model, "_is_compiled", False) and \
            getattr(model.optimizer, "built", False):
        optimizer = model.optimizer
    weights = io.BytesIO()
    with weights_io._h5py().File(weights, "w") as f:
        keras3_layout.write(f, model, optimizer)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp.keras")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(METADATA, metadata)
            z.writestr(CONFIG, config)
            z.writestr(WEIGHTS, weights.getvalue())
            for name, layer in _vocabulary_assets(model):
                words = layer.get_vocabulary(include_special_tokens=True)
                z.writestr(name, "\n".join(str(w) for w in words))
        publish_mode(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _vocabulary_assets(model):
    """``(archive name, layer)`` of each lookup layer (StringLookup, IntegerLookup,
    TextVectorization) whose vocabulary was learned rather than given in its config,
    named as Keras 3 names them."""
    for path, layer in keras3_layout.entries(model):
        if not (hasattr(layer, "get_vocabulary") and hasattr(layer, "set_vocabulary")):
            continue
        if layer.get_config().get("vocabulary") is not None:
            continue
        if not layer.get_vocabulary(include_special_tokens=False):
            continue   # never adapted: nothing to restore
        yield "/".join(p for p in ("assets", path, "vocabulary.txt") if p), layer


def _read_vocabularies(z, model):
    names = set(z.namelist())
    for path, layer in keras3_layout.entries(model):
        name = "/".join(p for p in ("assets", path, "vocabulary.txt") if p)
        if name not in names or not hasattr(layer, "set_vocabulary"):
            continue
        words = z.read(name).decode("utf-8").splitlines()
        while words and words[-1] == "":
            words.pop()
        if "int" in str(getattr(layer, "vocabulary_dtype", "string")):
            words = [int(w) for w in words]
        if getattr(layer, "output_mode", "") == "tf_idf":
            # placeholders: the idf weights come with the layer's variables, read next
            layer.set_vocabulary(words, idf_weights=[0.0] * len(words))
        else:
            layer.set_vocabulary(words)


def _json_default(obj):
    if hasattr(obj, "as_list"):
        return obj.as_list()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "name") and hasattr(obj, "is_floating"):   # a DType
        return obj.name
    raise TypeError(f"Cannot serialize {obj!r} (of type {type(obj).__name__}) to JSON.")


def read_config(filepath):
    """The parsed ``config.json`` of the archive ``filepath``."""
    with zipfile.ZipFile(filepath) as z:
        if CONFIG not in z.namelist():
            raise ValueError(f"{filepath} is a zip file without {CONFIG}: not a Keras "
                             f"model archive. It holds {z.namelist()[:5]}")
        config = json.loads(z.read(CONFIG))
    if not isinstance(config, dict) or "class_name" not in config or \
            "config" not in config:
        raise ValueError(f"{filepath} is not a valid Keras 3 zip archive: its {CONFIG} "
                         "should hold a serialized model ({'class_name', 'config', "
                         f"...}}). Received: {str(config)[:200]}")
    return config


def load(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model stored in the ``.keras`` archive ``filepath``."""
    from dlframe.keras import models
    from dlframe.keras.saving import model_io
    raw = read_config(filepath)
    config = keras3_config.from_keras3(raw, custom_objects, safe_mode=safe_mode)
    model = models.model_from_config(
        {"class_name": config["class_name"], "config": config["config"]},
        custom_objects=custom_objects)
    build_config = config.get("build_config")
    if not model.built and build_config:
        model.build_from_config(build_config)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model_io.compile_from_config(model, compile_config, custom_objects)
    with zipfile.ZipFile(filepath) as z:
        _read_vocabularies(z, model)
        if WEIGHTS not in z.namelist():
            return model
        data = io.BytesIO(z.read(WEIGHTS))
    with weights_io._h5py().File(data, "r") as f:
        keras3_layout.read(f, model)
        if compile and compile_config and getattr(model, "optimizer", None) is not None:
            keras3_layout.read_optimizer(f, model.optimizer, model.trainable_variables)
    return model
