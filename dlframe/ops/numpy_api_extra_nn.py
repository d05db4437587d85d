"""More of Keras 3's ``keras.ops``: ``nn`` (adaptive pooling, ``fold``/``unfold``,
``ctc_decode``, ``polar``, ``sparse_sigmoid``, ``sparsemax``), ``math`` (``cdist``,
``erfc``, ``istft``, ``view_as_real``/
``view_as_complex``), ``linalg`` (``eig``, ``lu_factor``, ``jvp``) and
``rearrange`` (einops-style patterns).

Everything but ``ctc_decode``, ``eig`` and ``lu_factor`` (no gradient in any
backend) is written with dlframe ops, so it is differentiable and traceable.
"""

import re

from dlframe import config
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call
from dlframe.core.tape import GradientTape
from dlframe.ops import array as _a
from dlframe.ops import array_index as _ai
from dlframe.ops import ctc as _ctc
from dlframe.ops import math as _m
from dlframe.ops import reduction as _r
from dlframe.ops import segment as _seg
from dlframe.ops import signal_spectral as _spec
from dlframe.ops import sorting as _s
from dlframe.ops import sparse_tensor as _sp
from dlframe.ops.linalg_general import _eig_p, _lu_factor_p, square_matrices
from dlframe.ops.numpy_api import as_tensor, dtype_kind, float_tensor, promote
from dlframe.ops.numpy_api_core import _complex_pair, _window


# ---------------------------------------------------------------- nn
def _channels_last(data_format):
    fmt = data_format or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    return fmt == "channels_last"


def _adaptive_pool(name, reduce):
    def pool(inputs, output_size, data_format=None):
        x = as_tensor(inputs)
        spatial = x._value.ndim - 2
        if spatial not in (1, 2, 3):
            raise ValueError(f"{name}: `inputs` must be 3-D, 4-D or 5-D (batch, "
                             f"spatial..., channels), got shape {tuple(x._value.shape)}")
        sizes = ((int(output_size),) * spatial if isinstance(output_size, int)
                 else tuple(int(s) for s in output_size))
        if len(sizes) != spatial or min(sizes) < 1:
            raise ValueError(f"{name}: `output_size` must be a positive int or "
                             f"{spatial} positive ints, got {output_size!r}")
        first = 1 if _channels_last(data_format) else 2
        for i, out_len in enumerate(sizes):
            axis = first + i
            length = x._value.shape[axis]
            pieces = []
            for j in range(out_len):   # PyTorch's bins: [floor(jL/n), ceil((j+1)L/n))
                lo, hi = (j * length) // out_len, -(-(j + 1) * length // out_len)
                part = _ai.gather(x, list(range(lo, hi)), axis=axis)
                pieces.append(reduce(part, axis=axis, keepdims=True))
            x = _a.concat(pieces, axis=axis)
        return x
    pool.__name__ = pool.__qualname__ = name
    pool.__doc__ = (f"{'Average' if 'average' in name else 'Max'} pooling to a fixed "
                    "output size (PyTorch's bin edges).\n\n    Args:\n      inputs: "
                    "a 3-D, 4-D or 5-D tensor.\n      output_size: an int or one int per "
                    "spatial axis.\n      data_format: 'channels_last' (default from "
                    "keras.config) or 'channels_first'.\n    ")
    return pool


adaptive_average_pool = _adaptive_pool("adaptive_average_pool", _r.reduce_mean)
adaptive_max_pool = _adaptive_pool("adaptive_max_pool", _r.reduce_max)


def _pair(v, name, op):
    v = (int(v), int(v)) if isinstance(v, int) else tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{op}: `{name}` must be an int or 2 ints, got {v!r}")
    return v


