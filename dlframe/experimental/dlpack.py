"""``tf.experimental.dlpack``: zero-copy exchange of tensors through DLPack.

``to_dlpack(t)`` gives a ``dltensor`` PyCapsule of the tensor's buffer (NumPy on the
CPU, CuPy on a GPU). ``from_dlpack`` takes such a capsule or any object with
``__dlpack__`` (a NumPy or CuPy array, a torch tensor...) and returns a Tensor that
shares its memory when the device allows it.
"""

import ctypes

from dlframe import backends
from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor

_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST, _KDL_CUDA_MANAGED = 1, 2, 3, 13


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLTensorHead(ctypes.Structure):
    # the leading members of DLTensor: enough to read where the data lives
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice)]


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def _capsule_device(capsule):
    """(device_type, device_id) of an unconsumed ``dltensor`` capsule."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype = ctypes.c_int
    is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
    if not is_valid(capsule, b"dltensor"):
        raise ValueError("from_dlpack: the capsule is not an unconsumed 'dltensor' "
                         "DLPack capsule (a capsule can be consumed only once)")
    head = _DLTensorHead.from_address(get(capsule, b"dltensor"))
    return head.device.device_type, head.device.device_id


class _CapsuleHolder:
    """Presents a legacy capsule through the ``__dlpack__`` protocol that
    ``numpy.from_dlpack`` expects."""

    def __init__(self, capsule, device):
        self._capsule, self._device = capsule, device

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        return self._capsule

    def __dlpack_device__(self):
        return self._device


def to_dlpack(tf_tensor):
    """A DLPack capsule sharing ``tf_tensor``'s memory.

    Args:
      tf_tensor: a Tensor (or a value convertible to one).

    Returns:
      A ``PyCapsule`` named ``dltensor``; consume it once with ``from_dlpack`` (any
      framework's).

    Raises:
      TypeError: string tensors (DLPack has no string type).
    """
    t = convert_to_tensor(tf_tensor)
    if t.dtype == dtypes.string:
        raise TypeError(f"to_dlpack: DLPack does not support string tensors, got "
                        f"tf_tensor={t!r}")
    array = t._value
    if not hasattr(array, "__dlpack__"):
        array = np.asarray(array)
    try:
        return array.__dlpack__()
    except BufferError:   # read-only NumPy views (broadcasts) cannot be exported
        return np.array(array).__dlpack__()


def from_dlpack(dlcapsule):
    """A Tensor from a DLPack capsule or an object exposing ``__dlpack__``.

    Args:
      dlcapsule: a ``dltensor`` PyCapsule (e.g. from ``to_dlpack`` or
        ``torch.utils.dlpack.to_dlpack``), or an array object with ``__dlpack__``
        (NumPy >= 1.23, CuPy, torch).

    Returns:
      A Tensor on the CPU, or on the GPU that holds the data.

    Raises:
      TypeError: ``dlcapsule`` is neither.
    """
    if _is_capsule(dlcapsule):
        device_type, device_id = _capsule_device(dlcapsule)
        source = _CapsuleHolder(dlcapsule, (device_type, device_id))
    elif hasattr(dlcapsule, "__dlpack__"):
        source = dlcapsule
        device_type, device_id = (dlcapsule.__dlpack_device__()
                                  if hasattr(dlcapsule, "__dlpack_device__")
                                  else (_KDL_CPU, 0))
    else:
        raise TypeError(f"from_dlpack expects a DLPack capsule or an object with "
                        f"__dlpack__, got dlcapsule={dlcapsule!r}")
    if int(device_type) in (_KDL_CPU, _KDL_CUDA_HOST):
        device = backends.get_device("cpu:0")
        array = np.from_dlpack(source)
    elif int(device_type) in (_KDL_CUDA, _KDL_CUDA_MANAGED):
        device = backends.get_device(f"gpu:{int(device_id)}")
        xp = device.xp
        array = xp.from_dlpack(dlcapsule if _is_capsule(dlcapsule) else source)
    else:
        raise ValueError(f"from_dlpack: unsupported DLPack device type {device_type}")
    dtypes.from_numpy(array.dtype)   # raises on a dtype dlframe has no DType for
    return Tensor(array, device)


__all__ = ["from_dlpack", "to_dlpack"]
