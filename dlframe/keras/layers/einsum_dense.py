"""EinsumDense: a dense layer whose contraction is an einsum equation.

``EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de")`` projects
``[batch, seq, c]`` inputs with a ``[c, 2, 4]`` kernel. The kernel's shape is read off
the equation: each kernel letter takes its size from the input (if the input has it)
or else from ``output_shape``. The bias spans the output from its first bias letter to
the end, with size 1 on the output axes not in ``bias_axes``.
"""

import re

from dlframe.core.tensor_shape import TensorShape
from dlframe.keras import activations, constraints, initializers
from dlframe.keras.engine.base_layer import Layer
from dlframe.keras.layers.layer_config import (
    reject_keras3_extensions,
    set_weight_options,
    weight_options_config,
)
from dlframe.keras.layers.lora import LoraMixin, lora_weight_property
from dlframe.ops import einsum as _einsum
from dlframe.ops import math as _math

_EQUATION = re.compile(r"^([a-zA-Z]*(?:\.\.\.)?[a-zA-Z]*),([a-zA-Z]+)->"
                       r"([a-zA-Z]*(?:\.\.\.)?[a-zA-Z]*)$")


def _parse(equation):
    """(input spec, kernel spec, output spec, elision) with elision in
    {None, 'left', 'right'}; letters only in the specs."""
    match = _EQUATION.match(equation.replace(" ", "")) if isinstance(
        equation, str) else None
    if match is None:
        raise ValueError("Invalid einsum equation. Equations must be in the form "
                         "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z].... "
                         f"Received: equation={equation!r}")
    ins, kernel, out = match.groups()
    elision = ("left" if ins.startswith("...") else
               "right" if ins.endswith("...") else None)
    out_elision = ("left" if out.startswith("...") else
                   "right" if out.endswith("...") else None)
    if ("..." in ins and elision is None) or elision != out_elision:
        raise ValueError("Invalid einsum equation: the input and output must elide the "
                         f"same side with '...'. Received: equation={equation!r}")
    return ins.replace("...", ""), kernel, out.replace("...", ""), elision


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """Kernel shape, bias shape (or None) and full output shape of an EinsumDense.

    Args:
      equation: the einsum equation.
      bias_axes: output letters that get a bias ('' or None: no bias).
      input_shape: full input shape, batch included.
      output_shape: output dims without the batch dim (no elision) or of the
        output letters (with elision); None entries are taken from the input.
    """
    ins, kernel, out, elision = _parse(equation)
    input_shape = list(TensorShape(input_shape).as_list())
    n_elided = len(input_shape) - len(ins)
    if n_elided < 0 or (elision is None and n_elided):
        raise ValueError(f"Input shape {tuple(input_shape)} does not match the input spec "
                         f"'{ins}' of equation {equation!r}.")
    out_dims = list(output_shape)
    if elision == "left":
        in_dims = input_shape[n_elided:]
        prefix, suffix = input_shape[:n_elided], []
    else:
        in_dims = input_shape[:len(ins)]
        prefix, suffix = [], input_shape[len(ins):]
        out_dims = [in_dims[0] if out and out[0] in ins else None] + out_dims
    if len(out_dims) != len(out):
        raise ValueError(f"`output_shape` {tuple(output_shape)} does not match the output "
                         f"spec '{out}' of equation {equation!r} (expected "
                         f"{len(out) - (elision != 'left')} dimensions).")
    for i, letter in enumerate(out):
        if letter in ins:
            in_dim = in_dims[ins.index(letter)]
            if out_dims[i] is None:
                out_dims[i] = in_dim
            elif in_dim is not None and in_dim != out_dims[i] and (
                    i > 0 or elision == "left"):
                raise ValueError(f"Input shape and output shape do not match at shared "
                                 f"dimension '{letter}'. Input shape is {in_dim}, and "
                                 f"output shape is {out_dims[i]}.")
    kernel_shape = []
    for letter in kernel:
        if letter in ins:
            dim = in_dims[ins.index(letter)]
        elif letter in out:
            dim = out_dims[out.index(letter)]
        else:
            raise ValueError(f"Weight dimension '{letter}' did not have a match in "
                             f"either the input spec '{ins}' or the output spec '{out}'. "
                             "For this layer, the weight must be fully specified.")
        if dim is None:
            raise ValueError(f"Weight dimension '{letter}' of equation {equation!r} has "
                             f"an unknown size (input shape {tuple(input_shape)}, "
                             f"output_shape {tuple(output_shape)}).")
        kernel_shape.append(dim)
    bias_shape = None
    if bias_axes:
        for letter in bias_axes:
            if letter not in out:
                raise ValueError(f"Bias dimension '{letter}' was requested, but is not "
                                 f"part of the output spec '{out}'")
        first = min(out.index(letter) for letter in bias_axes)
        bias_shape = [out_dims[i] if out[i] in bias_axes else 1
                      for i in range(first, len(out))] + [1] * len(suffix)
    return kernel_shape, bias_shape, prefix + out_dims + suffix


