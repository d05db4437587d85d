"""``tf.linalg.LinearOperatorCirculant`` (and the 2-D / 3-D block versions).

A circulant matrix is diagonalised by the DFT: ``A = F^-1 diag(spectrum) F``. So a
product is an FFT, a multiply and an inverse FFT, a solve divides instead, and the
determinant is the product of the spectrum.
"""

import math

from dlframe.core import dtypes
from dlframe.core.tensor_shape import TensorShape
from dlframe.linear_operator import _util as u
from dlframe.linear_operator.base import LinearOperator
from dlframe.ops import array as a
from dlframe.ops import debugging as dbg
from dlframe.ops import math as m
from dlframe.ops import reduction as r
from dlframe.ops import signal
from dlframe.ops.linalg import matrix_transpose

_FFT = {1: (signal.fft, signal.ifft), 2: (signal.fft2d, signal.ifft2d),
        3: (signal.fft3d, signal.ifft3d)}


def _complex_of(dtype):
    return dtypes.complex128 if dtype in (dtypes.float64, dtypes.complex128) \
        else dtypes.complex64


class _BaseCirculant(LinearOperator):
    """Shared by the 1-D, 2-D and 3-D circulant operators (``_block_depth``)."""

    _block_depth = 1

    def __init__(self, spectrum, input_output_dtype=dtypes.complex64,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name="LinearOperatorCirculant"):
        parameters = u.constructor_parameters(locals())
        if is_square is False:
            raise ValueError("A [[nested] block] circulant operator is always square. "
                             "Expected argument `is_square` to be True. Received: False.")
        self._spectrum = u.as_parameter(spectrum, "spectrum")
        u.check_dtype(self._spectrum, "spectrum")
        u.check_rank_at_least(self._spectrum, "spectrum", self._block_depth)
        if not self._spectrum.dtype.is_complex:
            is_self_adjoint = u.implied_hint(
                is_self_adjoint, True,
                "A real spectrum always corresponds to a self-adjoint operator. Expected "
                "argument `is_self_adjoint` to be True when `spectrum.dtype.is_complex` "
                "= True.")
        super().__init__(dtypes.as_dtype(input_output_dtype),
                         is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name, parameters=parameters)

    # ------------------------------------------------------------ description
    @property
    def spectrum(self):
        return self._spectrum

    @property
    def block_depth(self):
        """How many nested circulant levels (1, 2 or 3)."""
        return self._block_depth

    @property
    def block_shape(self):
        return TensorShape(u.static_shape(self._spectrum)[-self._block_depth:])

    def block_shape_tensor(self):
        from dlframe.core.tensor import constant
        return constant(self.block_shape.as_list(), dtype=dtypes.int32)

    def _shape(self):
        shape = u.static_shape(self._spectrum)
        n = math.prod(shape[-self._block_depth:])
        return shape[:-self._block_depth] + (n, n)

    # ------------------------------------------------------------ helpers
    def _spec(self, adjoint=False):
        """The spectrum as a complex Tensor (conjugated for the adjoint)."""
        s = m.cast(u.as_tensor(self._spectrum), _complex_of(self.dtype))
        return m.conj(s) if adjoint else s

    def _to_io(self, z):
        """A complex result in the operator's dtype (real part for real dtypes)."""
        if not self.dtype.is_complex:
            return m.cast(m.real(z), self.dtype)
        return m.cast(z, self.dtype)

    def _flat_spec(self, adjoint=False):
        s = self._spec(adjoint)
        shape = u.static_shape(s)
        return a.reshape(s, shape[:-self._block_depth] + (int(self.domain_dimension),))

    def _apply(self, x, spectrum_op):
        """``F^-1 spectrum_op(F x)`` on the columns of ``x`` [..., N, K]."""
        depth = self._block_depth
        fft, ifft = _FFT[depth]
        z = m.cast(x, _complex_of(self.dtype))
        shape = u.static_shape(z)
        batch, cols = shape[:-2], shape[-1]
        block = tuple(self.block_shape.as_list())
        z = a.reshape(matrix_transpose(z), batch + (cols,) + block)
        z = ifft(spectrum_op(fft(z)))
        zshape = u.static_shape(z)
        z = a.reshape(z, zshape[:-depth] + (int(self.domain_dimension),))
        return self._to_io(matrix_transpose(z))

    def _expanded(self, adjoint):
        """The spectrum with an axis for the columns: [..., 1, *block_shape]."""
        return a.expand_dims(self._spec(adjoint), -self._block_depth - 1)

    # ------------------------------------------------------------ methods
    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = u.maybe_adjoint(x, adjoint_arg)
        spec = self._expanded(adjoint)
        return self._apply(x, lambda fx: m.multiply(spec, fx))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = u.maybe_adjoint(rhs, adjoint_arg)
        spec = self._expanded(adjoint)
        return self._apply(rhs, lambda fx: m.divide(fx, spec))

    def _determinant(self):
        return self._to_io(r.reduce_prod(self._flat_spec(), axis=-1))

    def _log_abs_determinant(self):
        return r.reduce_sum(m.log(m.abs(self._flat_spec())), axis=-1)

    def _trace(self):
        return self._to_io(r.reduce_sum(self._flat_spec(), axis=-1))

    def _diag_part(self):
        # every diagonal entry is the kernel's first entry: the spectrum's mean
        flat = self._flat_spec()
        mean = r.reduce_mean(flat, axis=-1, keepdims=True)
        return self._to_io(m.multiply(mean, m.ones_like(flat)))

    def _eigvals(self):
        return self._to_io(self._flat_spec())

    def _cond(self):
        mag = m.abs(self._flat_spec())
        return m.divide(r.reduce_max(mag, axis=-1), r.reduce_min(mag, axis=-1))

    def convolution_kernel(self, name="convolution_kernel"):
        """The kernel ``h`` (inverse DFT of the spectrum): ``A x = h (*) x``."""
        kernel = _FFT[self._block_depth][1](self._spec())
        return self._to_io(kernel)

    def assert_hermitian_spectrum(self, name="assert_hermitian_spectrum"):
        """An op raising InvalidArgumentError unless the kernel is real (the spectrum
        is Hermitian), which real input/output dtypes need."""
        kernel = _FFT[self._block_depth][1](self._spec())
        tol = 100.0 * (1e-6 if kernel.dtype == dtypes.complex64 else 1e-13)
        return dbg.assert_less_equal(
            m.abs(m.imag(kernel)),
            m.multiply(m.ones_like(m.abs(m.imag(kernel))), tol),
            message="Spectrum was not Hermitian")

    def _assert_non_singular(self):
        mag = m.abs(self._flat_spec())
        return dbg.assert_positive(mag, message="Singular operator:  Spectrum contained "
                                   "zero values.")

    def _assert_positive_definite(self):
        return dbg.assert_positive(m.real(self._flat_spec()), message=(
            "Not positive definite:  Real part of spectrum was not all positive."))

    def _assert_self_adjoint(self):
        imag = m.imag(self._flat_spec())
        return dbg.assert_equal(imag, m.zeros_like(imag), message=(
            "Not self-adjoint:  The spectrum contained non-zero imaginary part."))

    # ------------------------------------------------------------ algebra
    def _with(self, spectrum, **hints):
        return type(self)(spectrum, input_output_dtype=self.dtype, **hints)

    def _linop_adjoint(self):
        return self._with(self._spec(True), is_non_singular=self.is_non_singular,
                          is_positive_definite=self.is_positive_definite)

    def _linop_inverse(self):
        return self._with(m.reciprocal(self._spec()),
                          is_non_singular=self.is_non_singular,
                          is_self_adjoint=self.is_self_adjoint,
                          is_positive_definite=self.is_positive_definite)

    def _linop_matmul(self, other):
        if type(other) is type(self) and other.block_shape == self.block_shape:
            return self._with(m.multiply(self._spec(), other._spec()),
                              is_non_singular=u.combined_hint(
                                  [self.is_non_singular, other.is_non_singular]))
        return None


