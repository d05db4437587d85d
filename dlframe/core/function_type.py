"""``Function.function_type``, ``Function.function_spec`` and
``ConcreteFunction.function_type``: a function's parameters (and a trace's types) in
TF's shape: ``inspect.Signature``/``inspect.Parameter`` subclasses whose ``str`` is
TF's one-line form (``(x: TensorSpec(...), y: Literal[2]) -> TensorSpec(...)``) and
whose ``repr`` is the ``Input Parameters: / Output Type: / Captures:`` block.
"""

import inspect

from dlframe.core import nest
from dlframe.core import function_signature as _sig


class _Text:
    """A type constraint shown as TF writes it (``Literal[2]``, ``Dict[[...]]``)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, _Text) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


# the default of an optional parameter of a Function's type (its value is captured)
CAPTURED_DEFAULT = _Text("<captured_default_value>")


class Parameter(inspect.Parameter):
    """One parameter: ``name``, ``kind``, ``optional`` and its ``type_constraint``
    (None where any value is accepted)."""

    __slots__ = ("_optional", "_type_constraint")

    def __init__(self, name, kind, optional, type_constraint):
        super().__init__(name, kind,
                         default=CAPTURED_DEFAULT if optional else self.empty,
                         annotation=self.empty if type_constraint is None
                         else type_constraint)
        self._optional = bool(optional)
        self._type_constraint = type_constraint

    @property
    def optional(self):
        return self._optional

    @property
    def type_constraint(self):
        return self._type_constraint

    def __repr__(self):
        return (f"Parameter(name={self.name}, kind={self.kind.name}, optional="
                f"{self._optional}, type_constraint={self._type_constraint!r})")


class FunctionType(inspect.Signature):
    """The parameters of a function (with a trace's types: its output too)."""

    __slots__ = ("_captures", "_output")

    def __init__(self, parameters, output=None, output_text=None, captures=()):
        # (a trace's flattened ``*args`` follow the named parameters: no checks)
        super().__init__(parameters, return_annotation=self.empty if output_text is None
                         else _Text(output_text), __validate_parameters__=False)
        self._output = output
        self._captures = tuple(captures)

    @property
    def output(self):
        """The output structure's type (TensorSpecs), None before a trace."""
        return self._output

    @property
    def captures(self):
        return self._captures

    def __repr__(self):
        lines = ["Input Parameters:"]
        lines += [f"  {p.name} ({p.kind.name}): {p.type_constraint!r}"
                  for p in self.parameters.values()]
        out = self.return_annotation
        lines += ["Output Type:", f"  {None if out is self.empty else out!r}",
                  "Captures:"]
        lines += [f"  {id(v)}: TensorSpec(shape=(), dtype=tf.resource, name=None)"
                  for v in self._captures] or ["  None"]
        return "\n".join(lines)


def of_function(python_function, input_signature=None):
    """``Function.function_type``: the Python parameters; with an input signature
    each positional parameter's TensorSpec (a bound method's ``self`` is left out,
    being bound)."""
    try:
        sig = inspect.signature(python_function)
    except (TypeError, ValueError):
        return FunctionType([])
    specs = list(input_signature) if input_signature is not None else []
    params = []
    for p in sig.parameters.values():
        spec = None
        if specs and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            spec = _Text(_sig.type_str(specs.pop(0)))
        params.append(Parameter(p.name, p.kind, p.default is not p.empty, spec))
    return FunctionType(params)


def of_concrete(params, outputs, captures):
    """``ConcreteFunction.function_type`` from its ``(name, kind, value)``
    parameters (``function_signature.bind``), output specs and captures."""
    kinds = inspect.Parameter
    made = [Parameter(name, getattr(kinds, kind), False, _Text(_sig.type_str(value)))
            for name, kind, value in params]
    return FunctionType(made, outputs, _sig.type_str(outputs), captures)


class FunctionSpec:
    """``Function.function_spec``: the Python function's arguments, defaults and
    input signature."""

    def __init__(self, python_function, input_signature=None, jit_compile=None):
        self._python_function = python_function
        self.input_signature = input_signature
        self.jit_compile = jit_compile
        self.is_pure = False

    @property
    def fullargspec(self):
        return inspect.getfullargspec(self._python_function)

    @property
    def arg_names(self):
        """The positional parameters' names (a bound method's ``self`` left out)."""
        return [p.name for p in self.function_type.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @property
    def default_values(self):
        """``{name: default}`` of the parameters that have one."""
        try:
            sig = inspect.signature(self._python_function)
        except (TypeError, ValueError):
            return {}
        return {p.name: p.default for p in sig.parameters.values()
                if p.default is not p.empty}

    @property
    def flat_input_signature(self):
        return tuple(nest.flatten(self.input_signature))

    @property
    def function_type(self):
        return of_function(self._python_function, self.input_signature)

    def signature_summary(self, default_values=False):
        """The parameters as one block of text (TF's layout)."""
        return repr(self.function_type)
