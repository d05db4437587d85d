"""Grayscale morphology and fractional pooling of ``tf.nn``.

- ``dilation2d`` / ``erosion2d``: the max (min) over a dilated window of
  ``input + filter`` (``input - reversed filter``); built from strided slices, a
  stack and a max, so gradients come from those ops (at exact ties the max's
  gradient is shared between the tied taps where TF's kernel picks one).
- ``fractional_max_pool`` / ``fractional_avg_pool``: pooling with non-integer
  ratios over the random (or pseudo-random) region boundaries of Graham's
  "Fractional Max-Pooling". A stateful primitive draws the boundary sequences (so a
  traced function draws new ones per call, unless seeded); the pooling itself gathers each
  region's rows and columns (padded to the widest region) and reduces them.
  The sequences come from dlframe's random stream, not TF's.
"""

from dlframe.backends.base import np  # host-side pooling sequences
from dlframe.core.primitive import call, primitive
from dlframe.ops import array as _array
from dlframe.ops import array_index as _index
from dlframe.ops import math as _math
from dlframe.ops import reduction as _red
from dlframe.ops._util import t
from dlframe.ops.image_quality import _patch_geometry
from dlframe.ops.random_kernels import _rng


# ---------------------------------------------------------------- morphology
def _quad(value, what):
    vals = [int(value)] * 4 if np.isscalar(value) else [int(v) for v in value]
    if len(vals) == 2:
        vals = [1] + vals + [1]
    if len(vals) != 4 or vals[0] != 1 or vals[3] != 1 or min(vals) < 1:
        raise ValueError(f"{what} must be [1, rows, cols, 1] of positive ints; "
                         f"received {value!r}")
    return vals[1], vals[2]


def dilation2d(input, filters, strides, padding, data_format="NHWC", dilations=None,
               name=None):
    """Grayscale dilation: ``max over (i, j) of input[y*s + i*r, x*s + j*r] +
    filters[i, j]`` per channel.

    Args:
      input: ``[batch, height, width, depth]`` float tensor.
      filters: ``[filter_height, filter_width, depth]``.
      strides: ``[1, stride_rows, stride_cols, 1]``.
      padding: ``"SAME"`` or ``"VALID"`` (positions outside the input never win).
      data_format: ``"NHWC"`` only.
      dilations: ``[1, rate_rows, rate_cols, 1]`` (default 1).
      name: unused.

    Returns:
      ``[batch, out_height, out_width, depth]``.
    """
    if data_format != "NHWC":
        raise ValueError(f"Data formats other than NHWC are not yet supported; "
                         f"received data_format={data_format!r}")
    x, w = t(input), t(filters)
    if x.ndim != 4 or w.ndim != 3 or int(w.shape[2]) != int(x.shape[3]):
        raise ValueError(f"dilation2d: input must be [batch, height, width, depth] and "
                         f"filters [height, width, depth]; received {list(x.shape)} and "
                         f"{list(w.shape)}")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID'; received {padding!r}")
    (sh, sw), (rh, rw) = _quad(strides, "strides"), _quad(dilations or 1, "dilations")
    kh, kw = int(w.shape[0]), int(w.shape[1])
    oh, top, bottom = _patch_geometry(int(x.shape[1]), kh, sh, rh, padding)
    ow, left, right = _patch_geometry(int(x.shape[2]), kw, sw, rw, padding)
    if top or bottom or left or right:
        lowest = float(np.finfo(x.dtype._np).min)
        x = _array.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]],
                       constant_values=lowest)
    taps = [_math.add(x[:, i * rh:i * rh + (oh - 1) * sh + 1:sh,
                        j * rw:j * rw + (ow - 1) * sw + 1:sw], w[i, j])
            for i in range(kh) for j in range(kw)]
    return _red.reduce_max(_array.stack(taps, axis=0), axis=0)


def erosion2d(value, filters, strides, padding, data_format="NHWC", dilations=None,
              name=None):
    """Grayscale erosion: ``-dilation2d(-value, reverse(filters))`` (see
    ``dilation2d`` for the arguments)."""
    w = t(filters)
    flipped = _array.reverse(w, [0, 1])
    return _math.negative(dilation2d(_math.negative(t(value)), flipped, strides,
                                     padding, data_format, dilations))


# ---------------------------------------------------------------- fractional pooling
def _sequence(rng, n, m, pseudo_random):
    """``m + 1`` region boundaries from 0 to ``n``."""
    if pseudo_random:
        alpha = n / m
        u = rng.random()
        seq = np.ceil(alpha * (np.arange(m + 1) + u)) - np.ceil(alpha * u)
        seq[-1] = n
        return seq.astype(np.int64)
    small = n // m
    steps = np.full(m, small, np.int64)
    steps[:n - small * m] += 1   # the remainder spread over randomly chosen regions
    rng.shuffle(steps)
    return np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)


