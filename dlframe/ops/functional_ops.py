"""Higher-order functions over the first axis: map_fn, scan, foldl, foldr and
vectorized_map.

One loop serves them all. Eagerly it is a Python loop over the unstacked rows whose
results are stacked, so tapes see ordinary ops. Inside a ``dlframe.function`` it is
a graph ``while_loop`` that reads rows from TensorArrays over the inputs and writes
the results into TensorArrays (TF's construction), so the graph holds the function
once whatever the number of rows, and the loop's gradient differentiates it.
"""

from dlframe.core import dtypes, nest
from dlframe.core.primitive import STATE
from dlframe.core.static_dims import note_unknown_axes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.core.tensor_spec import TensorSpec
from dlframe.errors import InvalidArgumentError, OutOfRangeError
from dlframe.ops import array, control_flow
from dlframe.ops.creation import zeros
from dlframe.ops.names import COMPOSITE_DISPATCH
from dlframe.ops.tensor_array import TensorArray


def _elems(elems):
    """Flat tensors of ``elems`` and their common (static) first dimension."""
    leaves = [x if isinstance(x, Tensor) else convert_to_tensor(x)
              for x in nest.flatten(elems)]
    if not leaves:
        raise ValueError("elems must be a Tensor or a (possibly nested) sequence of "
                         "Tensors, got an empty structure")
    n = None
    for x in leaves:
        if x._value.ndim == 0:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not "
                             "scalars")
        if n is not None and x._value.shape[0] != n:
            raise ValueError(f"Dimensions {n} and {x._value.shape[0]} are not "
                             "compatible")
        n = x._value.shape[0]
    return leaves, n


def _spec_dtype(spec):
    if isinstance(spec, TensorSpec):
        return spec.dtype
    return dtypes.as_dtype(spec)


def _as_outputs(value, structure, dtype_list, what):
    """Flat tensors of ``value``, which must nest like ``structure``, cast-free."""
    try:
        nest.assert_same_structure(structure, value, check_types=False)
    except ValueError:
        raise ValueError(f"{what}: The two structures don't have the same nested "
                         f"structure.\n\nFirst structure: {structure!r}\n\nSecond "
                         f"structure: {value!r}") from None
    out = []
    for v, dt in zip(nest.flatten(value), dtype_list):
        if isinstance(v, Tensor):
            if dt is not None and v._value.dtype != dt._np:
                raise InvalidArgumentError(f"TensorArray dtype is {dt.name} but Op is "
                                           f"trying to write dtype {v.dtype.name} ")
            out.append(v)
        else:
            out.append(convert_to_tensor(v, dtype=dt))
    return out


def _symbolic_zero():
    """An int32 0 that a trace records (so a loop over it becomes a graph loop)."""
    return array.identity(convert_to_tensor(0, dtype=dtypes.int32))


def _loop(step, inputs, n, rows, carry, out_dtypes, first_outputs=None, first_row=None):
    """Runs ``carry, outs = step(carry, row)`` over ``rows`` (a Python range of row
    indices into the ``n``-row tensors ``inputs``); returns (carry, stacked outputs).

    ``step`` gets and returns flat lists (``row``: one slice per input). Output ``k``
    of the call on row ``j`` becomes row ``j`` of stacked output ``k``;
    ``first_outputs`` fill row ``first_row`` beforehand (scan without initializer).
    """
    if STATE.trace is None:
        results = [[None] * n for _ in out_dtypes]
        if first_outputs is not None:
            for r, v in zip(results, first_outputs):
                r[first_row] = v
        unstacked = [array.unstack(x) for x in inputs]
        shapes = [None] * len(out_dtypes)
        for j in rows:
            carry, outs = step(carry, [u[j] for u in unstacked])
            for k, o in enumerate(outs):
                if shapes[k] is None:
                    shapes[k] = tuple(o._value.shape)
                elif tuple(o._value.shape) != shapes[k]:
                    raise ValueError(f"Incompatible shape for value "
                                     f"({tuple(o._value.shape)}), expected ({shapes[k]})")
                results[k][j] = o
        stacked = [array.stack(r) if n else zeros([0], dt)
                   for r, dt in zip(results, out_dtypes)]
        return carry, stacked
    readers = [TensorArray(x.dtype, size=n, clear_after_read=False).unstack(x)
               for x in inputs]
    writers = [TensorArray(dt, size=n) for dt in out_dtypes]
    if first_outputs is not None:
        writers = [w.write(first_row, v) for w, v in zip(writers, first_outputs)]
    start, delta = rows.start, rows.step
    k = len(carry)

    def body(i, *state):
        j = i if (start, delta) == (0, 1) else i * delta + start
        new_carry, outs = step(list(state[:k]), [r.read(j) for r in readers])
        new_carry = [c if isinstance(c, Tensor) else convert_to_tensor(c)
                     for c in new_carry]
        tas = [w.write(j, o) for w, o in zip(state[k:], outs)]
        return [i + 1] + list(new_carry) + tas

    count = len(rows)
    final = control_flow.while_loop(lambda i, *_: i < count, body,
                                    [_symbolic_zero()] + list(carry) + writers)
    stacked = [w.stack() for w in final[1 + k:]]
    dims = STATE.trace.static_shape(inputs[0]) if inputs else None
    if dims and dims[0] is None:   # as many rows as an input TF's graph sizes at run
        for s in stacked:
            note_unknown_axes(s, {0})
    return list(final[1:1 + k]), stacked


