"""``tf.lite``: TFLiteConverter and Interpreter, TF's API over dlframe's own bytes.

dlframe has no TFLite FlatBuffer writer and no TFLite runtime. ``convert()`` returns
bytes in dlframe's own format (a header, then a zip of the model's SavedModel
directory and its signature), which ``Interpreter`` reads back (``model_content`` or
``model_path``) and runs with dlframe, through TFLite's Python API: signature
runners, ``get_input_details``/``set_tensor``/``invoke``/``get_tensor`` and
``resize_tensor_input``. A program that converts, writes the ``.tflite`` file and
interprets it runs unchanged; the file is not readable by TensorFlow Lite, and a real
TFLite FlatBuffer given to ``Interpreter`` is rejected with a ValueError. Converter
options (``optimizations``, ``representative_dataset``, ``target_spec``...) are
accepted and recorded; the model keeps running in its own dtypes, unquantized.

Names: the signature ``serving_default`` takes the model's input names (Keras 2's
input layer names) and answers with its output layer names; the Keras 3 spellings
TF 2.16+ prints (``output_0``..., any single input name) are accepted too.
"""

import io as _pyio
import json
import os
import tempfile
import zipfile

from dlframe import saved_model as _saved_model
from dlframe.core import dtypes as _dtypes
from dlframe.keras.engine.functional import Functional as _Functional

_MAGIC = b"DLFRAME-TFLITE-1\n"
_MANIFEST = "dlframe_lite.json"
_SIGNATURE = "serving_default"


class Optimize:
    """Optimization goals (recorded; dlframe does not quantize)."""
    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"


class OpsSet:
    """Op sets a converted model may use (recorded)."""
    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = (
        "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8")


class TargetSpec:
    """Target device description: ``supported_ops`` and ``supported_types``."""

    def __init__(self, supported_ops=None, supported_types=None):
        self.supported_ops = set(supported_ops or {OpsSet.TFLITE_BUILTINS})
        self.supported_types = set(supported_types or set())


def _signature_of(model):
    if not isinstance(model, _Functional) or not getattr(model, "inputs", None):
        raise ValueError(
            "TFLiteConverter converts a built functional or Sequential Keras model "
            f"(one whose inputs are known). Received: {model!r}; call a subclassed "
            "model inside a functional model, or build it from an Input first.")
    inputs = [_spec_of(name, kt) for name, kt in zip(model.input_names, model.inputs)]
    outputs = [_spec_of(name, kt) for name, kt in zip(model.output_names, model.outputs)]
    return {"inputs": inputs, "outputs": [s["name"] for s in outputs],
            "output_specs": outputs}


def _spec_of(name, keras_tensor):
    """``{'name', 'shape' (-1 for unknown dims), 'dtype'}`` of a model input/output."""
    return {"name": name, "shape": [-1 if d is None else int(d)
                                    for d in keras_tensor.shape.as_list()],
            "dtype": keras_tensor.dtype.name}


class TFLiteConverter:
    """Converts a Keras model or a SavedModel of one into ``tf.lite`` model bytes.

    Use the class methods ``from_keras_model`` and ``from_saved_model``. Attributes
    TF offers (``optimizations``, ``representative_dataset``, ``target_spec``,
    ``inference_input_type``, ``inference_output_type``, ``allow_custom_ops``) can be
    set; they are recorded and do not change the model (see the module doc).
    """

    def __init__(self, model=None, saved_model_dir=None):
        self._model = model
        self._saved_model_dir = saved_model_dir
        self.optimizations = []
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = _dtypes.float32
        self.inference_output_type = _dtypes.float32
        self.allow_custom_ops = False
        self.experimental_new_converter = True
        self.experimental_new_quantizer = True

    @classmethod
    def from_keras_model(cls, model):
        """A converter for a functional or Sequential Keras ``model``."""
        _signature_of(model)
        return cls(model=model)

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        """A converter for the Keras model saved in ``saved_model_dir``."""
        if not os.path.isdir(saved_model_dir):
            raise OSError(f"SavedModel file does not exist at: {saved_model_dir}")
        return cls(saved_model_dir=os.fspath(saved_model_dir))

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        """Not supported: dlframe converts Keras models only."""
        raise NotImplementedError(
            "dlframe's tf.lite converts Keras models (from_keras_model, or "
            "from_saved_model of a saved Keras model); from_concrete_functions is "
            "not supported.")

    def convert(self):
        """The converted model as bytes (dlframe's format; see the module doc)."""
        with tempfile.TemporaryDirectory() as tmp:
            if self._model is not None:
                model, folder = self._model, os.path.join(tmp, "model")
                _saved_model.save(model, folder)
            else:
                folder = self._saved_model_dir
                model = _load_model(folder)
            manifest = _signature_of(model)
            buf = _pyio.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(_MANIFEST, json.dumps(manifest))
                for root, _, files in os.walk(folder):
                    for name in files:
                        path = os.path.join(root, name)
                        zf.write(path, os.path.join(
                            "model", os.path.relpath(path, folder)))
        return _MAGIC + buf.getvalue()