def _members(seq, n, overlapping):
    """``[m, width]`` row indices of each region (repeating its last row) and mask."""
    ends = seq[1:] + (1 if overlapping else 0)
    ends = np.minimum(ends, n)
    width = int((ends - seq[:-1]).max())
    offsets = np.arange(width)
    idx = seq[:-1, None] + offsets
    mask = idx < ends[:, None]
    return np.minimum(idx, ends[:, None] - 1), mask


@primitive("FractionalPoolSequences", n_out=6, stateful=True)
def _sequences_p(d, *, sizes, outs, pseudo_random, overlapping, seed):
    # a seeded op is deterministic: the same regions on every call (TF's
    # ``deterministic=True``); an unseeded one draws from the device generator
    rng = np.random.default_rng(seed) if seed else _rng(d, None)
    result = []
    for n, m in zip(sizes, outs):
        seq = _sequence(rng, n, m, pseudo_random)
        idx, mask = _members(seq, n, overlapping)
        result += [seq, idx, mask.astype(np.float64)]
    return tuple(d.xp.asarray(r) for r in result)


def _ratios(pooling_ratio):
    vals = [float(pooling_ratio)] * 2 if np.isscalar(pooling_ratio) else \
        [float(v) for v in pooling_ratio]
    if len(vals) == 4:
        if vals[0] != 1.0 or vals[3] != 1.0:
            raise ValueError(f"The first and last elements of pooling ratio must be 1.0; "
                             f"received {pooling_ratio!r}")
        vals = vals[1:3]
    elif len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or min(vals) < 1.0:
        raise ValueError(f"pooling_ratio must be a float >= 1 or a list of 1, 2 or 4 "
                         f"of them; received {pooling_ratio!r}")
    return vals


def _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, is_max):
    x = t(value)
    if x.ndim != 4:
        raise ValueError(f"fractional pooling: value must be 4-D [batch, height, width, "
                         f"channels]; received shape {list(x.shape)}")
    sizes = (int(x.shape[1]), int(x.shape[2]))
    outs = tuple(int(n // r) for n, r in zip(sizes, _ratios(pooling_ratio)))
    if min(outs) < 1:
        raise ValueError(f"fractional pooling: pooling_ratio {pooling_ratio!r} leaves no "
                         f"output rows or columns of a {sizes[0]}x{sizes[1]} input")
    row_seq, row_idx, row_mask, col_seq, col_idx, col_mask = call(
        _sequences_p, (), {"sizes": sizes, "outs": outs,
                           "pseudo_random": bool(pseudo_random),
                           "overlapping": bool(overlapping),
                           "seed": int(seed or 0)},
        device=x._device)
    rows = _index.gather(x, row_idx, axis=1)          # [b, m, width, W, c]
    if is_max:
        pooled = _red.reduce_max(rows, axis=2)
        cols = _index.gather(pooled, col_idx, axis=2)  # [b, m, n, width, c]
        out = _red.reduce_max(cols, axis=3)
    else:
        rmask = _math.cast(row_mask, x.dtype)
        cmask = _math.cast(col_mask, x.dtype)
        rw = _math.divide(rmask, _red.reduce_sum(rmask, axis=1, keepdims=True))
        cw = _math.divide(cmask, _red.reduce_sum(cmask, axis=1, keepdims=True))
        pooled = _red.reduce_sum(_math.multiply(rows, rw[:, :, None, None]), axis=2)
        cols = _index.gather(pooled, col_idx, axis=2)
        out = _red.reduce_sum(_math.multiply(cols, cw[:, :, None]), axis=3)
    return out, row_seq, col_seq


def fractional_max_pool(value, pooling_ratio, pseudo_random=False, overlapping=False,
                        seed=0, name=None):
    """Max pooling over regions of fractional average size ``pooling_ratio``.

    Args:
      value: ``[batch, height, width, channels]``.
      pooling_ratio: a float >= 1, or ``[1.0, row_ratio, col_ratio, 1.0]``; the
        output has ``floor(size / ratio)`` rows and columns.
      pseudo_random: boundaries from the pseudo-random sequence
        ``ceil(alpha * (i + u))`` instead of a random mix of region sizes.
      overlapping: each region also takes the next region's first row/column.
      seed: 0 for random boundaries on every call; otherwise the same boundaries
        on every call (from dlframe's generator seeded by ``seed``).
      name: unused.

    Returns:
      ``(output, row_pooling_sequence, col_pooling_sequence)``, the sequences being
      the int64 region boundaries (``output_size + 1`` each).
    """
    return _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, True)


def fractional_avg_pool(value, pooling_ratio, pseudo_random=False, overlapping=False,
                        seed=0, name=None):
    """Average pooling over regions of fractional average size (see
    ``fractional_max_pool`` for the arguments and results)."""
    return _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, False)


NN_NAMES = ["dilation2d", "erosion2d", "fractional_max_pool", "fractional_avg_pool"]
