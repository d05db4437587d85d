"""NCCL collectives on CuPy arrays of several GPUs driven by this process.

Written from the facts in /work/shared/GPU.md section 2 (CuPy 14, ``cupy.cuda.nccl``):
``NcclCommunicator.initAll(device_ids)`` gives one communicator per device in one
process; calls take integer device pointers, element counts, NCCL datatype and op
constants and a stream pointer, are asynchronous on that stream, and must sit
between ``groupStart()``/``groupEnd()`` when one process drives several devices
(else they deadlock). ``NCCL_AVG`` (op 4) exists from NCCL 2.10.
(U) Unverified on several GPUs: the test machine has one, so the multi-device path
is exercised only by ``multi_gpu`` tests; world size 1 runs on ``gpu`` tests.

CuPy is imported lazily; ``import dlframe`` never loads it.
"""

import warnings

_DTYPES = {"int8": 0, "uint8": 1, "int32": 2, "uint32": 3, "int64": 4, "uint64": 5,
           "float16": 6, "float32": 7, "float64": 8, "bfloat16": 9}
_SUM, _AVG = 0, 4


def _import():
    import cupy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "NCCL is not available" hint
        from cupy.cuda import nccl
    return cupy, nccl


def nccl_available():
    """True when CuPy imports and finds libnccl (no GPU needed to answer)."""
    try:
        _, nccl = _import()
    except ImportError:
        return False
    return bool(getattr(nccl, "available", False))


def nccl_datatype(dtype):
    """NCCL's datatype constant for a NumPy/CuPy dtype; TypeError if unsupported."""
    name = getattr(dtype, "name", str(dtype))
    try:
        return _DTYPES[name]
    except KeyError:
        raise TypeError(f"NCCL cannot reduce dtype {name!r}; supported: "
                        f"{sorted(_DTYPES)}") from None


class NcclGroup:
    """One NCCL communicator per GPU of this process (``ncclCommInitAll``).

    Args:
      device_ids: CUDA device ordinals, one per replica, in replica order.
    """

    def __init__(self, device_ids):
        cupy, nccl = _import()
        if not nccl.available:
            raise RuntimeError("NCCL is not available to CuPy: pip install "
                               "'nvidia-nccl-cu13>=2.27.7,<3' (or -cu12 for cupy-cuda12x)")
        self._cupy, self._nccl = cupy, nccl
        self.device_ids = [int(i) for i in device_ids]
        self.comms = nccl.NcclCommunicator.initAll(self.device_ids)

    def _each(self, arrays, launch):
        """Runs ``launch(comm, array, stream_ptr)`` per device inside one NCCL group;
        returns the outputs it creates."""
        cupy, nccl = self._cupy, self._nccl
        outs = []
        nccl.groupStart()
        try:
            for comm, dev, a in zip(self.comms, self.device_ids, arrays):
                with cupy.cuda.Device(dev):
                    outs.append(launch(comm, a, cupy.cuda.get_current_stream().ptr))
        finally:
            nccl.groupEnd()
        return tuple(outs)

    def all_reduce(self, arrays, mean=False):
        """Elementwise sum (or mean) of one array per device; one result per device."""
        cupy = self._cupy
        dtype = nccl_datatype(arrays[0].dtype)
        use_avg = mean and self._nccl.get_version() >= 21000 and \
            arrays[0].dtype.kind == "f"

        def launch(comm, a, stream):
            a = cupy.ascontiguousarray(a)
            out = cupy.empty_like(a)
            comm.allReduce(a.data.ptr, out.data.ptr, a.size, dtype,
                           _AVG if use_avg else _SUM, stream)
            return out
        outs = self._each(arrays, launch)
        if mean and not use_avg:
            n = len(arrays)
            divided = []
            for dev, out in zip(self.device_ids, outs):
                with cupy.cuda.Device(dev):
                    divided.append(out // n if out.dtype.kind in "iu" else out / n)
            outs = tuple(divided)
        return outs

    def broadcast(self, arrays, root=0):
        """``arrays[root]`` copied to every device (others give only their buffers)."""
        cupy = self._cupy
        src = arrays[root]
        dtype = nccl_datatype(src.dtype)
        shape = src.shape
        ordinal = iter(range(len(arrays)))

        def launch(comm, a, stream):
            i = next(ordinal)
            send = cupy.ascontiguousarray(a) if i == root else None
            out = cupy.empty(shape, dtype=src.dtype)
            comm.broadcast(send.data.ptr if send is not None else out.data.ptr,
                           out.data.ptr, out.size, dtype, root, stream)
            return out
        return self._each(arrays, launch)

    def all_gather(self, arrays):
        """Arrays of one shape from every device stacked along a new first axis
        reshaped into the first axis (concatenation along axis 0)."""
        cupy = self._cupy
        dtype = nccl_datatype(arrays[0].dtype)
        n = len(arrays)

        def launch(comm, a, stream):
            a = cupy.ascontiguousarray(a)
            out = cupy.empty((n * a.shape[0],) + a.shape[1:] if a.ndim else (n,),
                             dtype=a.dtype)
            comm.allGather(a.data.ptr, out.data.ptr, a.size, dtype, stream)
            return out
        return self._each(arrays, launch)

    def close(self):
        for c in self.comms:
            c.destroy()
        self.comms = []
