"""SavedModel signatures: ``tf.saved_model.save(obj, dir, signatures=...)``.

A signature is a function with a fixed input signature that takes keyword tensors
named after its inputs and returns a flat ``{name: Tensor}`` dict, as TensorFlow's
serving signatures do: ``output_0``, ``output_1``... for a Tensor or a sequence of
Tensors, the dict's own keys for a dict. Inputs are named after the TensorSpec's
``name`` when it has one, else after the Python argument.

Which signatures a SavedModel gets (TensorFlow's rules):

* ``signatures=None``: a Keras model serves its ``call`` (input ``inputs``) once it
  has been built; any other object gets ``serving_default`` when exactly one of its
  own ``tf.function`` attributes has an ``input_signature`` (functions of
  sub-modules do not count), else no signature;
* a ``tf.function`` with an ``input_signature`` or a ConcreteFunction: it becomes
  ``serving_default``;
* a dict ``{key: function}`` of those: one signature per key.
"""

import inspect

from dlframe.core import nest
from dlframe.core.function import _LEAF, ConcreteFunction, Function
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.core.trace import check_input

DEFAULT_KEY = "serving_default"


class SignatureFunction:
    """``loaded.signatures[key]``: named tensors in, ``{output name: Tensor}`` out.

    Args:
      function: the callable run on the inputs (a bound ``tf.function``, or a Keras
        model's inference call).
      params: per positional argument of ``function``, its TensorSpec structure.
      names: the input name of each flattened TensorSpec, in order.
      key: the signature key, for error messages.

    Attributes:
      structured_input_signature: ``((), {input name: TensorSpec})`` as in TF.
    """

    def __init__(self, function, params, names, key=DEFAULT_KEY):
        self._function = function
        self._params = params
        self._names = list(names)
        self._specs = nest.flatten(list(params))
        self._key = key

    @property
    def structured_input_signature(self):
        return ((), {n: TensorSpec(s.shape, s.dtype, name=n)
                     for n, s in zip(self._names, self._specs)})

    @property
    def structured_outputs(self):
        """``{output name: TensorSpec}``, found by tracing the function once."""
        function = self._function
        if not hasattr(function, "get_concrete_function"):
            function = Function(function)
        traced = function.get_concrete_function(*self._params).structured_outputs
        return {name: TensorSpec(spec.shape, spec.dtype, name=name)
                for name, spec in _named(traced)}

    @property
    def output_shapes(self):
        """``{output name: TensorShape}``."""
        return {n: s.shape for n, s in self.structured_outputs.items()}

    @property
    def output_dtypes(self):
        """``{output name: DType}``."""
        return {n: s.dtype for n, s in self.structured_outputs.items()}

    @property
    def inputs(self):
        """The input TensorSpecs, named."""
        return list(self.structured_input_signature[1].values())

    def __call__(self, *args, **kwargs):
        if len(args) > 1 or args and len(self._names) != 1:
            # as TF: a tensor by position only when the signature has one input
            raise TypeError(f"Signature {self._key!r} takes its inputs {self._names} "
                            "as keyword arguments (too many positional arguments); "
                            f"received {len(args)} positional arguments.")
        values = dict(zip(self._names, args))
        for name, value in kwargs.items():
            if name not in self._names or name in values:
                raise TypeError(f"Signature {self._key!r} got an unexpected or repeated "
                                f"argument {name!r}; its inputs are {self._names}.")
            values[name] = value
        missing = [n for n in self._names if n not in values]
        if missing:
            raise TypeError(f"Signature {self._key!r} is missing a required argument: "
                            f"{missing[0]!r}. Its inputs are {self._names}; received "
                            f"{sorted(values)}.")
        flat = []
        for i, (name, spec) in enumerate(zip(self._names, self._specs)):
            value = values[name]
            if not isinstance(value, Tensor):
                value = convert_to_tensor(value, dtype=spec.dtype)
            check_input(spec.shape, spec.dtype, value, i)
            flat.append(value)
        call_args = nest.pack_sequence_as(list(self._params), flat)
        return outputs_as_dict(self._function(*call_args), self._key)

    def __repr__(self):
        return f"<SignatureFunction {self._key!r} inputs={self._names}>"


def _named(outputs):
    """``[(signature output name, value)]`` for a function's return value."""
    if outputs is None:
        return []
    if isinstance(outputs, dict):
        return [(str(k), v) for k, v in outputs.items()]
    if isinstance(outputs, (list, tuple)):
        return [(f"output_{i}", v) for i, v in enumerate(outputs)]
    return [("output_0", outputs)]


def outputs_as_dict(outputs, key=DEFAULT_KEY):
    """A signature's ``{name: Tensor}`` for a function's return value."""
    items = _named(outputs)
    for name, value in items:
        if not isinstance(value, Tensor):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError here
                f"Got a non-Tensor value {value!r} for key {name!r} in the output of "
                f"the function used for the SavedModel signature {key!r}. Outputs for "
                "functions used as signatures must be a single Tensor, a sequence of "
                "Tensors, or a dictionary from string to Tensor.")
    return dict(items)


