"""Convolution and pooling geometry on the host: output sizes, SAME/VALID/explicit
padding, data formats and per-dimension attributes (strides, dilations).
"""

from dlframe.errors import InvalidArgumentError, ShapeMismatchError, UnimplementedError
from dlframe.ops.array import transpose


def out_size(n, k, s, dil, lo, hi, op):
    """Output length of a window sweep; raises like TF when it would be negative."""
    span = n + lo + hi - ((k - 1) * dil + 1)
    if span < 0:
        # TF: InvalidArgumentError from the kernel, ValueError from a Keras layer
        raise ShapeMismatchError(
            f"{op}: Computed output size would be negative: {span // s + 1} "
            f"[input_size: {n}, effective_filter_size: {(k - 1) * dil + 1}, stride: {s}] "
            f"[Op:{op}]")
    return span // s + 1


def same_pads(n, k, s, dil):
    """TF 'SAME' padding of one dim: output ceil(n/s), extra padding after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * dil + 1 - n, 0)
    return (total // 2, total - total // 2)


def channels_last(data_format, r, op):
    """True for NWC/NHWC/NDHWC (or None), False for the channels-first formats."""
    if data_format is None or data_format in ("NWC", "NHWC", "NDHWC", "channels_last"):
        return True
    if data_format in ("NCW", "NCHW", "NCDHW", "channels_first"):
        return False
    raise ValueError(f"{op}: `data_format` must be one of NWC/NHWC/NDHWC or "
                     f"NCW/NCHW/NCDHW, got data_format={data_format!r}")


def spatial_attr(value, r, last, op, arg, default=1, batch_msg=None):
    """Per-spatial-dim ints from an int or a list of length 1, r or r + 2."""
    if value is None:
        return (default,) * r
    if hasattr(value, "numpy"):
        value = value.numpy().tolist()
    vals = [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]
    if len(vals) == 1:
        vals = vals * r
    elif len(vals) == r + 2:
        outer = (vals[0], vals[-1]) if last else (vals[0], vals[1])
        if outer != (1, 1):
            raise UnimplementedError(
                f"{op}: " + (batch_msg or f"Current implementation does not yet support "
                             f"{arg} in the batch and depth dimensions.") +
                f" Received: {arg}={list(value)} [Op:{op}]")
        vals = vals[1:-1] if last else vals[2:]
    elif len(vals) != r:
        lengths = "1 or 3" if r == 1 else f"1, {r} or {r + 2}"
        raise ValueError(f"{arg} should be of length {lengths}. Received: {arg}={value!r} "
                         f"of length {len(vals)}")
    if any(v <= 0 for v in vals):
        raise InvalidArgumentError(f"{op}: {arg} must be > 0 in every spatial dimension. "
                                   f"Received: {arg}={value!r} [Op:{op}]")
    return tuple(vals)


def explicit_pads(padding, r, last, op):
    """Spatial (lo, hi) pairs from a TF explicit padding list of r + 2 pairs."""
    try:
        pairs = [tuple(int(v) for v in p) for p in padding]
    except TypeError:
        raise ValueError(f"{op}: padding must be 'SAME', 'VALID' or a list of pairs. "
                         f"Received: padding={padding!r}") from None
    if len(pairs) != r + 2 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"When padding is a list, it must be of size {r + 2}. "
                         f"Received: padding={padding!r} of size {len(pairs)}")
    outer = (pairs[0], pairs[-1]) if last else (pairs[0], pairs[1])
    if any(v != 0 for p in outer for v in p):
        raise InvalidArgumentError(f"{op}: Nonzero explicit padding in the batch or depth "
                                   f"dimensions is not supported. Received: "
                                   f"padding={padding!r} [Op:{op}]")
    spatial = pairs[1:-1] if last else pairs[2:]
    if any(v < 0 for p in spatial for v in p):
        raise InvalidArgumentError(f"{op}: explicit padding must be non-negative. "
                                   f"Received: padding={padding!r} [Op:{op}]")
    return tuple(spatial)


def resolve_pads(padding, in_sp, ks, strides, dils, r, last, op):
    """(pads, out_sp) for 'SAME', 'VALID' or explicit padding."""
    if isinstance(padding, str):
        if padding == "SAME":
            pads = tuple(same_pads(n, k, s, d) for n, k, s, d in
                         zip(in_sp, ks, strides, dils))
        elif padding == "VALID":
            pads = ((0, 0),) * r
        else:
            raise InvalidArgumentError(
                f"{op}: Value for attr 'padding' of \"{padding}\" is not in the list of "
                f"allowed values: \"SAME\", \"VALID\", \"EXPLICIT\" [Op:{op}]")
    else:
        pads = explicit_pads(padding, r, last, op)
    out = tuple(out_size(n, k, s, d, lo, hi, op) for n, k, s, d, (lo, hi) in
                zip(in_sp, ks, strides, dils, pads))
    return pads, out


def to_last(x, r):
    """Channels-first tensor to channels-last."""
    return transpose(x, (0,) + tuple(range(2, r + 2)) + (1,))


def to_first(x, r):
    """Channels-last tensor to channels-first."""
    return transpose(x, (0, r + 1) + tuple(range(1, r + 1)))
