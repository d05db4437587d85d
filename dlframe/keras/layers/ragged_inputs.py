"""RaggedTensor inputs of Keras layers that compute on padded dense batches.

An RNN fed ``[batch, (time), features]`` rows of different lengths runs on the rows
padded with zeros and a ``[batch, time]`` mask that marks the real steps (TF 2's
Keras converts ragged RNN inputs the same way: dense values plus row lengths), and a
sequence output goes back to ragged rows of the input's lengths.
"""

from dlframe.ops import array as _array
from dlframe.ops import creation as _creation
from dlframe.ops import logic as _logic
from dlframe.ops.ragged_tensor import RaggedTensor


def is_ragged(value):
    return isinstance(value, RaggedTensor)


def dense_with_mask(inputs, mask=None, layer_name=None):
    """``(padded, mask, row_lengths)`` of a ragged batch ``[batch, (time), ...]``.

    Args:
      inputs: a RaggedTensor with one ragged dimension (the time axis).
      mask: an optional mask from an upstream layer (dense ``[batch, time]`` or
        ragged like ``inputs``); its steps are kept only where it is True.
      layer_name: the consuming layer's name, for error messages.

    Returns:
      The zero-padded dense batch, its bool mask (True on real steps) and the row
      lengths (int64 ``[batch]``).
    """
    if inputs.ragged_rank != 1:
        raise ValueError(
            f"Layer {layer_name!r} takes RaggedTensor inputs with one ragged (time) "
            f"dimension; received ragged_rank={inputs.ragged_rank} with shape "
            f"{inputs.shape}")
    dense = inputs.to_tensor()
    lengths = inputs.row_lengths()
    steps = dense.shape[1]
    valid = _creation.sequence_mask(lengths, maxlen=steps)
    if mask is not None:
        if isinstance(mask, RaggedTensor):
            mask = mask.to_tensor(default_value=False)
        valid = _logic.logical_and(valid, _logic.cast(mask, "bool"))
    return dense, valid, lengths


def ragged_sequence(sequence, row_lengths, reverse=False):
    """The ``[batch, time, ...]`` output of a ragged input as ragged rows again.

    Args:
      sequence: the dense output sequence.
      row_lengths: the input's row lengths.
      reverse: the sequence is in reversed time order (``go_backwards``): it is
        flipped back so that each row keeps its first ``length`` steps.
    """
    if reverse:
        sequence = _array.reverse(sequence, [1])
    return RaggedTensor.from_tensor(sequence, lengths=row_lengths)
