"""A fake NVML (module ``pynvml``) for the fake-CuPy harness: it reports
``DLFRAME_FAKE_GPU_COUNT`` (default 1) GPUs so dlframe's device probe (config.gpu_details)
sees a GPU without touching production code."""

import os


class NVMLError(Exception):
    pass


class _Memory:
    total = 80 * 2 ** 30
    free = 80 * 2 ** 30
    used = 0


def nvmlInit():
    pass


def nvmlShutdown():
    pass


def nvmlDeviceGetCount():
    return int(os.environ.get("DLFRAME_FAKE_GPU_COUNT", "1"))


def nvmlDeviceGetHandleByIndex(i):
    return i


def nvmlDeviceGetName(handle):
    return "Fake H100 (fake CuPy)"


def nvmlDeviceGetMemoryInfo(handle):
    return _Memory()


def nvmlSystemGetDriverVersion():
    return "580.00"
