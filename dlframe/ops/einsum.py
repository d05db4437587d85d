"""einsum: contraction in Einstein notation, with a gradient that is again an einsum.

``...`` and implicit outputs are expanded into explicit letters first, so the forward
and every gradient are plain ``Device.einsum`` calls (differentiable any number of
times; on a GPU two-operand contractions run as one capture-safe matrix product).
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.core.static_dims import merge_dim
from dlframe.core.tensor import convert_to_tensor
from dlframe.errors import DTypeMismatchError, InvalidArgumentError
from dlframe.ops import math as m
from dlframe.ops._util import operands, t


def _array():
    from dlframe.ops import array  # bound late: array sits beside this module
    return array


def _shape(x):
    return tuple(x._value.shape)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(equation, shapes):
    """Expands ``...`` and implicit outputs into an explicit equation of letters.

    Returns:
      (input subscripts, output subscript, letters that stand for ``...`` dims).
    """
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f'Got {len(shapes)} inputs for equation "{equation}", expecting '
                         f"{len(ins)}")
    used = {c for c in eq if c.isalpha()}
    for c in eq:
        if not (c.isalpha() or c in ",.->"):
            raise ValueError(f"Invalid character {c!r} in einsum equation {equation!r}")
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for s, shape in zip(ins, shapes):
        if "..." in s:
            n_ell = max(n_ell, len(shape) - (len(s) - 3))
    ell = "".join(spare[:n_ell])
    expanded = []
    for i, (s, shape) in enumerate(zip(ins, shapes)):
        if "..." in s:
            k = len(shape) - (len(s) - 3)
            if k < 0:
                raise InvalidArgumentError(f"Einsum: Expected input {i} to have rank at "
                                           f"least {len(s) - 3} but got: {len(shape)}")
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != len(shape):
            raise InvalidArgumentError(f"Einsum: Expected input {i} to have rank {len(s)} "
                                       f"but got: {len(shape)} [Op:Einsum]")
        expanded.append(s)
    if out is None:
        counts = {}
        for s in expanded:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items()
                                   if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    for c in out:
        if not any(c in s for s in expanded):
            raise ValueError(f"einsum: output label {c!r} does not appear in the inputs of "
                             f"{equation!r}")
    return expanded, out, set(ell)


def _einsum_sizes(ins, shapes, ell):
    """Checks that each letter has one size (``...`` dims may broadcast from 1)."""
    sizes = {}
    for i, (s, shape) in enumerate(zip(ins, shapes)):
        for axis, (c, n) in enumerate(zip(s, shape)):
            prev = sizes.get(c)
            if prev is None or prev == n:
                sizes[c] = n
            elif c in ell and (prev == 1 or n == 1):
                sizes[c] = max(prev, n)
            else:
                raise InvalidArgumentError(
                    f"Einsum: Expected dimension {prev} at axis {axis} of the input shaped "
                    f"{list(shape)} but got dimension {n} [Op:Einsum]")
    return sizes


@primitive("Einsum")
def einsum_p(d, *xs, equation):
    if xs[0].dtype.kind == "V":   # bfloat16: NumPy would answer in float32; keep TF's dtype
        wide = [x.astype("float32") for x in xs]
        return d.einsum(equation, *wide).astype(xs[0].dtype)
    return d.einsum(equation, *xs)


def _einsum_static_shape(in_dims, attrs):
    """Each output letter's size from the inputs holding it (they agree, or one is a
    broadcast 1 on ellipsis letters)."""
    ins, out = attrs["equation"].split("->")
    sizes = {}
    for s, dims in zip(ins.split(","), in_dims):
        for c, n in zip(s, dims):
            sizes.setdefault(c, []).append(n)
    return [merge_dim(*sizes[c]) for c in out]


einsum_p.static_shape = _einsum_static_shape


@einsum_p.defgrad
def _einsum_grad(inputs, out, dy, *, equation):
    lhs, out_s = equation.split("->")
    ins = lhs.split(",")
    grads = []
    for i, x in enumerate(inputs):
        if x._value.dtype.kind not in "fc":
            grads.append(None)
            continue
        others = [ins[j] for j in range(len(ins)) if j != i]
        other_ts = [m.conj(inputs[j]) for j in range(len(ins)) if j != i]
        grads.append(_einsum_operand_grad(ins[i], out_s, others, dy, other_ts, x))
    return tuple(grads)


def _einsum_operand_grad(s, out_s, others, dy, other_ts, x):
    """The gradient for one operand with subscripts ``s``: an einsum of the output
    gradient with the other operands, then broadcast over letters summed only in this
    operand and embedded on the diagonal for letters repeated in ``s``."""
    arr = _array()
    avail = set(out_s).union(*others) if others else set(out_s)
    uniq = "".join(dict.fromkeys(s))
    keep = "".join(c for c in uniq if c in avail)
    g = _einsum_call(",".join([out_s] + others) + "->" + keep, [dy] + other_ts)
    x_sizes = dict(zip(s, _shape(x)))
    if keep != uniq:
        g_sizes = dict(zip(keep, _shape(g)))
        g = arr.reshape(g, [g_sizes.get(c, 1) for c in uniq])
        g = arr.broadcast_to(g, [g_sizes.get(c, x_sizes[c]) for c in uniq])
    if len(uniq) != len(s):
        g_sizes = dict(zip(uniq, _shape(g)))
        first = {}
        for p, c in enumerate(s):
            first.setdefault(c, p)
        full = [g_sizes[c] for c in s]
        g = arr.reshape(g, [g_sizes[c] if first[c] == p else 1 for p, c in enumerate(s)])
        mask = np.ones(full, dtype=bool)
        for p, c in enumerate(s):
            q = first[c]
            if q != p:
                ar = np.arange(full[p])
                shp_p = [1] * len(full)
                shp_p[p] = full[p]
                shp_q = [1] * len(full)
                shp_q[q] = full[q]
                mask = mask & (ar.reshape(shp_q) == ar.reshape(shp_p))
        mask_t = convert_to_tensor(mask.astype(x._value.dtype), device=x._device)
        g = m.multiply(arr.broadcast_to(g, full), mask_t)
    return g


def _einsum_call(equation, xs):
    return call(einsum_p, tuple(xs), {"equation": equation})


def einsum(equation, *inputs, **kwargs):
    """Tensor contraction over subscripts in Einstein summation notation.

    Args:
      equation: e.g. ``'ij,jk->ik'``, ``'...ij,...jk->...ik'``, ``'ii'`` (implicit
        output: letters used once, sorted).
      *inputs: tensors of one dtype, one per comma-separated subscript.

    Returns:
      The contraction; its gradient is again an einsum, so it is differentiable twice.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError("einsum: at least one input tensor is required")
    xs = [t(inputs[0])]
    for i, x in enumerate(inputs[1:], 1):
        x = operands(xs[0], x, "Einsum")[1]
        if x._value.dtype != xs[0]._value.dtype:
            raise DTypeMismatchError(
                f"cannot compute Einsum as input #{i}(zero-based) was expected to be a "
                f"{xs[0].dtype.name} tensor but is a {x.dtype.name} tensor [Op:Einsum]")
        xs.append(x)
    m._check("Einsum", xs[0], "fciu")
    shapes = [_shape(x) for x in xs]
    ins, out, ell = _parse_einsum(equation, shapes)
    _einsum_sizes(ins, shapes, ell)
    return _einsum_call(",".join(ins) + "->" + out, xs)