def _patch_index(padded_hw, kernel, dilation, stride):
    """``[kh*kw, L]`` flat positions (in the padded image) of every patch element."""
    (hp, wp), (kh, kw), (dh, dw), (sh, sw) = padded_hw, kernel, dilation, stride
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"the kernel {kernel} with dilation {dilation} does not fit the "
                         f"padded input {padded_hw}")
    ky, kx = np.meshgrid(np.arange(kh) * dh, np.arange(kw) * dw, indexing="ij")
    oy, ox = np.meshgrid(np.arange(oh) * sh, np.arange(ow) * sw, indexing="ij")
    rows = ky.reshape(-1, 1) + oy.reshape(1, -1)
    cols = kx.reshape(-1, 1) + ox.reshape(1, -1)
    return rows * wp + cols


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches of a ``[N, C, H, W]`` image as columns (PyTorch's ``unfold``).

    Args:
      x: ``[N, C, H, W]`` input.
      kernel_size, dilation, padding, stride: ints or pairs.

    Returns:
      ``[N, C * kh * kw, L]``, L the number of patches.
    """
    x = as_tensor(x)
    if x._value.ndim != 4:
        raise ValueError(f"unfold: `x` must be [N, C, H, W], got shape "
                         f"{tuple(x._value.shape)}")
    kernel = _pair(kernel_size, "kernel_size", "unfold")
    ph, pw = _pair(padding, "padding", "unfold")
    n, c, h, w = x._value.shape
    x = _a.pad(x, [[0, 0], [0, 0], [ph, ph], [pw, pw]])
    index = _patch_index((h + 2 * ph, w + 2 * pw), kernel,
                         _pair(dilation, "dilation", "unfold"),
                         _pair(stride, "stride", "unfold"))
    flat = _a.reshape(x, [n, c, -1])
    patches = _ai.gather(flat, index, axis=2)          # [N, C, K, L]
    return _a.reshape(patches, [n, c * index.shape[0], index.shape[1]])


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns of patches back into a ``[N, C, H, W]`` image (the adjoint of
    ``unfold``; PyTorch's ``fold``).

    Args:
      x: ``[N, C * kh * kw, L]`` columns.
      output_size: ``(H, W)`` of the image.
      kernel_size, dilation, padding, stride: ints or pairs.
    """
    x = as_tensor(x)
    if x._value.ndim != 3:
        raise ValueError(f"fold: `x` must be [N, C * kh * kw, L], got shape "
                         f"{tuple(x._value.shape)}")
    h, w = _pair(output_size, "output_size", "fold")
    kernel = _pair(kernel_size, "kernel_size", "fold")
    ph, pw = _pair(padding, "padding", "fold")
    hp, wp = h + 2 * ph, w + 2 * pw
    index = _patch_index((hp, wp), kernel, _pair(dilation, "dilation", "fold"),
                         _pair(stride, "stride", "fold"))
    n, ck, cols = x._value.shape
    k = index.shape[0]
    if ck % k or cols != index.shape[1]:
        raise ValueError(f"fold: `x` of shape {tuple(x._value.shape)} does not match "
                         f"{k} kernel positions x {index.shape[1]} patches")
    parts = _a.reshape(x, [n, ck // k, k * cols])
    summed = _seg.unsorted_segment_sum(_a.transpose(parts, [2, 0, 1]),
                                       index.reshape(-1).astype("int32"), hp * wp)
    image = _a.reshape(_a.transpose(summed, [1, 2, 0]), [n, ck // k, hp, wp])
    return image[:, :, ph:ph + h, pw:pw + w]


def polar(abs_, angle):
    """The complex numbers with magnitude ``abs_`` and phase ``angle``.

    Args:
      abs_: magnitudes.
      angle: phases in radians.
    """
    r, a = promote(abs_, angle)
    r, a = float_tensor(r), float_tensor(a)
    return _m.complex(_m.multiply(r, _m.cos(a)), _m.multiply(r, _m.sin(a)))


def sparse_sigmoid(x):
    """``0`` below -1, ``1`` above 1 and ``(x + 1) / 2`` between.

    Args:
      x: input tensor.
    """
    x = float_tensor(x)
    return _m.minimum(_m.maximum(_m.multiply(_m.add(x, 1.0), 0.5), 0.0), 1.0)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex
    along ``axis`` (a softmax whose outputs can be exactly zero).

    Args:
      x: logits.
      axis: the normalized axis.
    """
    x = float_tensor(x)
    nd = x._value.ndim
    axis = axis % nd
    z = _a.transpose(x, [i for i in range(nd) if i != axis] + [axis]) \
        if axis != nd - 1 else x
    ordered = _s.sort(z, axis=-1, direction="DESCENDING")
    n = z._value.shape[-1]
    k = as_tensor(np.arange(1, n + 1, dtype=z._value.dtype), device=z._device)
    running = _r.cumsum(ordered, axis=-1)
    support = _m.greater(_m.add(_m.multiply(k, ordered), 1.0), running)
    k_z = _r.reduce_sum(_m.cast(support, z.dtype), axis=-1, keepdims=True)
    top = _r.reduce_sum(_m.multiply(ordered, _m.cast(support, z.dtype)), axis=-1,
                        keepdims=True)
    tau = _m.divide(_m.subtract(top, 1.0), k_z)
    out = _m.maximum(_m.subtract(z, tau), 0.0)
    if axis != nd - 1:
        perm = list(range(nd - 1))
        perm.insert(axis, nd - 1)
        out = _a.transpose(out, perm)
    return out


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100,
               top_paths=1, merge_repeated=True, mask_index=0):
    """Decodes CTC outputs (not differentiable).

    Args:
      inputs: ``[batch, time, classes]`` logits or log-probabilities.
      sequence_lengths: ``[batch]`` valid frames per sequence.
      strategy: 'greedy' or 'beam_search'.
      beam_width: beams kept by 'beam_search'.
      top_paths: paths returned by 'beam_search'.
      merge_repeated: merge repeated labels ('greedy').
      mask_index: the blank class.

    Returns:
      ``(decoded, scores)``: int32 ``[top_paths, batch, time]`` labels padded with -1,
      and ``[batch, top_paths]`` scores (greedy: minus the sum of each frame's best
      logit, as TF's ``ctc_greedy_decoder``; beam search: log-probabilities).
    """
    x = float_tensor(inputs)
    if x._value.ndim != 3:
        raise ValueError(f"ctc_decode: `inputs` must be [batch, time, classes], got "
                         f"shape {tuple(x._value.shape)}")
    steps = x._value.shape[1]
    time_major = _a.transpose(x, [1, 0, 2])
    if strategy == "greedy":
        decoded, scores = _ctc.ctc_greedy_decoder(
            time_major, sequence_lengths, merge_repeated=merge_repeated,
            blank_index=mask_index)
    elif strategy == "beam_search":
        classes = x._value.shape[2]
        blank = None if mask_index is None else int(mask_index) % classes
        if blank is not None:   # TF's beam search takes the last class as the blank
            order = [i for i in range(classes) if i != blank] + [blank]
            time_major = _ai.gather(time_major, order, axis=2)
        decoded, scores = _ctc.ctc_beam_search_decoder(
            time_major, sequence_lengths, beam_width=beam_width, top_paths=top_paths)
    else:
        raise ValueError(f"ctc_decode: `strategy` must be 'greedy' or 'beam_search', "
                         f"got {strategy!r}")
    dense = []
    for sp in decoded:
        d = _m.cast(_sp.to_dense(sp, default_value=-1), dtypes.int32)
        d = _a.pad(d, [[0, 0], [0, steps - d._value.shape[1]]], constant_values=-1)
        if strategy == "beam_search" and blank is not None:
            d = _m.where(_m.greater_equal(d, blank), _m.add(d, 1), d)
        dense.append(d)
    return _a.stack(dense), scores


# ---------------------------------------------------------------- math
def cdist(x, y):
    """Euclidean distances between the rows of ``x`` and of ``y``.

    Args:
      x: ``[..., m, d]`` points.
      y: ``[..., n, d]`` points.

    Returns:
      ``[..., m, n]`` distances.
    """
    a, b = promote(x, y)
    a, b = float_tensor(a), float_tensor(b)
    diff = _m.subtract(_a.expand_dims(a, -2), _a.expand_dims(b, -3))
    return _m.sqrt(_r.reduce_sum(_m.square(diff), axis=-1))


def erfc(x):
    """The complementary error function ``1 - erf(x)``.

    Args:
      x: input tensor.
    """
    return _m.erfc(float_tensor(x))


def istft(x, sequence_length, sequence_stride, fft_length, length=None,
          window="hann", center=True):
    """Inverse short-time Fourier transform of ``(real, imag)`` (undoes ``stft``).

    Args:
      x: ``(real, imag)`` tuple of ``[..., frames, fft_length // 2 + 1]`` tensors.
      sequence_length: window length used by ``stft``.
      sequence_stride: hop size.
      fft_length: FFT size.
      length: optional output length (cut or zero-padded).
      window: 'hann', 'hamming', None or a 1-D tensor of ``sequence_length``.
      center: whether ``stft`` padded ``fft_length // 2`` samples on both sides.
    """
    z = _complex_pair(x, "istft")
    frames = z._value.shape[-2]
    real_dtype = _m.real(z).dtype
    window_fn = None
    if window is not None:
        win = _window(window, sequence_length, fft_length, real_dtype)
        window_fn = _spec.inverse_stft_window_fn(
            sequence_stride, lambda n, dtype: win)
    signal = _spec.inverse_stft(z, fft_length, sequence_stride, fft_length,
                                window_fn=window_fn)
    start = fft_length // 2 if center else 0
    total = fft_length + sequence_stride * (frames - 1)
    if length is not None:
        end = start + int(length)
        if end > total:
            pad = [[0, 0]] * (signal._value.ndim - 1) + [[0, end - total]]
            signal = _a.pad(signal, pad)
    else:
        end = total - fft_length // 2 if center else total
    return signal[..., start:end]


def view_as_real(x):
    """A complex tensor as ``[..., 2]`` real (real, imaginary) pairs.

    Args:
      x: complex tensor.
    """
    z = as_tensor(x)
    if dtype_kind(z) != "c":
        raise ValueError(f"view_as_real: `x` must be complex, got {z.dtype.name}")
    return _a.stack([_m.real(z), _m.imag(z)], axis=-1)


def view_as_complex(x):
    """``[..., 2]`` (real, imaginary) pairs as a complex tensor.

    Args:
      x: real tensor whose last dimension is 2.
    """
    r = float_tensor(x)
    if r._value.ndim == 0 or r._value.shape[-1] != 2:
        raise ValueError(f"view_as_complex: the last dimension of `x` must be 2, got "
                         f"shape {tuple(r._value.shape)}")
    return _m.complex(r[..., 0], r[..., 1])


# ---------------------------------------------------------------- linalg
def eig(x):
    """Eigenvalues and right eigenvectors of square matrices (complex results).

    Args:
      x: ``[..., n, n]`` real matrices.

    Returns:
      ``(eigenvalues [..., n], eigenvectors [..., n, n])``, columns normalized.
    """
    return call(_eig_p, (square_matrices(float_tensor(x), "eig"),))


def lu_factor(x):
    """LU factorization with partial pivoting, as TF's ``tf.linalg.lu``.

    Args:
      x: ``[..., n, n]`` matrices.

    Returns:
      ``(lu, permutation)``: L (unit diagonal, below) and U (on and above) packed in
      one matrix, and the int32 row order with ``x[permutation] == L @ U``.
    """
    return call(_lu_factor_p, (square_matrices(float_tensor(x), "lu_factor"),))


def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode product: ``fun``'s outputs and their derivative along ``tangents``.

    Computed as the derivative of a reverse-mode product with respect to its
    cotangent (two tapes), so it works wherever gradients do.

    Args:
      fun: a function of the tensors in ``primals``.
      primals: tuple of inputs.
      tangents: tuple of tangents, shaped like ``primals``.
      has_aux: ``fun`` returns ``(output, aux)``.

    Returns:
      ``(outputs, output_tangents)`` (plus ``aux`` when ``has_aux``).
    """
    if not isinstance(primals, (list, tuple)) or not isinstance(tangents,
                                                                (list, tuple)):
        raise TypeError("jvp: `primals` and `tangents` must be tuples")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    xs = [float_tensor(p) for p in primals]
    ts = [_m.cast(as_tensor(t), x.dtype) for t, x in zip(tangents, xs)]
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            for x in xs:
                inner.watch(x)
            result = fun(*xs)
            out, aux = result if has_aux else (result, None)
        cotangent = _m.zeros_like(out)
        outer.watch(cotangent)
        grads = inner.gradient(out, xs, output_gradients=cotangent)
        grads = [g if g is not None else _m.zeros_like(x) for g, x in zip(grads, xs)]
        pulled = _r.reduce_sum(_a.stack([_r.reduce_sum(_m.multiply(g, t))
                                         for g, t in zip(grads, ts)]))
    tangent_out = outer.gradient(pulled, cotangent)
    if tangent_out is None:
        tangent_out = _m.zeros_like(out)
    return (out, tangent_out, aux) if has_aux else (out, tangent_out)


# ---------------------------------------------------------------- rearrange
_TOKEN = re.compile(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\d+")


def _parse_side(text, pattern):
    groups, current, in_group = [], None, False
    for tok in _TOKEN.findall(text):
        if tok == "(":
            if in_group:
                raise ValueError(f"rearrange: nested parentheses in {pattern!r}")
            current, in_group = [], True
        elif tok == ")":
            if not in_group:
                raise ValueError(f"rearrange: unbalanced ')' in {pattern!r}")
            groups.append(current)
            in_group = False
        elif in_group:
            current.append(tok)
        else:
            groups.append([tok])
    if in_group:
        raise ValueError(f"rearrange: unbalanced '(' in {pattern!r}")
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Reshapes and transposes ``tensor`` by an einops pattern such as
    ``"b h w c -> b (h w) c"`` or ``"b (h w) -> b h w"`` (with ``h=...``).

    Args:
      tensor: input tensor.
      pattern: ``"<input axes> -> <output axes>"``; parentheses group axes, ``1``
        is a unit axis and ``...`` stands for the remaining axes.
      **axes_lengths: sizes of axes split out of an input group.
    """
    x = as_tensor(tensor)
    if "->" not in pattern:
        raise ValueError(f"rearrange: `pattern` must contain '->', got {pattern!r}")
    left, right = (_parse_side(s, pattern) for s in pattern.split("->"))
    shape = list(x._value.shape)
    if any(g == ["..."] for g in left):
        at = left.index(["..."])
        rest = len(shape) - (len(left) - 1)
        ell = [f"...{i}" for i in range(rest)]
        left = left[:at] + [[e] for e in ell] + left[at + 1:]
        right = [g if g != ["..."] else None for g in right]
        right = [r for g in right for r in ([[e] for e in ell] if g is None else [g])]
    if len(left) != len(shape):
        raise ValueError(f"rearrange: the pattern names {len(left)} input axes but the "
                         f"tensor has shape {tuple(shape)}")
    sizes = dict(axes_lengths)
    elementary = []
    for group, dim in zip(left, shape):
        names = [n for n in group if not n.isdigit()]
        unknown = [n for n in names if n not in sizes]
        known = int(np.prod([sizes[n] for n in names if n in sizes]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in "
                             f"{pattern!r}; pass them as keyword arguments")
        if unknown:
            sizes[unknown[0]] = dim // known
        elif known != dim:
            raise ValueError(f"rearrange: axes {names} have total size {known}, the "
                             f"tensor's dimension is {dim}")
        elementary.extend(names)
    out_names = [n for g in right for n in g if not n.isdigit()]
    if sorted(out_names) != sorted(elementary):
        raise ValueError(f"rearrange: the output axes {out_names} must be the input "
                         f"axes {elementary} rearranged")
    x = _a.reshape(x, [sizes[n] for n in elementary])
    x = _a.transpose(x, [elementary.index(n) for n in out_names])
    final = [int(np.prod([sizes[n] if not n.isdigit() else int(n) for n in g]))
             for g in right]
    return _a.reshape(x, final)


KERAS_NN = ["adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "fold",
            "polar", "sparse_sigmoid", "sparsemax", "unfold"]
KERAS_MATH = ["cdist", "erfc", "istft", "view_as_complex", "view_as_real"]
KERAS_LINALG = ["eig", "jvp", "lu_factor"]
__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "cdist", "ctc_decode", "eig", "erfc",
    "fold", "istft", "jvp", "lu_factor", "polar", "rearrange", "sparse_sigmoid",
    "sparsemax", "unfold", "view_as_complex", "view_as_real",
]