TFLiteConverterV2 = TFLiteConverter


def _load_model(folder):
    from dlframe.keras.saving import saved_model_io
    if saved_model_io.contains_saved_model(folder):
        from dlframe.keras import models
        return models.load_model(folder)
    return _saved_model.load(folder)


def _quantization():
    from dlframe.backends.base import np
    return {"scales": np.zeros((0,), np.float32), "zero_points": np.zeros((0,), np.int32),
            "quantized_dimension": 0}


class Interpreter:
    """Runs a model converted by dlframe's ``TFLiteConverter``.

    Args:
      model_path: path of a ``.tflite`` file written from ``convert()``'s bytes.
      model_content: those bytes.
      experimental_delegates, num_threads, experimental_op_resolver_type,
        experimental_preserve_all_tensors: accepted for compatibility.

    Raises:
      ValueError: neither or both of ``model_path``/``model_content`` are given, the
        file cannot be opened, or the bytes are not from dlframe's converter.
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None,
                 num_threads=None, experimental_op_resolver_type=None,
                 experimental_preserve_all_tensors=False):
        if (model_path is None) == (model_content is None):
            raise ValueError("Can't both provide `model_path` and `model_content`"
                             if model_path is not None else
                             "Can't create interpreter without `model_path` or "
                             "`model_content`")
        if model_path is not None:
            try:
                with open(model_path, "rb") as f:
                    model_content = f.read()
            except OSError:
                raise ValueError(f"Could not open '{model_path}'.") from None
        content = bytes(model_content)
        if not content.startswith(_MAGIC):
            raise ValueError(
                "The model is not a valid Flatbuffer buffer: dlframe's Interpreter "
                "runs only models written by dlframe's tf.lite.TFLiteConverter "
                f"(received {len(content)} bytes starting {content[:16]!r}).")
        with zipfile.ZipFile(_pyio.BytesIO(content[len(_MAGIC):])) as zf, \
                tempfile.TemporaryDirectory() as tmp:
            manifest = json.loads(zf.read(_MANIFEST))
            zf.extractall(tmp)
            self._model = _load_model(os.path.join(tmp, "model"))
        self._inputs = manifest["inputs"]
        self._output_names = manifest["outputs"]
        # (models converted before output specs were recorded: shapes after invoke)
        self._output_specs = manifest.get("output_specs")
        self._shapes = [[1 if d == -1 else d for d in spec["shape"]]
                        for spec in self._inputs]
        self._values = {}

    # -- signatures -------------------------------------------------------------
    def get_signature_list(self):
        """``{'serving_default': {'inputs': [...], 'outputs': [...]}}``."""
        return {_SIGNATURE: {"inputs": [s["name"] for s in self._inputs],
                             "outputs": list(self._output_names)}}

    def get_signature_runner(self, signature_key=None):
        """The callable for ``signature_key`` (default: the only one)."""
        if signature_key not in (None, _SIGNATURE):
            raise ValueError(f"SignatureDef signature_key is None or not in the model. "
                             f"Received: signature_key={signature_key!r}; available: "
                             f"{[_SIGNATURE]}")
        return SignatureRunner(self)

    # -- tensor API ---------------------------------------------------------------
    def allocate_tensors(self):
        """Prepares the buffers for the current input shapes (nothing to do here)."""

    def _detail(self, index, name, shape, signature, dtype):
        from dlframe.backends.base import np
        return {"name": name, "index": index, "shape": np.array(shape, np.int32),
                "shape_signature": np.array(signature, np.int32),
                "dtype": _dtypes.as_dtype(dtype).as_numpy_dtype,
                "quantization": (0.0, 0), "quantization_parameters": _quantization(),
                "sparsity_parameters": {}}

    def get_input_details(self):
        """One dict per input: name, index, shape, shape_signature, dtype, ..."""
        return [self._detail(i, f"{_SIGNATURE}_{s['name']}:0", self._shapes[i],
                             s["shape"], s["dtype"]) for i, s in enumerate(self._inputs)]

    def get_output_details(self):
        """One dict per output: before ``invoke`` its signature with unknown dims 1
        (as TF's after ``allocate_tensors``), after it the computed output's shape."""
        n = len(self._inputs)
        details = []
        for j, name in enumerate(self._output_names):
            value = self._values.get(n + j)
            spec = self._output_specs[j] if self._output_specs else None
            signature = spec["shape"] if spec else []
            if value is not None:
                shape, dtype = list(value.shape), value.dtype
            elif spec:
                shape, dtype = [1 if d == -1 else d for d in signature], spec["dtype"]
            else:
                shape, dtype = [], "float32"
            details.append(self._detail(n + j, f"StatefulPartitionedCall:{j}", shape,
                                        signature or shape, dtype))
        return details

    def _input_index(self, index):
        if not isinstance(index, int) or not 0 <= index < len(self._inputs):
            raise ValueError(f"Tensor index {index!r} is not an input tensor; inputs "
                             f"are 0..{len(self._inputs) - 1}.")
        return index

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        """Sets the shape input ``input_index`` takes (the batch size, usually)."""
        i = self._input_index(input_index)
        size = [int(d) for d in tensor_size]
        signature = self._inputs[i]["shape"]
        if len(size) != len(signature) or any(
                s != -1 and s != d and (strict or k) for k, (s, d) in
                enumerate(zip(signature, size))):
            raise ValueError(f"ResizeInputTensor: cannot resize input {i} of shape "
                             f"signature {signature} to {size}.")
        self._shapes[i] = size

    def set_tensor(self, tensor_index, value):
        """Copies ``value`` into input ``tensor_index`` (shape and dtype must match)."""
        from dlframe.backends.base import np
        i = self._input_index(tensor_index)
        value = np.asarray(value)
        want = np.dtype(_dtypes.as_dtype(self._inputs[i]["dtype"]).as_numpy_dtype)
        if value.dtype != want:
            raise ValueError(
                f"Cannot set tensor: Got value of type {value.dtype.name.upper()} but "
                f"expected type {want.name.upper()} for input {i}, name: "
                f"{_SIGNATURE}_{self._inputs[i]['name']}:0 ")
        shape = self._shapes[i]
        if value.ndim != len(shape):
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} "
                             f"but expected {len(shape)} for input {i}.")
        for d, (got, expected) in enumerate(zip(value.shape, shape)):
            if got != expected:
                raise ValueError(
                    f"Cannot set tensor: Dimension mismatch. Got {got} but expected "
                    f"{expected} for dimension {d} of input {i}.")
        self._values[i] = value.copy()

    def invoke(self):
        """Runs the model on the inputs set with ``set_tensor``."""
        missing = [i for i in range(len(self._inputs)) if i not in self._values]
        if missing:
            raise ValueError(f"Invoke: input tensors {missing} were not set.")
        outputs = self._run([self._values[i] for i in range(len(self._inputs))])
        for j, value in enumerate(outputs):
            self._values[len(self._inputs) + j] = value

    def get_tensor(self, tensor_index, subgraph_index=0):
        """A copy of tensor ``tensor_index`` (an input set or an output computed)."""
        if tensor_index not in self._values:
            raise ValueError(f"Tensor {tensor_index!r} has no value yet: set the inputs "
                             "and call invoke() first.")
        return self._values[tensor_index].copy()

    def tensor(self, tensor_index):
        """A function returning the current value of ``tensor_index``."""
        return lambda: self._values[tensor_index]

    def _run(self, arrays):
        args = arrays[0] if len(arrays) == 1 else list(arrays)
        outputs = self._model(args, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [o.numpy() if hasattr(o, "numpy") else o for o in outputs]


class _Outputs(dict):
    """Output arrays by output layer name; Keras 3's ``output_<i>`` reads them too."""

    def __missing__(self, key):
        if isinstance(key, str) and key.startswith("output_") and key[7:].isdigit():
            values = list(self.values())
            if int(key[7:]) < len(values):
                return values[int(key[7:])]
        raise KeyError(key)


class SignatureRunner:
    """Calls a converted model by name: ``runner(input_name=array)`` -> dict."""

    def __init__(self, interpreter):
        self._interpreter = interpreter

    def get_input_details(self):
        """Input details keyed by input name."""
        it = self._interpreter
        return {s["name"]: d for s, d in zip(it._inputs, it.get_input_details())}

    def get_output_details(self):
        """Output details keyed by output name."""
        it = self._interpreter
        return dict(zip(it._output_names, it.get_output_details()))

    def __call__(self, **kwargs):
        from dlframe.backends.base import np
        it = self._interpreter
        names = [s["name"] for s in it._inputs]
        if len(names) == 1 and len(kwargs) == 1:   # any spelling of the one input
            kwargs = {names[0]: next(iter(kwargs.values()))}
        unknown = sorted(set(kwargs) - set(names))
        if unknown or len(kwargs) != len(names):
            raise ValueError(f"Invalid Input name(s) {unknown or sorted(kwargs)} for "
                             f"SignatureDef; the inputs are {names}.")
        for i, name in enumerate(names):
            value = np.asarray(kwargs[name])
            it.resize_tensor_input(i, value.shape)
            it.set_tensor(i, value)
        it.invoke()
        n = len(names)
        return _Outputs((name, it.get_tensor(n + j))
                        for j, name in enumerate(it._output_names))


__all__ = [
    "Interpreter",
    "OpsSet",
    "Optimize",
    "SignatureRunner",
    "TFLiteConverter",
    "TargetSpec",
]