def _is_constraint(value):
    """A constraint object or name (never a regularizer's)."""
    if isinstance(value, constraints.Constraint):
        return True
    return isinstance(value, str) and value in constraints._OBJECTS


def _keras3_order(activity_regularizer_slot, bias_constraint_slot):
    """Whether positional values came in Keras 3's order (Keras 2's
    activity_regularizer slot is Keras 3's kernel_constraint): a constraint in
    the regularizer slot, or an int (Keras 3's lora_rank) in the bias_constraint
    slot; either is unambiguous. Otherwise Keras 2's order stands."""
    return _is_constraint(activity_regularizer_slot) or (
        isinstance(bias_constraint_slot, int)
        and not isinstance(bias_constraint_slot, bool))


class EinsumDense(LoraMixin, Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
      equation: ``'ab,bc->ac'`` style equation: input, kernel and output specs; the
        input and output may elide leading or trailing dims with ``...``.
      output_shape: the output's shape without the batch dim (an int for one dim);
        ``None`` entries are taken from the input.
      activation: activation name or callable (default linear).
      bias_axes: output letters that get a bias (default: no bias).
      kernel_initializer, bias_initializer: initializers (glorot_uniform, zeros).
      kernel_regularizer, bias_regularizer, activity_regularizer: optional penalties.
      kernel_constraint, bias_constraint: optional projections.
      lora_rank, lora_alpha: optional LoRA adapter (see ``enable_lora``).
      gptq_unpacked_column_size: Keras 3's column count of a GPTQ-packed kernel;
        accepted and stored (dlframe does not quantize).

    Positional arguments follow Keras 2 (``activity_regularizer`` after
    ``bias_regularizer``); Keras 3's order (no such slot) is recognised when a
    constraint comes 9th or an int ``lora_rank`` 11th.
    """

    kernel = lora_weight_property("kernel")

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, gptq_unpacked_column_size=None,
                 quantization_config=None, **kwargs):
        if _keras3_order(activity_regularizer, bias_constraint):
            # Keras 3 has no activity_regularizer slot: its 9th.. positional
            # values are (kernel_constraint, bias_constraint, lora_rank,
            # lora_alpha, gptq_unpacked_column_size, quantization_config)
            (kernel_constraint, bias_constraint, lora_rank, lora_alpha,
             gptq_unpacked_column_size, quantization_config) = (
                activity_regularizer, kernel_constraint, bias_constraint, lora_rank,
                lora_alpha, gptq_unpacked_column_size)
            activity_regularizer = None
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _parse(equation)
        self.equation = equation
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        if not isinstance(output_shape, (list, tuple)) or not all(
                d is None or isinstance(d, int) for d in output_shape):
            raise ValueError("`output_shape` must be an int or a tuple of ints/None. "
                             f"Received: output_shape={output_shape!r}")
        self.full_output_shape = None
        self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(self, locals(), "kernel", "bias")
        reject_keras3_extensions(self, quantization_config=quantization_config)
        # Keras 3 reads it only for GPTQ-quantized kernels, which dlframe never
        # builds; kept so the attribute exists, and (as in Keras) not in the config
        self.gptq_unpacked_column_size = gptq_unpacked_column_size
        self._init_lora(lora_rank, lora_alpha)
        self.supports_masking = True

    def build(self, input_shape):
        kernel_shape, bias_shape, full = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self.full_output_shape = tuple(full)
        _, kernel_spec, out_spec, _ = _parse(self.equation)
        kernel_init = initializers.for_einsum_kernel(   # Keras 3.15 fans
            self.kernel_initializer,
            [i for i, c in enumerate(kernel_spec) if c not in out_spec],
            [i for i, c in enumerate(kernel_spec) if c in out_spec])
        self.kernel = self.add_weight("kernel", shape=kernel_shape,
                                      initializer=kernel_init,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight("bias", shape=bias_shape,
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True
        self._build_lora()

    def call(self, inputs):
        y = _einsum.einsum(self.equation, inputs, _math.cast(self.kernel, inputs.dtype))
        if self.bias is not None:
            y = y + _math.cast(self.bias, y.dtype)
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        return TensorShape(analyze_equation(self.equation, None, input_shape,
                                            self.partial_output_shape)[2])

    def get_config(self):
        config = super().get_config()
        config.update({"output_shape": self.partial_output_shape,
                       "equation": self.equation,
                       "activation": activations.serialize(self.activation),
                       "bias_axes": self.bias_axes,
                       **weight_options_config(self, "kernel", "bias", activity=True),
                       "quantization_config": None, **self._lora_config()})
        return config


__all__ = ["EinsumDense"]
