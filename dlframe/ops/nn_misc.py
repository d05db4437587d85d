"""Smaller ``tf.nn`` ops: ``collapse_repeated``, ``ctc_unique_labels``,
``isotonic_regression``, ``batch_norm_with_global_normalization``,
``with_space_to_batch``, ``atrous_conv2d_transpose`` and ``tf.approx_top_k``
(plus the ``tf.nn`` names of ``approx_max_k`` / ``approx_min_k``).

Label utilities run on the host (their output width depends on the values);
isotonic regression runs the pool-adjacent-violators algorithm per row and its
gradient averages the incoming gradient over each pooled segment (a self-adjoint
linear map, so it is differentiable to any order).
"""

import collections

from dlframe.backends.base import np  # host-side PAVA and label compaction
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import array as _array
from dlframe.ops import math as _math
from dlframe.ops._util import t
from dlframe.ops.conv import conv2d_transpose
from dlframe.ops.counting import approx_max_k, approx_min_k  # noqa: F401 - tf.nn names
from dlframe.ops.nn_extra import batch_to_space, space_to_batch_nd
from dlframe.ops.reduction import top_k

IsotonicRegression = collections.namedtuple("IsotonicRegression", ["output", "segments"])
ApproxTopK = collections.namedtuple("ApproxTopK", ["values", "indices"])


# ---------------------------------------------------------------- CTC label helpers
@primitive("CollapseRepeated", n_out=2)
def _collapse_p(d, labels, lengths):
    host, lens = d.to_numpy(labels), d.to_numpy(lengths)
    rows = []
    for row, n in zip(host, lens):
        row = row[:max(int(n), 0)]
        keep = np.ones(len(row), bool)
        keep[1:] = row[1:] != row[:-1]
        rows.append(row[keep])
    width = max((len(r) for r in rows), default=0)
    out = np.zeros((len(rows), width), host.dtype)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    new_lens = np.array([len(r) for r in rows], dtype=lens.dtype)
    return d.xp.asarray(out), d.xp.asarray(new_lens)


_collapse_p.value_shaped = True   # the output width depends on the values


def collapse_repeated(labels, seq_length, name=None):
    """Merges consecutive repeated labels of each sequence (as CTC decoding does).

    Args:
      labels: ``[batch, max_length]`` int tensor.
      seq_length: ``[batch]`` int tensor, each row's length.
      name: unused.

    Returns:
      ``(collapsed_labels [batch, new_max_length], new_seq_length [batch])``,
      rows padded with 0 after their new length.
    """
    x, lens = t(labels), t(seq_length)
    if x.ndim != 2 or lens.ndim != 1 or int(lens.shape[0]) != int(x.shape[0]):
        raise ValueError(f"collapse_repeated: labels must be [batch, max_length] and "
                         f"seq_length [batch]; received {list(x.shape)} and "
                         f"{list(lens.shape)}")
    return call(_collapse_p, (x, lens))


