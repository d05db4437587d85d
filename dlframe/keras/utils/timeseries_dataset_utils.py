"""``keras.utils.timeseries_dataset_from_array``."""

from dlframe.backends.base import np  # host-side index arithmetic
from dlframe.core import dtypes
from dlframe.data import Dataset
from dlframe.data.options import AUTOTUNE
from dlframe.ops.py_func import numpy_function


def _host_array(values):
    return values.numpy() if hasattr(values, "numpy") else np.asarray(values)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False,
                                  seed=None, start_index=None, end_index=None):
    """Sliding windows over a time series, as a ``tf.data.Dataset``.

    Window ``i`` holds ``data[s + k * sampling_rate]`` for ``k < sequence_length``,
    where ``s = start_index + i * sequence_stride``; its target is ``targets[s]``.

    Args:
      data: array-like of timesteps (axis 0 is time).
      targets: array-like of targets, or None for windows only.
      sequence_length: timesteps per window.
      sequence_stride: shift between consecutive windows.
      sampling_rate: step between timesteps inside a window.
      batch_size: windows per batch, or None for single windows.
      shuffle: shuffle the windows (the window list, then each epoch's order).
      seed: the shuffling seed.
      start_index, end_index: only use ``data[start_index:end_index]``.

    Returns:
      A dataset of ``windows`` or ``(windows, targets)``; windows have shape
      ``(batch, sequence_length, *data.shape[1:])`` and keep ``data``'s dtype.

    Raises:
      ValueError: an index, stride or rate out of range.
    """
    data = _host_array(data)
    n = len(data)
    if start_index is not None and not 0 <= start_index < n:
        raise ValueError("`start_index` must be 0 or greater and smaller than `data`. "
                         f"Received: start_index={start_index}")
    if end_index is not None and not (start_index or 0) < end_index <= n:
        raise ValueError("`end_index` must be higher than `start_index` and lower or "
                         f"equal to the length of `data`. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError("`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError("`sampling_rate` must be lower than the length of the data. "
                         f"Received: sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError("`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of "
                         f"length {n}")
    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = _host_array(targets)
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    series = data[start:end]
    labels = None if targets is None else targets[start:end]
    offsets = np.arange(sequence_length) * sampling_rate

    def gather(first):   # window starts -> windows (and targets), on the host
        x = series[first[..., None] + offsets]
        return x if labels is None else (x, labels[first])

    # TF gathers windows by index ranges, so its sequence axis is unknown: a
    # numpy_function with the shapes TF reports gives the same element_spec.
    lead = [None] * (1 if batch_size is None else 2)
    shapes = [lead + list(series.shape[1:])]
    tout = [dtypes.from_numpy(series.dtype)]
    if labels is not None:
        shapes.append(lead[1:] + list(labels.shape[1:]))
        tout.append(dtypes.from_numpy(labels.dtype))

    def windows(first):
        outs = numpy_function(gather, [first], tout, stateful=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for out, shape in zip(outs, shapes):
            out.set_shape(shape)
        return outs[0] if labels is None else tuple(outs)

    ds = Dataset.from_tensor_slices(starts)
    if shuffle:
        ds = ds.shuffle(batch_size * 8 if batch_size is not None else 1024, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.map(windows).prefetch(AUTOTUNE)
