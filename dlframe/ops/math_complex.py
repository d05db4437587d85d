"""Complex numbers: conj, real and imaginary parts, complex(), angle.

Each primitive's gradient rule sits directly below its forward (DESIGN.md §4).
"""

from dlframe.core.primitive import call, primitive
from dlframe.errors import DTypeMismatchError, ShapeMismatchError
from dlframe.ops._util import operands, t, unaliased
from dlframe.ops.logic import _check, _kind, less, ones_like, where, zeros_like
from dlframe.ops.math_binary import atan2, multiply


@primitive("Conj")
def conj_p(d, x):
    return d.xp.conj(x)


@conj_p.defgrad
def _conj_grad(inputs, out, dy):
    return conj(dy)


def conj(x, name=None):
    """Complex conjugate (real and integer tensors are returned unchanged)."""
    x = t(x)
    if _kind(x) != "c":
        _check("Conj", x, "fciub")
        if _kind(x) == "b":   # (TF: a TypeError before any op)
            raise TypeError("Expected numeric or variant tensor, got dtype "
                            f"{x.dtype!r}.")
        return unaliased(x)
    return call(conj_p, (x,))


@primitive("Real")
def real_p(d, x):
    return d.xp.real(x).copy()


@real_p.defgrad
def _real_grad(inputs, out, dy):
    return complex(dy, zeros_like(dy))


def real(input, name=None):
    """Real part of a complex tensor (real tensors are returned unchanged)."""
    x = t(input)
    if _kind(x) not in "fciu":   # (TF: a TypeError before any op)
        raise TypeError("input must be a numeric tensor, but got tensor with dtype "
                        f"{x.dtype}")
    return call(real_p, (x,)) if _kind(x) == "c" else unaliased(x)


@primitive("Imag")
def imag_p(d, x):
    return d.xp.imag(x).copy()


@imag_p.defgrad
def _imag_grad(inputs, out, dy):
    return complex(zeros_like(dy), dy)


def imag(input, name=None):
    """Imaginary part of a complex tensor (zeros for real tensors)."""
    x = t(input)
    return call(imag_p, (x,)) if _kind(x) == "c" else zeros_like(x)


@primitive("Complex")
def complex_p(d, re, im):
    ctype = d.xp.complex64 if re.dtype.itemsize == 4 else d.xp.complex128
    try:
        return d.xp.add(re.astype(ctype), im.astype(ctype) * 1j)
    except ValueError:
        raise ShapeMismatchError(f"Complex: Incompatible shapes: {list(re.shape)} vs. "
                                 f"{list(im.shape)} [Op:Complex]") from None


@complex_p.defgrad
def _complex_grad(inputs, out, dy):
    return real(dy), imag(dy)


def complex(real, imag, name=None):
    """Builds ``real + 1j * imag`` from float32 (complex64) or float64 (complex128) parts."""
    re, im = operands(real, imag, "Complex")
    if re._value.dtype.kind != "f" or re._value.dtype.itemsize not in (4, 8):
        raise TypeError(f"The `real` and `imag` components have incorrect types: "
                        f"{re.dtype.name} {im.dtype.name}. They must be consistent, and "
                        "one of [tf.float32, tf.float64]")
    return call(complex_p, (re, im))


def angle(input, name=None):
    """Elementwise argument of a complex tensor (pi for negative reals, else 0)."""
    x = t(input)
    if _kind(x) == "c":
        return atan2(imag(x), real(x))
    if _kind(x) != "f":   # TF fills pi into the input's dtype: a TypeError
        raise DTypeMismatchError(
            f"angle: input must be a float or complex tensor; received dtype "
            f"{x.dtype.name} (Cannot convert 3.141592653589793 to EagerTensor of "
            f"dtype {x.dtype.name})")
    return where(less(x, 0), _fill_like(x, 3.141592653589793), zeros_like(x))


def _fill_like(x, value):
    """A tensor shaped like ``x`` of its dtype filled with ``value``."""
    return multiply(ones_like(x), value)
