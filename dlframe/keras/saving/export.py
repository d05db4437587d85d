"""Keras 3's inference export: ``model.export(dir)``, ``keras.layers.TFSMLayer`` and
``tf.saved_model.load(dir).serve(x)``.

The artifact is dlframe's SavedModel directory (``saved_model_io``: the model as a
``model.keras`` archive plus ``assets/``), not TensorFlow's graph protocol buffers:
dlframe has no GraphDef runtime, and storing the model keeps reloading exact. It
adds ``export_manifest.json`` naming the endpoints (``serve``, and the
``serving_default`` signature) and the input specs ``serve`` checks. As a
TensorFlow export needs none of the Python that built the model, the model is also
stored by value (``by_value/``, the ``tf.saved_model.save`` layout of
``object_io``), which loading falls back to when the archive names custom layers
or functions that are not registered. Reloading needs dlframe; TensorFlow cannot
read the directory (use a ``.keras`` file to move a model to TensorFlow).
"""

import json
import os

from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.saving import object_io, saved_model_io

MANIFEST = "export_manifest.json"
BY_VALUE_DIR = "by_value"
ENDPOINTS = ("serve", "serving_default")


def _input_specs(model, input_signature):
    """``[{'shape': [...], 'dtype': name}]`` for the model's inputs (None: unknown)."""
    if input_signature is not None:
        specs = input_signature if isinstance(input_signature, (list, tuple)) \
            else [input_signature]
        return [{"shape": list(getattr(s, "shape", s)), "dtype": getattr(
            getattr(s, "dtype", None), "name", "float32")} for s in specs]
    inputs = getattr(model, "inputs", None)
    if inputs:
        names = list(getattr(model, "input_names", None) or [])
        names = names if len(names) == len(inputs) else [None] * len(inputs)
        # Keras 3 feeds a dict-input model by the keys of its inputs structure,
        # which a functional model's input specs are named after
        keys = [getattr(s, "name", None) for s in getattr(model, "input_spec", None)
                or ()]
        keys = keys if len(keys) == len(inputs) else names
        return [{"shape": list(t.shape.as_list()), "dtype": t.dtype.name, "name": n,
                 "key": k} for t, n, k in zip(inputs, names, keys)]
    shape = getattr(model, "_build_input_shape", None)
    if shape is None:
        return None
    shape = list(getattr(shape, "as_list", lambda: shape)())
    if shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [{"shape": [None] + list(s)[1:], "dtype": model.compute_dtype}
                for s in shape]
    return [{"shape": [None] + shape[1:], "dtype": model.compute_dtype}]


def export_model(model, filepath, format="tf_saved_model", verbose=True,
                 input_signature=None, **kwargs):
    """Writes an inference artifact of ``model`` (see the module docstring).

    Args:
      model: a built Keras model.
      filepath: the directory to write.
      format: ``'tf_saved_model'`` (the only format dlframe writes).
      verbose: print the endpoints written.
      input_signature: optional ``tf.TensorSpec`` (or list) describing the
        inputs ``serve`` accepts (default: the model's input shapes).
      **kwargs: other exporter options, ignored.

    Raises:
      ValueError: another ``format`` or an unbuilt model.
    """
    if format != "tf_saved_model":
        raise ValueError("dlframe exports the 'tf_saved_model' format only. Received: "
                         f"format={format!r}")
    if not model.built:
        raise ValueError(f"Model {model.name!r} must be built before export: call it on "
                         "a batch or call `model.build(input_shape)` first.")
    filepath = os.fspath(filepath)
    saved_model_io.save(model, filepath, include_optimizer=False,
                        model_file=saved_model_io.ARCHIVE_FILE)
    try:
        object_io.save(model, os.path.join(filepath, BY_VALUE_DIR), signatures={})
    except ValueError:   # part of the model cannot be pickled: archive only
        pass
    specs = _input_specs(model, input_signature)
    with open(os.path.join(filepath, MANIFEST), "w") as f:
        json.dump({"format": "dlframe-export", "endpoints": list(ENDPOINTS),
                   "inputs": specs}, f)
    if verbose:
        print(f"Saved artifact at '{filepath}'. The following endpoints are available:"
              f"\n\n* Endpoint 'serve'\n  inputs: {specs}\n")


def read_manifest(directory):
    """The export manifest of ``directory`` (None for a plain SavedModel)."""
    path = os.path.join(os.fspath(directory), MANIFEST)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def load_exported_model(directory):
    """The Keras model of an export: rebuilt from the archive, or, when that needs
    custom objects this process has not registered, the copy stored by value."""
    try:
        return saved_model_io.load_keras_model(directory, compile=False)
    except (ValueError, TypeError):
        fallback = os.path.join(os.fspath(directory), BY_VALUE_DIR)
        if not object_io.contains_object(fallback):
            raise
        return object_io.load(fallback)