def _staged_outputs(fn, element):
    """What ``fn(element)`` returns, for zero-row inputs: called on a zero element,
    in a throwaway sub-graph when tracing (as TF traces it)."""
    if STATE.trace is None:
        return fn(element)
    result = []
    control_flow._Branch(lambda: result.append(fn(element)), STATE.trace)
    return result[0]


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True,
           swap_memory=False, infer_shape=True, name=None, fn_output_signature=None):
    """Maps ``fn`` over the tensors unpacked from ``elems`` on dimension 0.

    Args:
      fn: callable of one element (with the structure of ``elems``).
      elems: a tensor or (nested) structure of tensors sharing their first dimension.
      dtype: deprecated alias of ``fn_output_signature``.
      parallel_iterations, swap_memory, infer_shape, name: accepted for TF
        compatibility.
      back_prop: False stops gradients through the result.
      fn_output_signature: the output structure of ``fn`` (dtypes or TensorSpecs);
        default: that of ``elems``.

    Returns:
      ``fn``'s results stacked along a new first dimension.

    Raises:
      ValueError: scalar elems, mismatched first dimensions or output structure.
      InvalidArgumentError: an output whose dtype differs from the signature.
    """
    signature = fn_output_signature if fn_output_signature is not None else dtype
    if any(type(s).__name__ == "RaggedTensorSpec" for s in nest.flatten(signature)):
        return COMPOSITE_DISPATCH[map_fn](   # ragged results: rows of any length
            fn, elems, fn_output_signature=signature, back_prop=back_prop)
    leaves, n = _elems(elems)
    if signature is None:
        out_struct = elems
        out_dtypes = [x.dtype for x in leaves]
    else:
        out_struct = signature
        out_dtypes = [_spec_dtype(s) for s in nest.flatten(signature)]

    def call(carry, row):
        value = fn(nest.pack_sequence_as(elems, row))
        return carry, _as_outputs(value, out_struct, out_dtypes, "map_fn")
    if n == 0 and STATE.trace is not None:
        element = [zeros(x._value.shape[1:], x.dtype) for x in leaves]
        sample = _as_outputs(_staged_outputs(
            fn, nest.pack_sequence_as(elems, element)), out_struct, out_dtypes, "map_fn")
        outs = [zeros((0,) + tuple(s._value.shape), dt) for s, dt in zip(sample, out_dtypes)]
    else:
        _, outs = _loop(call, leaves, n, range(n), [], out_dtypes)
    if not back_prop:
        outs = [array.stop_gradient(o) for o in outs]
    return nest.pack_sequence_as(out_struct, outs)


