"""The row partitions of a RaggedTensor as tensors: the checks of a splits or
lengths argument, lengths to splits, and ``tf.ragged.segment_ids_to_row_splits`` /
``row_splits_to_segment_ids`` (re-exported by ``ragged_tensor``)."""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.ops import ragged_kernels as K
from dlframe.ops.array import concat
from dlframe.ops.logic import cast
from dlframe.ops.reduction import cumsum


def _splits_arg(value, name, dtype=None, like=None):
    """``value`` as an int32/int64 vector Tensor (Python lists become int64, on the
    device of the values ``like``)."""
    if isinstance(value, Tensor):
        if value.dtype not in (dtypes.int32, dtypes.int64):
            raise ValueError(f"{name} must be an int32 or int64 tensor, got "
                             f"{value.dtype.name}")
        out = value
    else:
        device = None if like is None else getattr(like, "flat_values", like)._device
        out = convert_to_tensor(value, dtype=dtypes.int64, device=device)
    if dtype is not None and out.dtype != dtype:
        out = cast(out, dtype)
    if out.ndim != 1:
        raise ValueError(f"{name} must be a vector (rank 1), got shape {list(out.shape)}")
    return out


def _prepend_zero(lengths):
    zero = convert_to_tensor(np.zeros((1,), dtype=lengths.dtype.as_numpy_dtype),
                             device=lengths._device)
    return concat([zero, cumsum(lengths)], 0)


def _zero_splits(rows):
    return convert_to_tensor(np.zeros((rows + 1,), dtype=np.int64))


def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None, name=None):
    """Row splits of the sorted ``segment_ids`` (``num_segments`` rows; default
    ``max(segment_ids) + 1``)."""
    ids = _splits_arg(segment_ids, "segment_ids")
    dt = dtypes.as_dtype(out_type) if out_type is not None else ids.dtype
    num = None if num_segments is None else int(num_segments)
    return call(K.ids_to_splits_p, (ids,), {"num": num, "dtype": dt.as_numpy_dtype})


def row_splits_to_segment_ids(splits, name=None, out_type=None):
    """For each value, the index of its row: the inverse of
    ``segment_ids_to_row_splits``."""
    s = _splits_arg(splits, "splits")
    out = call(K.row_ids_p, (s,))
    return out if out_type is None else cast(out, out_type)