def _param_names(python_function, count):
    try:
        params = [p.name for p in inspect.signature(python_function).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input_{i}" for i in range(count)]


def _from_specs(function, python_function, params, key):
    """A SignatureFunction calling ``function`` with one argument per ``params``."""
    names = []
    for arg, spec in zip(_param_names(python_function, len(params)), params):
        flat = nest.flatten(spec)
        if len(flat) == 1 and isinstance(spec, TensorSpec):
            names.append(spec.name or arg)
        else:
            # TF: 'inputs', 'inputs_1', 'inputs_2'... for a nested argument
            names.extend(s.name or (f"{arg}_{i}" if i else arg)
                         for i, s in enumerate(flat))
    return SignatureFunction(function, list(params), names, key)


def _invalid(value):
    return ValueError(
        "Expected a TensorFlow function for which to generate a signature, but got "
        f"{value!r}. Only `tf.functions` with an input signature or concrete functions "
        "can be used as a signature.")


def from_function(value, key=DEFAULT_KEY):
    """The SignatureFunction for a ``tf.function`` with an input signature or a
    ConcreteFunction (or a loaded ``signatures[key]``, saved again as the TF guide
    does); ValueError for anything else."""
    if isinstance(value, SignatureFunction):
        return SignatureFunction(value._function, value._params, value._names, key)
    if isinstance(value, ConcreteFunction):
        owner = value._owner
        if owner is None:
            raise _invalid(value)
        params = list(value.structured_input_signature[0])   # TF: (args, kwargs)
        return _from_specs(owner, owner.python_function, params, key)
    if isinstance(value, Function) and value.input_signature is not None:
        return _from_specs(value, value.python_function, list(value.input_signature),
                           key)
    raise _invalid(value)


class KerasServe:
    """A Keras model's inference call (``training=False``), picklable."""

    def __init__(self, model):
        self.model = model

    def __call__(self, inputs):
        return self.model(inputs, training=False)


def _keras_default(model):
    shape = getattr(model, "_build_input_shape", None)
    if hasattr(shape, "as_list"):
        shape = shape.as_list() if shape.rank is not None else None
    if shape is None or not isinstance(shape, (tuple, list)) or not all(
            d is None or isinstance(d, int) for d in shape):
        return None   # not built, or several inputs: no default signature
    spec = TensorSpec([None, *list(shape)[1:]], getattr(model, "_input_dtype", None)
                      or "float32", name="inputs")
    return SignatureFunction(KerasServe(model), [spec], ["inputs"])


def class_functions(cls):
    """Names of the ``tf.function`` methods defined on ``cls`` (and its bases)."""
    return [n for n in dir(cls)
            if isinstance(inspect.getattr_static(cls, n, None), Function)]


def _root_functions(obj):
    """The ``tf.function`` attributes of ``obj`` itself (class and instance)."""
    names = class_functions(type(obj))
    names += [n for n, v in getattr(obj, "__dict__", {}).items()
              if isinstance(v, Function) and n not in names]
    return [getattr(obj, n) for n in names]


def default_signatures(obj):
    """TF's choice of signatures when ``signatures`` is None (see the module doc)."""
    from dlframe.keras.engine.model import Model
    if isinstance(obj, Model):
        sig = _keras_default(obj)
        return {DEFAULT_KEY: sig} if sig is not None else {}
    candidates = [f for f in _root_functions(obj)
                  if f.input_signature is not None and _serves(f)]
    if len(candidates) == 1:
        return {DEFAULT_KEY: from_function(candidates[0])}
    return {}


def _serves(function):
    """Whether ``function`` can be a signature: it returns a Tensor, or a non-empty
    sequence or dict of Tensors (TF skips the others when choosing the default). Like
    TF, this traces it (side effects are recorded, not run)."""
    return _valid_outputs(function.get_concrete_function()._out_template)


def _valid_outputs(template):
    if template == _LEAF:
        return True
    if template[0] in ("odict", "namedtuple", "list", "tuple"):
        items = [t for _, t in template[-1]] if template[0] == "odict" else template[-1]
        return bool(items) and all(t == _LEAF for t in items)
    return False


def _check_outputs(value, key):
    """ValueError unless the explicit signature ``value`` returns Tensors."""
    concrete = value if isinstance(value, ConcreteFunction) else \
        value.get_concrete_function()
    if not _valid_outputs(concrete._out_template):
        raise ValueError(
            f"The function {value!r} used for the SavedModel signature {key!r} returns "
            "no Tensor or a nested value. Outputs for functions used as signatures "
            "must be a single Tensor, a sequence of Tensors, or a dictionary from "
            "string to Tensor.")


def canonicalize(obj, signatures):
    """``{key: SignatureFunction}`` for ``tf.saved_model.save``'s ``signatures``."""
    if signatures is None:
        return default_signatures(obj)
    if not isinstance(signatures, dict):
        signatures = {DEFAULT_KEY: signatures}
    out = {}
    for key, value in signatures.items():
        if not isinstance(key, str):
            raise ValueError(  # noqa: TRY004 - TF raises ValueError here
                f"Signature keys must be strings; received {key!r}.")
        out[key] = from_function(value, key)
        if not isinstance(value, SignatureFunction):   # a loaded one returns a dict
            _check_outputs(value, key)
    return out
