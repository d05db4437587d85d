"""TF's depthwise max pooling: ``tf.nn.max_pool`` with a window across channels
(``ksize=[1, 1, 1, k]``), a composite of a reshape and a max (its gradient is the
max's)."""

from dlframe.errors import UnimplementedError
from dlframe.ops import array as _array
from dlframe.ops import reduction as _reduction


def full_attr(value, r):
    """A ksize/strides given for every dim (batch, spatial..., depth) as ints, else
    None."""
    if hasattr(value, "numpy"):
        value = value.numpy().tolist()
    if isinstance(value, (list, tuple)) and len(value) == r + 2:
        return [int(v) for v in value]
    return None


def depth_max_pool(op, x, r, ksize, strides):
    """TF's depthwise max pooling (``ksize=[1, 1, 1, k]``, Géron ch. 14): the max of
    each group of k channels; the padding does not matter (k divides the depth)."""
    strides = strides or [1] * (r + 2)
    if ksize[0] != 1 or strides[0] != 1:
        raise UnimplementedError(f"{op}: Pooling is not yet supported on the batch "
                                 f"dimension. Received: ksize={ksize} [Op:{op}]")
    if any(v != 1 for v in ksize[1:-1] + strides[1:-1]):
        raise UnimplementedError(
            f"{op}: MaxPooling supports exactly one of pooling across depth or pooling "
            f"across width/height. Received: ksize={ksize}, strides={strides} "
            f"[Op:{op}]")
    depth, window = x._value.shape[-1], ksize[-1]
    if strides[-1] != window:
        raise UnimplementedError(
            f"{op}: Depthwise max pooling requires the depth window to equal the depth "
            f"stride. Received: ksize={ksize}, strides={strides} [Op:{op}]")
    if depth % window:
        raise UnimplementedError(
            f"{op}: Depthwise max pooling requires the depth window to evenly divide "
            f"the input depth. Received: ksize={ksize}, input depth {depth} [Op:{op}]")
    groups = _array.reshape(x, [-1] + list(x._value.shape[1:-1]) + [depth // window,
                                                                    window])
    return _reduction.reduce_max(groups, axis=-1)
