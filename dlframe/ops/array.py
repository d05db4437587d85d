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
from dlframe.ops._util import t
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
    reshape,
    reshape_like_p,
    reshape_p,
    squeeze,
    squeeze_p,
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


def ensure_shape(x, shape, name=None):
    """Returns ``x`` after checking its shape is compatible with ``shape`` (None = any)."""
    x = t(x)
    if shape is None:
        return x
    # as TF, through TensorShape: a negative dim (-1) is a ValueError (None is "any")
    shape = _TensorShape(shape)
    if shape.rank is None:
        return x
    want = shape.as_list()
    placeholder = getattr(STATE.trace, "shape_placeholder", None)
    if placeholder is not None:   # a tf.data spec trace's py_function result
        placeholder(x, want)
    have = list(x._value.shape)
    _static_dims.check_static_compatible(x, want, "EnsureShape")
    if len(want) != len(have) or any(w is not None and w != h for w, h in zip(want, have)):
        exp = ",".join("?" if w is None else str(w) for w in want)
        raise InvalidArgumentError(
            f"EnsureShape: Shape of tensor {name or 'input'} [{','.join(map(str, have))}] "
            f"is not compatible with expected shape [{exp}]. [Op:EnsureShape]")
    x.set_shape(want)   # a trace keeping static shapes (Dataset.map) learns them
    return x


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
