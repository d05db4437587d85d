"""``tf.distribute.experimental.partitioners``: how many shards a variable created
under ``ParameterServerStrategy(variable_partitioner=...)`` is split into.

A partitioner is called as ``partitioner(shape, dtype, axis=0)`` and returns the
number of partitions along each axis (only ``axis`` may be above 1). Sizes are in
bytes; a string element counts ``bytes_per_string`` bytes.
"""

import math

from dlframe.core import dtypes as _dtypes
from dlframe.core.tensor_shape import TensorShape


def _positive(name, value, allow_none=False):
    if allow_none and value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Argument `{name}` must be positive. Received: {value!r}")
    return value


class Partitioner:
    """Base of the partitioners: ``__call__(shape, dtype, axis=0)`` -> a list with
    the number of partitions of each axis."""

    def __call__(self, shape, dtype, axis=0):
        raise NotImplementedError

    @staticmethod
    def _checked(shape, dtype, axis):
        shape = TensorShape(shape)
        if shape.rank is None or not shape.is_fully_defined():
            raise ValueError(f"A partitioner needs a fully defined shape, got {shape}")
        rank = shape.rank
        if rank == 0:
            raise ValueError("A scalar variable cannot be partitioned (shape ())")
        if not -rank <= axis < rank:
            raise ValueError(f"`axis` {axis} is out of range for shape {shape}")
        return [int(d) for d in shape.as_list()], _dtypes.as_dtype(dtype), axis % rank

    @staticmethod
    def _element_bytes(dtype, bytes_per_string):
        if dtype == _dtypes.string:
            return bytes_per_string
        return dtype.size


class FixedShardsPartitioner(Partitioner):
    """Splits a variable into ``num_shards`` shards (fewer when it has fewer rows).

    Args:
      num_shards: the number of shards.

    Raises:
      ValueError: when ``num_shards`` is not a positive integer.
    """

    def __init__(self, num_shards):
        self._num_shards = _positive("num_shards", num_shards)

    def __call__(self, shape, dtype, axis=0):
        dims, _, axis = self._checked(shape, dtype, axis)
        partitions = [1] * len(dims)
        partitions[axis] = min(self._num_shards, dims[axis])
        return partitions


class MinSizePartitioner(Partitioner):
    """Shards of at least ``min_shard_bytes`` each, at most ``max_shards`` of them.

    Args:
      min_shard_bytes: the smallest shard size in bytes (default 256 KiB).
      max_shards: the most shards.
      bytes_per_string: the size counted for a string element.

    Raises:
      ValueError: when a size or ``max_shards`` is not positive.
    """

    def __init__(self, min_shard_bytes=256 << 10, max_shards=1, bytes_per_string=16):
        self._min_shard_bytes = _positive("min_shard_bytes", min_shard_bytes)
        self._max_shards = _positive("max_shards", max_shards)
        self._bytes_per_string = _positive("bytes_per_string", bytes_per_string)

    def __call__(self, shape, dtype, axis=0):
        dims, dtype, axis = self._checked(shape, dtype, axis)
        total = math.prod(dims) * self._element_bytes(dtype, self._bytes_per_string)
        wanted = math.ceil(total / self._min_shard_bytes)
        partitions = [1] * len(dims)
        partitions[axis] = max(1, min(dims[axis], self._max_shards, wanted))
        return partitions


class MaxSizePartitioner(Partitioner):
    """Shards of at most ``max_shard_bytes`` each (a shard holds at least one slice
    along the axis), at most ``max_shards`` of them when given.

    Args:
      max_shard_bytes: the largest shard size in bytes.
      max_shards: the most shards, or None for no limit.
      bytes_per_string: the size counted for a string element.

    Raises:
      ValueError: when a size is not positive.
    """

    def __init__(self, max_shard_bytes, max_shards=None, bytes_per_string=16):
        self._max_shard_bytes = _positive("max_shard_bytes", max_shard_bytes)
        if max_shards is not None and (isinstance(max_shards, bool) or
                                       not isinstance(max_shards, int) or
                                       max_shards < 0):
            raise ValueError(f"Argument `max_shards` must be a positive integer or "
                             f"None. Received: {max_shards!r}")
        self._max_shards = max_shards
        self._bytes_per_string = _positive("bytes_per_string", bytes_per_string)

    def __call__(self, shape, dtype, axis=0):
        dims, dtype, axis = self._checked(shape, dtype, axis)
        slice_bytes = math.prod(dims) // dims[axis] * \
            self._element_bytes(dtype, self._bytes_per_string) if dims[axis] else 1
        per_shard = max(1, self._max_shard_bytes // max(slice_bytes, 1))
        shards = max(1, math.ceil(dims[axis] / per_shard))
        if self._max_shards:
            shards = min(self._max_shards, shards)
        partitions = [1] * len(dims)
        partitions[axis] = shards
        return partitions


__all__ = ["FixedShardsPartitioner", "MaxSizePartitioner", "MinSizePartitioner",
           "Partitioner"]
