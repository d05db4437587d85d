"""The Device interface: one object per device owns its array module and kernels.

Op code is written once against ``device.xp``; where a device needs a special
kernel (BLAS threading on CPU, cuDNN RNN on GPU) it is a method here with a
portable default, so both devices agree on results (DESIGN.md §3).
"""

import numpy

np = numpy  # host NumPy for metadata (dtypes, host copies); compute goes through xp


class Device:
    """A compute device.

    Attributes:
      name: short name, 'cpu:0' or 'gpu:0'.
      kind: 'cpu' or 'gpu'.
      index: ordinal within its kind.
      xp: the array module (numpy or cupy).
      tf_name: TensorFlow's full device string.
    """

    kind = "abstract"
    is_gpu = False
    fuses = False  # True when fuse() really builds one kernel (graph fusion pass)

    def __init__(self, index):
        self.index = int(index)
        self.name = f"{self.kind}:{self.index}"
        self.tf_name = f"/job:localhost/replica:0/task:0/device:{self.kind.upper()}:{self.index}"
        self._rng = None

    def __repr__(self):
        return f"<dlframe.Device {self.name}>"

    # -- arrays ------------------------------------------------------------
    def asarray(self, value, dtype=None):
        """Places a host value (NumPy array, scalar, list) on this device."""
        raise NotImplementedError

    def to_numpy(self, array):
        """Returns a host NumPy copy of a device array."""
        raise NotImplementedError

    def is_array(self, value):
        """True when ``value`` is an array of this device's array module."""
        return isinstance(value, self.xp.ndarray)

    def synchronize(self):
        """Waits for queued work to finish (no-op on CPU)."""

    def context(self):
        """A context manager making this device current for its array module."""
        return _NULL_CONTEXT

    # -- kernels with device-specific implementations ------------------------
    def matmul(self, a, b, out=None):
        """Matrix product (batched, NumPy's broadcasting) of two arrays of this device.

        Every matrix product of op code goes through this method (never ``xp.matmul``,
        ``@``, ``dot`` or ``tensordot`` directly): the GPU device runs it through
        dlframe's own cuBLAS handle, the one path CUDA-graph capture accepts.

        Args:
          a, b: arrays ``(..., M, K)`` and ``(..., K, N)`` (or 1-D, NumPy's rules).
          out: optional array of the result's shape and dtype written in place.

        Returns:
          The product (``out`` itself when given).
        """
        if out is None:
            return self.xp.matmul(a, b)
        return self.xp.matmul(a, b, out=out)

    def einsum(self, equation, *operands, optimize=None):
        """``xp.einsum(equation, *operands, optimize=optimize)``; ``optimize`` None
        (the default) optimizes the contraction order for more than one operand. The
        GPU device turns two-operand contractions into one (batched) :meth:`matmul`."""
        if optimize is None:
            optimize = len(operands) > 1
        return self.xp.einsum(equation, *operands, optimize=optimize)

    def sum(self, x, axes, keepdims=False, dtype=None):
        """``xp.sum(x, axis=axes, keepdims=keepdims, dtype=dtype)``."""
        return self.xp.sum(x, axis=axes, keepdims=keepdims, dtype=dtype)

    def gemm_loop(self, flops):
        """A context for a loop of matrix products of about ``flops`` each (an RNN's
        steps): the device picks its GEMM threading once for the whole loop."""
        return _NULL_CONTEXT

    def scatter_add(self, target, index, values):
        """``target[index] += values`` in place, accumulating repeated indices."""
        self.xp.add.at(target, index, values)

    def scatter_max(self, target, index, values):
        """``target[index] = max(target[index], values)`` in place, over repeats too."""
        self.xp.maximum.at(target, index, values)

    def scatter_min(self, target, index, values):
        """``target[index] = min(target[index], values)`` in place, over repeats too."""
        self.xp.minimum.at(target, index, values)

    def fuse(self, fn):
        """Returns an elementwise-fused version of ``fn`` (identity on CPU)."""
        return fn

    def linalg_raises(self):
        """A context in which ``xp.linalg`` raises ``LinAlgError`` for a singular
        matrix (NumPy always does: nothing to set on the CPU)."""
        return _NULL_CONTEXT

    def special(self, name):
        """A special function ('erf', 'erfinv', 'gammaln', ...) for this device's arrays."""
        raise NotImplementedError

    def rnn_kernel(self, cell_kind):
        """The fused recurrent kernel for 'lstm'/'gru', or None for the portable loop."""
        return None

    # -- randomness --------------------------------------------------------
    def rng(self):
        """This device's random generator (seeded by ``dlframe.random.set_seed``)."""
        raise NotImplementedError

    def philox_stream(self):
        """The device-held Philox state capturable draws use, or None (the host
        keeps the counters: the CPU)."""
        return None

    # -- memory ------------------------------------------------------------
    def memory_info(self):
        """Returns {'current': bytes, 'peak': bytes} used by this device's arrays."""
        return {"current": 0, "peak": 0}

    def reset_memory_stats(self):
        """Resets the peak memory statistic."""


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()
