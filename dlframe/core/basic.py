"""Primitives the tape itself needs: add, ones/zeros_like, sum_to and broadcast_to.

They live in core because GradientTape accumulates gradients (add), seeds them
(ones_like), fills unconnected ones (zeros_like) and undoes broadcasting
centrally (sum_to). ``dlframe.ops`` re-exports these same primitives.
"""

from dlframe.backends.base import np
from dlframe.core.primitive import call, primitive
from dlframe.errors import ShapeMismatchError


def _broadcast_error(op, a, b):
    return ShapeMismatchError(
        f"{op}: Incompatible shapes: {list(a)} vs. {list(b)}")


@primitive("AddV2")
def add_p(d, x, y):
    try:
        return d.xp.add(x, y)
    except ValueError:
        raise _broadcast_error("AddV2", x.shape, y.shape) from None


add_p.into = np.add


@add_p.defgrad
def _add_grad(inputs, out, dy):
    return dy, dy


@primitive("OnesLike")
def ones_like_p(d, x):
    return d.xp.ones_like(x)


@primitive("ZerosLike")
def zeros_like_p(d, x):
    if x.dtype == object:   # a string tensor's zero is b""
        flat = x.reshape(-1)
        if any(r is None or hasattr(r, "dtype") and not isinstance(r, (bytes, str))
               for r in flat):
            # a ragged TensorArray buffer (ops.list_ops), or a loop's history of
            # one: zero rows (a 0-d zero for a row not written, which adds to any
            # row in a gradient sum)
            out = flat.copy()
            for i, r in enumerate(flat):
                out[i] = r * 0 if r is not None else 0
            return out.reshape(x.shape)
        return d.xp.full(x.shape, b"", dtype=object)
    return d.xp.zeros_like(x)


def _sum_to_array(d, g, shape):
    """Sums ``g`` over the axes that broadcasting added to reach ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    out = d.sum(g, axes, keepdims=True) if axes else g
    if lead:
        out = out.reshape(out.shape[lead:])
    return d.xp.asarray(out).reshape(shape)


@primitive("SumTo")
def sum_to_p(d, g, *, shape):
    return _sum_to_array(d, g, tuple(shape))


@sum_to_p.defgrad
def _sum_to_grad(inputs, out, dy, *, shape):
    return broadcast_to(dy, tuple(inputs[0]._value.shape))


@primitive("BroadcastTo", aliases=True)
def broadcast_to_p(d, x, *, shape):
    try:
        return d.xp.broadcast_to(x, tuple(shape))
    except ValueError:
        raise ShapeMismatchError(
            f"BroadcastTo: cannot broadcast shape {list(x.shape)} to {list(shape)}") from None


@broadcast_to_p.defgrad
def _broadcast_to_grad(inputs, out, dy, *, shape):
    return sum_to(dy, tuple(inputs[0]._value.shape))


def add(x, y):
    """x + y for two Tensors of the same dtype and device."""
    return call(add_p, (x, y))


def ones_like_t(x):
    return call(ones_like_p, (x,))


def zeros_like_t(x):
    return call(zeros_like_p, (x,))


def sum_to(g, shape):
    """Sums a broadcast gradient back down to ``shape``."""
    shape = tuple(shape)
    if tuple(g._value.shape) == shape:
        return g
    return call(sum_to_p, (g,), {"shape": shape})


def broadcast_to(x, shape):
    shape = tuple(shape)
    if tuple(x._value.shape) == shape:
        return x
    return call(broadcast_to_p, (x,), {"shape": shape})
