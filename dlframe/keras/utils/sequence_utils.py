"""``keras.utils.pad_sequences``: lists of sequences to one padded NumPy array."""

from dlframe.backends.base import np  # host-side data utility: returns NumPy, as Keras


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (and truncates) sequences to a common length.

    Args:
      sequences: a list of sequences (lists or arrays; elements may be arrays of equal
        shape).
      maxlen: the length of the result (default: the longest sequence).
      dtype: the result's dtype (``object`` or a string dtype for strings).
      padding: 'pre' or 'post': pad before or after each sequence.
      truncating: 'pre' or 'post': drop values from the start or the end of sequences
        longer than ``maxlen``.
      value: the padding value.

    Returns:
      A NumPy array of shape ``(len(sequences), maxlen) + element_shape``.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, element_shape = [], None
    for seq in sequences:
        try:
            lengths.append(len(seq))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. Found "
                             f"non-iterable: {seq}") from None
        if element_shape is None and len(seq):
            element_shape = np.asarray(seq).shape[1:]
    element_shape = element_shape or ()
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    is_text = np.issubdtype(np.dtype(dtype), np.str_) if dtype is not object else False
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable "
                         "length strings.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    out = np.full((len(lengths), maxlen) + tuple(element_shape), value, dtype=dtype)
    for row, seq in enumerate(sequences):
        if not len(seq) or maxlen == 0:
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(element_shape):
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position "
                             f"{row} is different from expected shape "
                             f"{tuple(element_shape)}")
        if padding == "post":
            out[row, :len(kept)] = kept
        else:
            out[row, maxlen - len(kept):] = kept
    return out