def _start(elems, initializer, reverse):
    """Where a scan or fold starts: ``(leaves, n, order, acc_struct, carry, first_row)``.

    ``order`` is the range of rows still to visit (backwards with ``reverse``) and
    ``carry`` the flat first accumulator: ``initializer``'s tensors, or without one
    the tensors of the first row, ``first_row``, which ``order`` then skips
    (``first_row`` is None with an initializer).
    """
    leaves, n = _elems(elems)
    order = range(n - 1, -1, -1) if reverse else range(n)
    if initializer is None:
        if n == 0:
            raise OutOfRangeError("Tried to read from index 0 but array size is: 0 ")
        return leaves, n, order[1:], elems, [x[order[0]] for x in leaves], order[0]
    carry = [x if isinstance(x, Tensor) else convert_to_tensor(x)
             for x in nest.flatten(initializer)]
    return leaves, n, order, initializer, carry, None


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
         swap_memory=False, infer_shape=True, reverse=False, name=None):
    """Scans ``fn(accumulator, element)`` over ``elems`` on dimension 0.

    Args:
      fn: callable ``(acc, x) -> new acc`` (``acc`` nests like ``initializer``, or like
        ``elems`` when there is no initializer).
      elems: a tensor or (nested) structure of tensors sharing their first dimension.
      initializer: the first accumulator; default: the first element of ``elems``
        (which is then also the first output).
      reverse: scan from the last element to the first (outputs stay in order).
      back_prop: False stops gradients through the result.

    Returns:
      The accumulators after each element, stacked along a new first dimension.
    """
    leaves, n, order, acc_struct, carry, first_row = _start(elems, initializer, reverse)
    first_outputs = None if first_row is None else carry
    acc_dtypes = [c.dtype for c in carry]

    def call(carry, row):
        value = fn(nest.pack_sequence_as(acc_struct, carry),
                   nest.pack_sequence_as(elems, row))
        new = _as_outputs(value, acc_struct, acc_dtypes, "scan")
        return new, new
    if n == 0:
        outs = [zeros([0] + list(c._value.shape), c.dtype) for c in carry]
    else:
        _, outs = _loop(call, leaves, n, order, carry, acc_dtypes, first_outputs,
                        first_row)
    if not back_prop:
        outs = [array.stop_gradient(o) for o in outs]
    return nest.pack_sequence_as(acc_struct, outs)


def _fold(fn, elems, initializer, reverse, back_prop):
    leaves, n, order, acc_struct, carry, _ = _start(elems, initializer, reverse)
    acc_dtypes = [c.dtype for c in carry]

    def call(carry, row):
        value = fn(nest.pack_sequence_as(acc_struct, carry),
                   nest.pack_sequence_as(elems, row))
        return _as_outputs(value, acc_struct, acc_dtypes, "fold"), []
    if len(order):
        carry, _ = _loop(call, leaves, n, order, carry, [])
    if not back_prop:
        carry = [array.stop_gradient(c) for c in carry]
    return nest.pack_sequence_as(acc_struct, carry)


_FOLD_DOC = """Folds ``fn(accumulator, element)`` over ``elems`` from {order}.

    Args:
      fn: callable ``(acc, x) -> new acc``.
      elems: a tensor or (nested) structure of tensors sharing their first dimension.
      initializer: the first accumulator (default: the {start} element, then skipped).

    Returns:
      The final accumulator.
    """


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    return _fold(fn, elems, initializer, False, back_prop)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True,
          swap_memory=False, name=None):
    return _fold(fn, elems, initializer, True, back_prop)


foldl.__doc__ = _FOLD_DOC.format(order="first to last", start="first")
foldr.__doc__ = _FOLD_DOC.format(order="last to first", start="last")


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """Maps ``fn`` over dimension 0 of ``elems``, inferring the output signature.

    TF vectorizes ``fn`` (pfor); dlframe runs it as ``map_fn`` (TF's
    ``fallback_to_while_loop``), which gives the same values and gradients.

    Args:
      fn: callable of one element (with the structure of ``elems``).
      elems: a tensor or (nested) structure of tensors sharing their first dimension.
      fallback_to_while_loop, warn: accepted for TF compatibility.
    """
    leaves, n = _elems(elems)
    if STATE.trace is None and n:   # eagerly: the loop, dtypes from the results
        rows = [array.unstack(x) for x in leaves]
        results = [fn(nest.pack_sequence_as(elems, [r[j] for r in rows]))
                   for j in range(n)]
        flat = [[convert_to_tensor(v) for v in nest.flatten(r)] for r in results]
        return nest.pack_sequence_as(results[0], [array.stack(list(k)) for k in zip(*flat)])
    element = [zeros(x._value.shape[1:], x.dtype) if n == 0 else x[0] for x in leaves]
    sample = _staged_outputs(fn, nest.pack_sequence_as(elems, element))
    flat = nest.flatten(sample)
    signature = nest.pack_sequence_as(sample, [
        v.dtype if isinstance(v, Tensor) else convert_to_tensor(v).dtype for v in flat])
    if n == 0:
        outs = [zeros((0,) + tuple(convert_to_tensor(v)._value.shape), dt)
                for v, dt in zip(flat, nest.flatten(signature))]
        return nest.pack_sequence_as(signature, outs)
    return map_fn(fn, elems, fn_output_signature=signature)


__all__ = ["foldl", "foldr", "map_fn", "scan", "vectorized_map"]
