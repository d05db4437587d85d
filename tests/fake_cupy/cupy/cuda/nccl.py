"""``cupy.cuda.nccl`` of the fake CuPy: no NCCL library (``available`` is False)."""

available = False


class NcclError(RuntimeError):
    pass


def get_version():
    raise NcclError("NCCL is not available (fake CuPy)")


class NcclCommunicator:
    def __init__(self, *args, **kwargs):
        raise NcclError("NCCL is not available (fake CuPy)")

    @staticmethod
    def initAll(devices):
        raise NcclError("NCCL is not available (fake CuPy)")
