"""``tf.image.resize``: every method is separable and linear, so a resize is one
interpolation matrix per spatial axis: the forward is ``W_h @ image @ W_w^T`` and the
gradient is the same product with the transposed matrices (a second primitive whose
own gradient is the forward again). Also the NHWC batching and ``size`` checks the
other image ops share.
"""

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core import static_dims as _static_dims
from dlframe.core.primitive import STATE, call, primitive
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError, ShapeMismatchError
from dlframe.ops import array as _array
from dlframe.ops import dynamic_shape as _dyn
from dlframe.ops import math as _math
from dlframe.ops._util import probing_branch, stand_in, t
from dlframe.ops.image_resize_kernels import kernel_matrix


class ResizeMethod:
    """Names of the ``tf.image.resize`` methods."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
            "gaussian", "mitchellcubic")


# ---------------------------------------------------------------- resize matrices
def _interp_matrix(xp, method, n_in, n_out, dtype):
    """(n_out, n_in) matrix mapping a signal of length n_in to n_out samples (TF2
    half-pixel centers for bilinear/nearest/bicubic, exact box overlap for area)."""
    scale = n_in / n_out
    o = xp.arange(n_out, dtype="float64")
    cols = xp.arange(n_in)[None, :]
    w = xp.zeros((n_out, n_in), dtype="float64")

    def add(idx, weight):
        return (cols == idx[:, None]) * weight[:, None]

    if method == "nearest":
        idx = xp.minimum(xp.floor((o + 0.5) * scale), n_in - 1).astype("int64")
        w = w + add(idx, xp.ones(n_out))
    elif method == "bilinear":
        pos = (o + 0.5) * scale - 0.5
        low = xp.floor(pos)
        frac = pos - low
        lo = xp.clip(low, 0, n_in - 1).astype("int64")
        hi = xp.clip(low + 1, 0, n_in - 1).astype("int64")
        w = w + add(lo, 1 - frac) + add(hi, frac)
    elif method == "bicubic":
        pos = (o + 0.5) * scale - 0.5
        low = xp.floor(pos)
        s = xp.round((pos - low) * 1024) / 1024  # TF reads a 1024-entry weight table
        a = -0.5  # Keys cubic kernel, as TF's half-pixel bicubic
        taps = (s + 1, s, 1 - s, 2 - s)
        total = xp.zeros(n_out)
        for k, dist in enumerate(taps):
            near = ((a + 2) * dist - (a + 3)) * dist * dist + 1
            far = ((a * dist - 5 * a) * dist + 8 * a) * dist - 4 * a
            weight = xp.where(dist <= 1, near, far)
            idx = low - 1 + k
            inside = (idx >= 0) & (idx <= n_in - 1)
            weight = weight * inside  # out-of-image taps are dropped, then renormalized
            total = total + weight
            w = w + add(xp.clip(idx, 0, n_in - 1).astype("int64"), weight)
        w = w / total[:, None]
    elif "@" in method:   # "<kernel>@aa" / "<kernel>@plain": kernel resampling
        kernel, _, mode = method.partition("@")
        w = kernel_matrix(xp, kernel, n_in, n_out, antialias=mode == "aa")
    elif method == "area":
        start = o * scale
        stop = (o + 1) * scale
        c = xp.arange(n_in, dtype="float64")[None, :]
        overlap = xp.minimum(c + 1, stop[:, None]) - xp.maximum(c, start[:, None])
        w = xp.maximum(overlap, 0) / scale
    return w.astype(dtype)


_MATRIX_CACHE = {}


def _matrix(d, method, n_in, n_out, dtype):
    key = (d.name, method, n_in, n_out, str(dtype))
    m = _MATRIX_CACHE.get(key)
    if m is None:
        if len(_MATRIX_CACHE) > 256:
            _MATRIX_CACHE.clear()
        m = _MATRIX_CACHE[key] = _interp_matrix(d.xp, method, n_in, n_out, dtype)
    return m


def _apply(d, x, mh, mw):
    """``mh @ x @ mw^T`` over the H and W axes of an NHWC array."""
    b, h, w, c = x.shape
    y = d.matmul(mh, x.reshape(b, h, w * c))  # (b, oh, w*c)
    oh = mh.shape[0]
    y = d.matmul(mw, y.reshape(b * oh, w, c))  # (b*oh, ow, c)
    return y.reshape(b, oh, mw.shape[0], c)


@primitive("ResizeImage")
def resize_p(d, x, *, method, size):
    h, w = x.shape[1:3]
    if method == "nearest":
        xp = d.xp
        rows = xp.minimum(xp.floor((xp.arange(size[0]) + 0.5) * (h / size[0])),
                          h - 1).astype("int64")
        cols = xp.minimum(xp.floor((xp.arange(size[1]) + 0.5) * (w / size[1])),
                          w - 1).astype("int64")
        return xp.take(xp.take(x, rows, axis=1), cols, axis=2)
    mh = _matrix(d, method, h, size[0], x.dtype)
    mw = _matrix(d, method, w, size[1], x.dtype)
    return _apply(d, x, mh, mw)


resize_p.static_shape = lambda in_dims, attrs: (
    in_dims[0][:1] + list(attrs["size"]) + in_dims[0][3:])


@primitive("ResizeImageGrad")
def resize_grad_p(d, dy, *, method, in_size):
    mh = _matrix(d, method, in_size[0], dy.shape[1], dy.dtype)
    mw = _matrix(d, method, in_size[1], dy.shape[2], dy.dtype)
    return _apply(d, dy, mh.T, mw.T)


@resize_p.defgrad
def _resize_grad(inputs, out, dy, *, method, size):
    return call(resize_grad_p, (dy,), {"method": method,
                                       "in_size": tuple(inputs[0]._value.shape[1:3])})


@resize_grad_p.defgrad
def _resize_grad_grad(inputs, out, ddx, *, method, in_size):
    return call(resize_p, (ddx,), {"method": method,
                                   "size": tuple(inputs[0]._value.shape[1:3])})


@primitive("DynamicResizeImage")
def resize_dyn_p(d, x, size, *, method, keep_aspect):
    """``resize_p`` with ``size`` a tensor input read when it runs (a size computed
    from a function's tensor arguments)."""
    nh, nw = (int(v) for v in d.to_numpy(size).reshape(-1))
    if (nh <= 0 or nw <= 0) and probing_branch():   # a trace's placeholder size
        nh, nw = stand_in((max(nh, 1), max(nw, 1)))   # (the graph's runs check)
    if nh <= 0 or nw <= 0:
        raise InvalidArgumentError(f"resize: 'size' must be positive, got {[nh, nw]}")
    if keep_aspect:
        nh, nw = _aspect_fit(x.shape[1], x.shape[2], nh, nw)
    return resize_p.forward(d, x, method=method, size=(nh, nw))


resize_dyn_p.value_shaped = True   # its output size depends on input values
resize_dyn_p.static_shape = lambda in_dims, attrs: (
    in_dims[0][:1] + [None, None] + in_dims[0][3:])


@resize_dyn_p.defgrad
def _resize_dyn_grad(inputs, out, dy, *, method, keep_aspect):
    return _resize_grad(inputs, out, dy, method=method, size=None), None


def _aspect_fit(h, w, nh, nw):
    factor = min(nh / h, nw / w)
    return round(h * factor), round(w * factor)


def _note_hidden_size(out, size):
    """Inside a trace, marks the spatial dims of ``out`` unknown where the ``size``
    values are ones TF's graph would not know (``tf.shape(x)[1:3] * 2`` of an input
    with None dims)."""
    trace = STATE.trace
    if getattr(trace, "value_mask", None) is None or id(out) not in getattr(
            trace, "produced", ()):
        return out
    if isinstance(size, Tensor):
        mask = _static_dims.hidden_values(trace, size)
        hidden = [] if mask is None else [bool(m) for m in mask.reshape(-1)]
    else:
        hidden = [isinstance(s, Tensor) and
                  _static_dims.hidden_values(trace, s) is not None for s in size]
    axes = frozenset(1 + a for a, h in enumerate(hidden[:2]) if h)
    if axes:
        trace.note_unknown(out, axes)
    return out


def _batched(images, op):
    x = t(images)
    nd = x._value.ndim
    if nd not in (3, 4):  # TF's static check raises ValueError; this is also one
        raise ShapeMismatchError(f"{op}: 'images' must have either 3 or 4 dimensions, "
                                 f"got shape {list(x._value.shape)}")
    return (x if nd == 4 else _array.expand_dims(x, 0)), nd == 3


def _unbatch(x, squeeze):
    return _array.squeeze(x, [0]) if squeeze else x


def _size(size, op="resize"):
    if isinstance(size, Tensor):
        if size.dtype.is_floating:
            size = [0.5]  # rejected below: TF needs an integer size
        else:
            size = size.numpy().tolist()
    try:
        h, w = (_int_size(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: 'size' must be a 1-D int32 Tensor of 2 elements: "
                         f"new_height, new_width, got {size!r}") from None
    if h <= 0 or w <= 0:
        # TF: InvalidArgumentError for 0, ValueError for a negative size
        raise ShapeMismatchError(f"{op}: 'size' must be positive, got {[h, w]}")
    return h, w


def _int_size(s):
    """One element of a resize ``size``: an int (Python, NumPy or integer scalar
    Tensor); floats raise, as TF's int32 conversion does."""
    if isinstance(s, Tensor):
        if not s.dtype.is_integer:
            raise TypeError(s)
        s = s.numpy()
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
        raise TypeError(s)
    return int(s)


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False,
           antialias=False, name=None):
    """Resizes images to ``size`` (TF2 semantics: half-pixel centers).

    Args:
      images: 4-D [batch, height, width, channels] or 3-D [height, width, channels].
      size: [new_height, new_width].
      method: 'bilinear', 'nearest', 'bicubic', 'area', 'lanczos3', 'lanczos5',
        'gaussian' or 'mitchellcubic'.
      preserve_aspect_ratio: fit inside ``size`` keeping the aspect ratio.
      antialias: when downsampling, widen the filter to cover every input pixel
        (no effect on 'nearest' and 'area').

    Returns:
      float32 images, except 'nearest' which keeps the input dtype.
    """
    method = getattr(method, "value", method)
    if method not in _METHODS:
        raise ValueError(f"Resize method is not implemented: [{method}]")
    x, squeeze = _batched(images, "resize")
    h, w = x._value.shape[1:3]
    traced = _dyn.traced(size)
    if preserve_aspect_ratio and None in _static_dims.graph_dims(x)[1:3]:
        # the fitted size follows the image's, read when the graph runs (a decoded
        # image in Dataset.map): not the traced image's, baked in
        traced, size = True, list(_size(size))
    if not traced:
        nh, nw = _size(size)
        if preserve_aspect_ratio:
            nh, nw = _aspect_fit(h, w, nh, nw)
    kernel = method not in ("nearest", "area") and (
        antialias or method not in ("bilinear", "bicubic"))
    if method != "nearest" and x._value.dtype != dtypes.float32._np:
        x = _math.cast(x, dtypes.float32)
    if kernel:   # TF's scale_and_translate path (which blurs even at equal size)
        method = f"{method}@{'aa' if antialias else 'plain'}"
    if traced:   # values TF's graph reads when it runs: None dims
        size = _dyn.shape_tensor(size, "resize", x._device)
        if size._value.shape != (2,) or not size.dtype.is_integer:
            raise ValueError(f"resize: 'size' must be a 1-D int32 Tensor of 2 "
                             f"elements: new_height, new_width, got {size!r}")
        return _unbatch(call(resize_dyn_p, (x, size), {
            "method": method, "keep_aspect": bool(preserve_aspect_ratio)}), squeeze)
    # TF skips an equal-size resize only where the graph knows the size; a resize
    # of a decoded image (unknown size) gives its static shape [nh, nw]
    if (nh, nw) != tuple(_static_dims.graph_dims(x)[1:3]) or kernel or \
            method == "area":
        x = _note_hidden_size(call(resize_p, (x,), {"method": method,
                                                    "size": (nh, nw)}), size)
    return _unbatch(x, squeeze)


def _resize_float(images, size, method="bilinear"):
    """Resize keeping a floating dtype (float64 for gradient checks)."""
    x, squeeze = _batched(images, "resize")
    return _unbatch(call(resize_p, (x,), {"method": method, "size": _size(size)}),
                    squeeze)
