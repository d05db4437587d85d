"""Block helpers for the block operators: split a Tensor into row blocks, join
blocks whose batch shapes broadcast, and assemble a dense block matrix."""

from dlframe.linear_operator import _util as u
from dlframe.ops import array as a


def split(x, sizes, axis):
    """``x`` cut along ``axis`` into pieces of the given sizes."""
    return a.split(x, [int(s) for s in sizes], axis=axis)


def concat(tensors, axis, core_rank):
    """Concatenates along ``axis`` after broadcasting the leading (batch) dims; the
    last ``core_rank`` dims are the matrix (2) or vector (1) dims."""
    shapes = [u.static_shape(t) for t in tensors]
    batch = u.broadcast_shapes(*(s[:len(s) - core_rank] for s in shapes))
    full = [t if s[:len(s) - core_rank] == batch else
            a.broadcast_to(t, batch + s[len(s) - core_rank:])
            for t, s in zip(tensors, shapes)]
    return a.concat(full, axis=axis)


def dense_block_matrix(rows, row_dims, col_dims, batch, dtype):
    """A dense matrix from ``rows[i][j]`` (a dense block, or None for zeros)."""
    out_rows = []
    for i, row in enumerate(rows):
        pieces = []
        for j, block in enumerate(row):
            if block is None:
                block = a.zeros(tuple(batch) + (row_dims[i], col_dims[j]), dtype=dtype)
            pieces.append(block)
        out_rows.append(concat(pieces, -1, 2))
    return concat(out_rows, -2, 2)