def check_inputs(specs, inputs):
    """Raises ValueError when ``inputs`` do not fit the exported input specs."""
    if not specs:
        return
    if isinstance(inputs, dict):   # by structure key (Keras 3), then Input name
        for field in ("key", "name"):
            names = [spec.get(field) for spec in specs]
            if all(n in inputs for n in names):
                flat = [inputs[n] for n in names]
                break
        else:
            flat = [inputs[k] for k in sorted(inputs)]
    else:
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(flat) != len(specs):
        raise ValueError(f"The endpoint 'serve' takes {len(specs)} input(s); received "
                         f"{len(flat)}.")
    for i, (spec, x) in enumerate(zip(specs, flat)):
        shape = list(getattr(x, "shape", ()))
        want = spec["shape"]
        if len(shape) != len(want) or any(
                w is not None and int(w) != int(s) for w, s in zip(want, shape)):
            raise ValueError(f"Input {i} of the endpoint 'serve' must have shape {want} "
                             f"(None: any size). Received: shape={shape}")


class TFSMLayer(Layer):
    """A layer that runs an endpoint of a SavedModel directory: one written by
    ``model.export``, by ``keras.export.ExportArchive().write_out`` or by
    ``tf.saved_model.save``.

    Args:
      filepath: the SavedModel directory.
      call_endpoint: the endpoint used for inference: an attribute of the loaded
        object (``'serve'``) or a key of its ``signatures`` (``'serving_default'``,
        which returns a dict of named outputs).
      call_training_endpoint: optional endpoint used when ``training=True``
        (for ``model.export`` output, ``'serve'`` runs the model in training mode).
      trainable: whether the artifact's variables are trainable.
      name, dtype: as for any layer.

    Raises:
      ValueError: ``filepath`` holds no SavedModel, or an endpoint is unknown.
    """

    def __init__(self, filepath, call_endpoint="serve", call_training_endpoint=None,
                 trainable=True, name=None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self.filepath = os.fspath(filepath)
        if not saved_model_io.contains_saved_model(self.filepath):
            raise ValueError(f"Argument `filepath` must be a directory written by "
                             f"`model.export()`. Received: filepath={filepath!r}")
        self.call_endpoint = call_endpoint
        self.call_training_endpoint = call_training_endpoint
        self.model = None
        if read_manifest(self.filepath) is None and \
                object_io.contains_object(self.filepath):
            self._load_endpoints(trainable)
        else:
            self._load_export(trainable)
        self.built = True

    def _load_export(self, trainable):
        """A ``model.export`` directory: the Keras model it holds runs the call."""
        for arg, endpoint in (("call_endpoint", self.call_endpoint),
                              ("call_training_endpoint", self.call_training_endpoint)):
            if endpoint is not None and endpoint not in ENDPOINTS:
                raise ValueError(f"The endpoint '{endpoint}' is not an attribute of the "
                                 f"loaded SavedModel (`{arg}`). Available endpoints: "
                                 f"{list(ENDPOINTS)}")
        self._artifact = saved_model_io.load_artifact(self.filepath)
        self.model = self._artifact.keras_model
        self.model.trainable = trainable

    def _load_endpoints(self, trainable):
        """Any other SavedModel (an ``ExportArchive``): its endpoints are the loaded
        object's functions, its variables the layer's weights."""
        loaded = object_io.load(self.filepath)
        self._endpoints = {}
        for arg in ("call_endpoint", "call_training_endpoint"):
            endpoint = getattr(self, arg)
            if endpoint is None:
                continue
            fn = getattr(loaded, endpoint, None)
            signatures = getattr(loaded, "signatures", None) or {}
            fn = fn if callable(fn) else signatures.get(endpoint)
            if fn is None:
                raise ValueError(
                    f"The endpoint '{endpoint}' is neither an attribute of the reloaded "
                    "SavedModel, nor an entry in the `signatures` field of the reloaded "
                    f"SavedModel. Select another endpoint via the `{arg}` argument. "
                    f"Available endpoints for this SavedModel: {list(signatures)}")
            self._endpoints[endpoint] = fn
        variables = list(getattr(loaded, "variables", None) or [])
        self._trainable_weights.extend(v for v in variables if v.trainable)
        self._non_trainable_weights.extend(v for v in variables if not v.trainable)
        object.__setattr__(self, "_artifact", loaded)   # its variables are listed

    def call(self, inputs, training=False):
        if self.model is None:
            endpoint = (self.call_training_endpoint if training and
                        self.call_training_endpoint is not None else self.call_endpoint)
            return self._endpoints[endpoint](inputs)
        if training and self.call_training_endpoint is not None:
            return self.model(inputs, training=True)
        if self.call_endpoint == "serving_default":
            signature = self._artifact.signatures["serving_default"]
            if isinstance(inputs, dict):
                return signature(**inputs)
            if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
                # several inputs: the signature takes them by name only
                names = signature.structured_input_signature[1]
                return signature(**dict(zip(names, inputs)))
            return signature(inputs)
        return self._artifact.serve(inputs)

    def compute_output_shape(self, input_shape):
        if self.model is None or self.call_endpoint == "serving_default":
            # an endpoint's function (a dict of named outputs for a signature):
            # shapes by a dry run
            return super().compute_output_shape(input_shape)
        return self.model.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(filepath=self.filepath, call_endpoint=self.call_endpoint,
                      call_training_endpoint=self.call_training_endpoint)
        return config
