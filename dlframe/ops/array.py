"""Array manipulation: the ``tf`` array op set, re-exported from modules of one job
each (DESIGN.md §1): shape changes in ``array_dims``, joins and splits in
``array_join``, identity and shape metadata in ``array_meta``, tile/pad/reverse/roll in
``array_tile_pad``. They are imported in that order, which keeps the primitives'
registration order; ``meshgrid``, ``ensure_shape`` and ``where``'s index form are here.
"""

from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor_shape import TensorShape as _TensorShape
from dlframe.errors import InvalidArgumentError
from dlframe.ops import dynamic_shape, reduction  # noqa: F401 - see the split below
from dlframe.ops._util import probing_branch, stand_in, t
from dlframe.ops.creation import fill, ones, zeros  # noqa: F401 - re-exported
from dlframe.ops.slicing import getitem  # noqa: F401 - also Tensor.__getitem__

# isort: split
# The pieces load after the modules above, in this order, as the single module did:
# the primitives keep their registration order.
from dlframe.ops.array_dims import (  # noqa: F401 - re-exported
    _one_dynamic_dim,
    _resolve_shape,
    broadcast_to,
    broadcast_to_p,
    expand_dims,
    expand_dims_p,
    probing_call,
    reshape,
    reshape_like_p,
    reshape_p,
    squeeze,
    squeeze_p,
    stand_in_allowed,
    transpose,
    transpose_p,
)
from dlframe.ops.array_join import (  # noqa: F401 - re-exported
    _as_list_of_tensors,
    _autopack,
    _same_dtype,
    _split,
    concat,
    concat_p,
    split,
    split_p,
    stack,
    stack_p,
    unstack,
    unstack_p,
)
from dlframe.ops.array_meta import (  # noqa: F401 - re-exported
    _dynamic,
    _shape_p,
    _size_p,
    identity,
    identity_p,
    rank,
    shape,
    shape_n,
    size,
    stop_gradient,
    stop_gradient_p,
)
from dlframe.ops.array_tile_pad import (  # noqa: F401 - re-exported
    _MIRROR,
    mirror_pad_grad_p,
    mirror_pad_p,
    pad,
    pad_p,
    reverse,
    reverse_p,
    roll,
    roll_p,
    tile,
    tile_p,
)


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from 1-D tensors (``indexing`` 'xy' (default) or 'ij')."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', "
                         f"got '{indexing}'")
    xs = [reshape(t(a), [-1]) for a in args]
    if not xs:
        return []
    sizes = [x._value.shape[0] for x in xs]
    if indexing == "xy" and len(xs) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and len(xs) > 1 and i < 2:
            pos = 1 - i
        shp = [1] * len(xs)
        shp[pos] = -1
        out.append(broadcast_to(reshape(x, shp), sizes))
    return out


def _shape_text(dims):
    return ",".join("?" if d is None else str(d) for d in dims)


@primitive("EnsureShape", aliases=True)
def ensure_shape_p(d, x, *, shape):
    """``x`` itself when its shape is compatible with ``shape`` (None: any size),
    checked whenever the graph runs (a traced call's sizes need not be the run's)."""
    if len(shape) == x.ndim and all(w is None or w == h for w, h in zip(shape, x.shape)):
        return x
    if probing_branch():   # a branch's or probe's values: a stand-in of the shape
        return stand_in(d.xp.resize(x, [h if w is None else w for w, h in zip(
            shape, list(x.shape) + [1] * len(shape))]))
    raise InvalidArgumentError(
        f"EnsureShape: Shape of tensor input [{_shape_text(x.shape)}] is not "
        f"compatible with expected shape [{_shape_text(shape)}]. [Op:EnsureShape]")


# TF's static shape: the input's merged with the asked one (which gives the rank)
ensure_shape_p.static_shape = lambda in_dims, attrs: [
    d if w is None else w for w, d in zip(attrs["shape"], in_dims[0])]
ensure_shape_p.sets_rank = True


@ensure_shape_p.defgrad
def _ensure_shape_grad(inputs, out, dy, *, shape):
    return dy


def ensure_shape(x, shape, name=None):
    """Checks that ``x``'s shape is compatible with ``shape`` and returns it.

    As TF's EnsureShape op, the result is a new tensor whose static shape (inside a
    ``tf.function`` or ``Dataset.map``) is ``x``'s refined by ``shape``; ``x``'s own
    static shape is left alone. The sizes are checked whenever the op runs.

    Args:
      x: a Tensor.
      shape: a TensorShape, list (None for any size) or None (any shape).
      name: ignored (the op's name).

    Returns:
      ``x``'s value, with the refined static shape.

    Raises:
      ValueError: ``shape`` holds a negative size, or (inside a trace) it disagrees
        with ``x``'s static shape.
      InvalidArgumentError: ``x``'s shape is not compatible with ``shape``.
    """
    x = t(x)
    # as TF, through TensorShape: a negative dim (-1) is a ValueError (None is "any")
    shape = _TensorShape(shape)
    if shape.rank is None:
        return identity(x)
    want = shape.as_list()
    placeholder = getattr(STATE.trace, "shape_placeholder", None)
    if placeholder is not None:   # a py_function's placeholder result takes the size
        placeholder(x, want)
    _static_dims.check_static_compatible(x, want, "EnsureShape")
    attrs = {"shape": tuple(want)}
    # sizes a trace's placeholder values need not have (a Dataset.map spec trace):
    # the forward gives a stand-in there (it returns ``x`` itself where it fits)
    out = probing_call(ensure_shape_p, x, attrs) if stand_in_allowed(x) else \
        call(ensure_shape_p, (x,), attrs)
    note = getattr(STATE.trace, "note_static_shape", None)
    if note is not None:   # a spec trace's static view of the result
        note(out, want)
    return out


@primitive("Where")
def where_indices_p(d, condition):
    return d.xp.argwhere(condition).astype("int64")


where_indices_p.value_shaped = True   # its output size depends on input values
where_indices_p.static_shape = lambda in_dims, attrs: [None, len(in_dims[0])]


def _where_indices(condition):
    return call(where_indices_p, (condition,))


__all__ = ["broadcast_to", "concat", "ensure_shape", "expand_dims", "identity",
           "meshgrid", "pad", "rank", "reshape", "reverse", "roll",
           "shape", "shape_n", "size", "split", "squeeze", "stack", "stop_gradient",
           "tile", "transpose", "unstack"]
