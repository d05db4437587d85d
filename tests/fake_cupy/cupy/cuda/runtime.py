"""``cupy.cuda.runtime`` of the fake CuPy."""

import os


class CUDARuntimeError(RuntimeError):
    def __init__(self, status):
        self.status = status
        super().__init__(f"cudaError {status} (fake CuPy)")


is_hip = False
streamCaptureModeGlobal, streamCaptureModeThreadLocal, streamCaptureModeRelaxed = 0, 1, 2


def getDeviceCount():
    return int(os.environ.get("DLFRAME_FAKE_GPU_COUNT", "1"))


def runtimeGetVersion():
    return 13020


def driverGetVersion():
    return 13000


def getDevice():
    from cupy import cuda
    return cuda._current_id()


def setDevice(device):
    from cupy import cuda
    cuda.Device(device).use()


def deviceSynchronize():
    pass


def memGetInfo():
    from cupy import cuda
    return cuda.Device().mem_info


def getDeviceProperties(device):
    return {"name": b"Fake H100 (fake CuPy)", "totalGlobalMem": 80 * 2 ** 30,
            "major": 9, "minor": 0, "multiProcessorCount": 132}