class LinearOperatorCirculant(_BaseCirculant):
    """``A = F^-1 diag(spectrum) F``: a [batch of] circulant matrices ``[..., N, N]``.

    Args:
      spectrum: float or complex Tensor ``[..., N]``, the DFT of the first column.
      input_output_dtype: the operator's dtype (default complex64); with a real
        dtype the spectrum must be Hermitian and results are real.
      is_non_singular: hint that no spectrum entry is zero.
      is_self_adjoint: hint that the spectrum is real (always True for a real one).
      is_positive_definite: hint that the spectrum's real part is positive.
      is_square: must be True or None.
      name: the operator's name.
    """

    _block_depth = 1


class LinearOperatorCirculant2D(_BaseCirculant):
    """A [batch of] block circulant matrices with circulant blocks.

    Args:
      spectrum: float or complex Tensor ``[..., N0, N1]`` (the 2-D DFT of the
        kernel); the operator is ``[..., N0 * N1, N0 * N1]``.
      input_output_dtype: the operator's dtype (default complex64).
      is_non_singular: hint that no spectrum entry is zero.
      is_self_adjoint: hint that the spectrum is real.
      is_positive_definite: hint that the spectrum's real part is positive.
      is_square: must be True or None.
      name: the operator's name.
    """

    _block_depth = 2

    def __init__(self, spectrum, input_output_dtype=dtypes.complex64,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name="LinearOperatorCirculant2D"):
        super().__init__(spectrum, input_output_dtype, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name)


class LinearOperatorCirculant3D(_BaseCirculant):
    """A [batch of] doubly nested block circulant matrices.

    Args:
      spectrum: float or complex Tensor ``[..., N0, N1, N2]`` (the 3-D DFT of the
        kernel); the operator is ``[..., N, N]`` with ``N = N0 * N1 * N2``.
      input_output_dtype: the operator's dtype (default complex64).
      is_non_singular: hint that no spectrum entry is zero.
      is_self_adjoint: hint that the spectrum is real.
      is_positive_definite: hint that the spectrum's real part is positive.
      is_square: must be True or None.
      name: the operator's name.
    """

    _block_depth = 3

    def __init__(self, spectrum, input_output_dtype=dtypes.complex64,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name="LinearOperatorCirculant3D"):
        super().__init__(spectrum, input_output_dtype, is_non_singular, is_self_adjoint,
                         is_positive_definite, is_square, name)
