"""``tf.linalg.eig``, ``eigvals`` and ``lu``: decompositions of general (non-symmetric)
matrices, computed by LAPACK on the host (no CuPy kernel exists for general ``eig``).
They have no gradient here. ``keras.ops.eig``/``lu_factor`` use the same kernels."""

import collections

from dlframe.backends.base import np
from dlframe.core import dtypes
from dlframe.core.primitive import call, primitive
from dlframe.ops._util import t
from dlframe.ops.logic import cast

Lu = collections.namedtuple("Lu", ["lu", "p"])


def square_matrices(x, op):
    """``x`` (a Tensor) checked to be a batch of square matrices."""
    shape = x._value.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{op}: the input must be a batch of square matrices, got shape "
                         f"{tuple(shape)}")
    return x


@primitive("Eig", n_out=2)
def _eig_p(d, x):
    host = d.to_numpy(x)
    w, v = np.linalg.eig(host)
    kind = np.result_type(host.dtype, np.complex64)
    return d.asarray(w.astype(kind)), d.asarray(v.astype(kind))


def _row_order(pivots):
    """LAPACK's row interchanges as the permutation they apply."""
    order = np.arange(len(pivots))
    for i, p in enumerate(pivots):
        order[[i, p]] = order[[p, i]]
    return order


@primitive("Lu", n_out=2)
def _lu_factor_p(d, x):
    import scipy.linalg
    host = d.to_numpy(x)
    n = host.shape[-1]
    batch = host.reshape((-1, n, n))
    packed = np.empty_like(batch)
    order = np.empty(batch.shape[:2], np.int32)
    for i, matrix in enumerate(batch):
        packed[i], pivots = scipy.linalg.lu_factor(matrix)
        order[i] = _row_order(pivots)
    return (d.asarray(packed.reshape(host.shape)),
            d.asarray(order.reshape(host.shape[:-1])))


def eig(tensor, name=None):
    """Eigenvalues and right eigenvectors of square matrices (complex results).

    Args:
      tensor: ``[..., n, n]`` float or complex matrices.
      name: unused.

    Returns:
      ``(e, v)``: ``[..., n]`` eigenvalues and ``[..., n, n]`` eigenvectors (columns).
    """
    return call(_eig_p, (square_matrices(t(tensor), "eig"),))


def eigvals(tensor, name=None):
    """Eigenvalues of square matrices (complex), as ``eig(tensor)[0]``."""
    return eig(tensor)[0]


def lu(input, output_idx_type=dtypes.int32, name=None):
    """LU decomposition with partial pivoting: ``input[p] == L @ U``.

    Args:
      input: ``[..., n, n]`` matrices.
      output_idx_type: int32 or int64 for the permutation.
      name: unused.

    Returns:
      ``Lu(lu, p)``: L (unit diagonal, below) and U packed in one matrix, and the row
      permutation.
    """
    packed, perm = call(_lu_factor_p, (square_matrices(t(input), "lu"),))
    want = dtypes.as_dtype(output_idx_type)
    return Lu(packed, perm if want == dtypes.int32 else cast(perm, want))


LINALG_NAMES = ["eig", "eigvals", "lu"]
__all__ = []