@primitive("CtcUniqueLabels", n_out=2)
def _unique_labels_p(d, labels):
    host = d.to_numpy(labels)
    uniq = np.zeros(host.shape, np.int64)
    idx = np.zeros(host.shape, np.int32)
    for i, row in enumerate(host):
        values, first, inverse = np.unique(row, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")   # first-occurrence order, as tf.unique
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        uniq[i, :len(values)] = values[order]
        idx[i] = rank[inverse.reshape(-1)]
    return d.xp.asarray(uniq), d.xp.asarray(idx)


def ctc_unique_labels(labels, name=None):
    """The distinct labels of each row (``tf.unique`` per row), for ``ctc_loss``'s
    ``unique`` argument.

    Args:
      labels: ``[batch, max_label_length]`` int tensor.
      name: unused.

    Returns:
      ``[unique_labels, idx]``: int64 ``[batch, max_label_length]`` distinct labels in
      first-occurrence order padded with 0, and int32 positions of each label in them.
    """
    x = t(labels)
    if x.ndim != 2 or not x.dtype.is_integer:
        raise ValueError(f"ctc_unique_labels: labels must be a 2-D int tensor; received "
                         f"{x.dtype.name} {list(x.shape)}")
    return list(call(_unique_labels_p, (x,)))


# ---------------------------------------------------------------- isotonic regression
def _pava_row(y):
    """Non-decreasing least-squares fit of ``y`` and its segment ids."""
    sums, counts = [], []
    for v in y:
        sums.append(float(v))
        counts.append(1)
        while len(sums) > 1 and sums[-2] / counts[-2] > sums[-1] / counts[-1]:
            s, c = sums.pop(), counts.pop()
            sums[-1] += s
            counts[-1] += c
    seg = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
    return np.repeat(np.array(sums) / np.array(counts), counts), seg


@primitive("IsotonicRegression", n_out=2)
def _isotonic_p(d, x, *, decreasing):
    host = d.to_numpy(x)
    flat = host.reshape(-1, host.shape[-1]) if host.size else host.reshape(0, 1)
    out = np.empty(flat.shape, np.float64)
    seg = np.empty(flat.shape, np.int32)
    sign = -1.0 if decreasing else 1.0
    for i, row in enumerate(flat):
        fit, seg[i] = _pava_row(sign * row.astype(np.float64))
        out[i] = sign * fit
    return (d.xp.asarray(out.reshape(host.shape).astype(host.dtype)),
            d.xp.asarray(seg.reshape(host.shape)))


@primitive("SegmentRowMean")
def _segment_mean_p(d, dy, segments):
    xp = d.xp
    rows = dy.reshape(-1, dy.shape[-1]) if dy.size else dy.reshape(0, 1)
    seg = segments.reshape(rows.shape)
    n = rows.shape[1]
    ids = seg + (xp.arange(rows.shape[0]) * n)[:, None]   # one id per (row, segment)
    total = xp.zeros(rows.size, dtype=dy.dtype)
    count = xp.zeros(rows.size, dtype=dy.dtype)
    xp.add.at(total, ids.reshape(-1), rows.reshape(-1))
    xp.add.at(count, ids.reshape(-1), 1)
    return (total[ids] / count[ids]).reshape(dy.shape)


@_segment_mean_p.defgrad
def _segment_mean_grad(inputs, out, dy):
    return call(_segment_mean_p, (dy, inputs[1])), None   # averaging is self-adjoint


@_isotonic_p.defgrad
def _isotonic_grad(inputs, outs, dys, *, decreasing):
    return call(_segment_mean_p, (dys[0], outs[1]))


def isotonic_regression(inputs, decreasing=True, axis=-1):
    """Least-squares monotone fit of each vector along ``axis``.

    Args:
      inputs: a tensor; ints become float32 (8/16-bit) or float64.
      decreasing: fit a non-increasing (True) or non-decreasing (False) sequence.
      axis: the fitted dimension.

    Returns:
      ``(output, segments)``: the fit (differentiable) and int32 ids of the pooled
      runs of equal values along ``axis``, counted from 0 per vector.
    """
    x = t(inputs)
    if not x.dtype.is_floating:
        small = x.dtype in (dtypes.int8, dtypes.int16, dtypes.uint8, dtypes.uint16)
        x = _math.cast(x, dtypes.float32 if small else dtypes.float64)
    nd = x.ndim
    if nd == 0:
        raise ValueError("isotonic_regression: inputs must have at least one dimension")
    ax = int(axis)
    if not -nd <= ax < nd:
        raise ValueError(f"isotonic_regression: axis {axis} is out of range for a "
                         f"rank-{nd} input")
    ax %= nd
    perm = None
    if ax != nd - 1:
        perm = [i for i in range(nd) if i != ax] + [ax]
        x = _array.transpose(x, perm)
    out, seg = call(_isotonic_p, (x,), {"decreasing": bool(decreasing)})
    if perm is not None:
        back = [perm.index(i) for i in range(nd)]
        out, seg = _array.transpose(out, back), _array.transpose(seg, back)
    return IsotonicRegression(out, seg)


# ---------------------------------------------------------------- batch norm (v1 API)
def batch_norm_with_global_normalization(input=None, mean=None, variance=None,
                                         beta=None, gamma=None, variance_epsilon=None,
                                         scale_after_normalization=None, name=None,
                                         t=None, m=None, v=None):
    """``(input - mean) / sqrt(variance + variance_epsilon) * gamma + beta`` over the
    last dimension (``gamma`` only when ``scale_after_normalization``).

    ``t``, ``m`` and ``v`` are the TF 1 spellings of ``input``, ``mean`` and
    ``variance``.
    """
    x = input if input is not None else t
    mu = mean if mean is not None else m
    var = variance if variance is not None else v
    if any(a is None for a in (x, mu, var, beta, gamma, variance_epsilon,
                               scale_after_normalization)):
        raise TypeError("batch_norm_with_global_normalization: input, mean, variance, "
                        "beta, gamma, variance_epsilon and scale_after_normalization "
                        "are required")
    x = _as_tensor(x)
    inv = _math.rsqrt(_math.add(var, variance_epsilon))
    if scale_after_normalization:
        inv = _math.multiply(inv, gamma)
    return _math.add(_math.multiply(_math.subtract(x, mu), inv), beta)


def _as_tensor(x):   # ``t`` is shadowed by the TF 1 argument name above
    from dlframe.ops._util import t as to_tensor
    return to_tensor(x)


# ---------------------------------------------------------------- approx top-k
def approx_top_k(input, k, reduction_dimension=-1, recall_target=0.95, is_max_k=True,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The ``k`` largest (``is_max_k``) or smallest entries along
    ``reduction_dimension`` and their int32 indices, computed exactly (an exact answer
    meets any ``recall_target``)."""
    x = _as_tensor(input)
    nd = x.ndim
    dim = int(reduction_dimension)
    if not -nd <= dim < nd:
        raise InvalidArgumentError(f"approx_top_k: reduction_dimension {dim} is out of "
                                   f"range for a rank-{nd} input")
    dim %= nd
    perm = [i for i in range(nd) if i != dim] + [dim]
    moved = _array.transpose(x, perm) if dim != nd - 1 else x
    if is_max_k:
        values, indices = top_k(moved, k)
    else:
        values, indices = top_k(_math.negative(moved), k)
        values = _math.negative(values)
    if dim != nd - 1:
        back = [perm.index(i) for i in range(nd)]
        values, indices = _array.transpose(values, back), _array.transpose(indices, back)
    return ApproxTopK(values, indices)


# ---------------------------------------------------------------- dilated wrappers
def with_space_to_batch(input, dilation_rate, padding, op, filter_shape=None,
                        spatial_dims=None, data_format=None):
    """Runs ``op(converted_input, num_spatial_dims, padding)`` on the
    space-to-batch form of ``input``, turning a dilated operation into a dense one.

    Args:
      input: ``[batch] + spatial + [channels]`` tensor.
      dilation_rate: ``N`` ints, the dilation of each spatial dimension.
      padding: ``"VALID"`` or ``"SAME"`` (then ``filter_shape`` is required).
      op: ``op(input, num_spatial_dims, padding)`` (called with ``"VALID"`` when the
        input is space-to-batched).
      filter_shape: the filter's spatial shape (for ``"SAME"``).
      spatial_dims: the spatial dimensions; only ``1..N`` (channels last) is
        supported.
      data_format: ``None`` or a channels-last format ("NWC", "NHWC", "NDHWC").
    """
    x = _as_tensor(input)
    rate = [int(r) for r in np.atleast_1d(np.asarray(dilation_rate))]
    n = len(rate)
    if min(rate) < 1:
        raise ValueError(f"dilation_rate must be positive; received {dilation_rate!r}")
    if spatial_dims is not None and list(spatial_dims) != list(range(1, n + 1)):
        raise ValueError(f"with_space_to_batch supports spatial_dims {list(range(1, n + 1))}"
                         f" (channels last) only; received {spatial_dims!r}")
    if data_format is not None and str(data_format).startswith("NC"):
        raise ValueError(f"with_space_to_batch supports channels-last data formats only; "
                         f"received {data_format!r}")
    if padding not in ("VALID", "SAME"):
        raise ValueError(f"padding must be 'VALID' or 'SAME'; received {padding!r}")
    if rate == [1] * n:
        return op(x, n, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError("filter_shape must be specified for SAME padding")
        spans = [(int(f) - 1) * r for f, r in zip(filter_shape, rate)]
        base = [[s // 2, s - s // 2] for s in spans]
    else:
        base = [[0, 0]] * n
    sizes = [int(s) for s in x.shape[1:n + 1]]
    extra = [(-(size + b[0] + b[1])) % r for size, b, r in zip(sizes, base, rate)]
    pads = [[b[0], b[1] + e] for b, e in zip(base, extra)]
    y = op(space_to_batch_nd(x, rate, pads), n, "VALID")
    return batch_to_space(y, rate, [[0, e] for e in extra])


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """The transpose (input gradient) of ``atrous_conv2d``.

    Args:
      value: ``[batch, height, width, in_channels]``.
      filters: ``[height, width, out_channels, in_channels]``.
      output_shape: the 4 output dimensions.
      rate: the positive dilation rate.
      padding: ``"SAME"`` or ``"VALID"``.
    """
    if int(rate) < 1:
        raise ValueError(f"rate {rate} cannot be less than one")
    return conv2d_transpose(value, filters, output_shape, 1, padding,
                            dilations=int(rate))


NN_NAMES = ["collapse_repeated", "ctc_unique_labels", "isotonic_regression",
            "batch_norm_with_global_normalization", "with_space_to_batch",
            "atrous_conv2d_transpose", "approx_max_k", "approx_min_k"]
__all__ = ["approx_top_k"]
