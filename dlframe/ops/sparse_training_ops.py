"""Fused optimizer updates for ``tf.IndexedSlices`` gradients (an embedding's rows).

Each result is the dense kernel of ``training_ops`` run on the densified gradient
(rows scatter-added into zeros in the order given, then cast to the variable's
dtype), except that, as TF 2.21's (and Keras 2's) optimizers do, the squared-gradient
term of Adagrad, Adam and RMSprop is the sum of the squares of the rows of a repeated
id (the square is taken per row of the slices, then the rows are added), not the
square of their sum; with distinct ids both are bit-equal. Only the work differs:

- SGD and Adagrad touch only the gradient's rows: on every other row the dense update
  adds ``0`` to the accumulator and subtracts ``0`` from the variable.
- Adam must decay both moments of every row (Keras semantics), so the dense pass
  stays, but without the gradient terms (``(0 - m) * c`` is exactly ``-(m * c)``);
  the gradient's rows are then recomputed from their saved old values.
- Uncentered RMSprop decays every row's velocity (one pass) and steps the gradient's
  rows only (with momentum, every row's momentum still moves the variable).

On a GPU nothing is read back to the host (the distinct ids' count is unknown there),
so a step holding the update can be captured as a CUDA graph; out-of-range rows are
ignored, as TF's GPU kernels do. SGD and Adagrad sum the rows per id into one slot per
gradient row and run the dense kernel on the gradient's rows only (repeated ids write
equal rows); Adam and RMSprop run the dense kernel on the gradient densified on the
device.

Inputs are ``(variable, *slots, values, indices, lr, iterations)``, as the dense
kernels, with the IndexedSlices' ``values`` and ``indices`` in place of ``grad``.
"""

from dlframe.core.primitive import primitive
from dlframe.errors import InvalidArgumentError
from dlframe.ops import training_ops as _dense
from dlframe.ops.device_index import neutralize, scatter_rows
from dlframe.ops.row_kernels import sum_rows_by_id
from dlframe.ops.training_ops import _prep


def _dense_grad(d, var, values, indices):
    """On a GPU: the densified gradient, with no host read (``_summed_rows`` reads
    the count of distinct ids back). Out-of-range rows are ignored, as TF's GPU
    kernels do; the dense kernel then gives what the sparse update defines (see
    above)."""
    ids = indices.reshape(-1).astype("int64", copy=False)
    bad = (ids < 0) | (ids >= var.shape[0])
    return scatter_rows(d, None, ids, bad, values, "add", var.shape)


def _device_rows(d, var, values, indices, squares=False):
    """On a GPU, with no host read: each gradient row's id (0 where out of range), the
    out-of-range mask, and per row the sum of all the rows with its id (each repeat
    gets the whole sum, as the dense scatter-add sums them) in the variable's dtype;
    with ``squares``, also per row the sum of the squares of those rows."""
    xp = d.xp
    ids = indices.reshape(-1).astype("int64", copy=False)
    rows = (ids.shape[0],) + var.shape[1:]
    bad = (ids < 0) | (ids >= var.shape[0])
    slot = xp.searchsorted(xp.sort(ids), ids)   # one slot per distinct id
    values = values.reshape(rows)
    sums = scatter_rows(d, None, slot, bad, values, "add", rows)
    out = (xp.where(bad, 0, ids), bad,
           xp.take(sums, slot, axis=0).astype(var.dtype, copy=False))
    if squares:
        values = values.astype(var.dtype, copy=False)
        sq = scatter_rows(d, None, slot, bad, xp.square(values), "add", rows)
        out += (xp.take(sq, slot, axis=0),)
    return out


def _dense_squares(d, var, values, indices):
    """On a GPU: per row of ``var``, the sum of the squares of the gradient's rows with
    that id (0 elsewhere), with no host read."""
    values = values.astype(var.dtype, copy=False)
    return _dense_grad(d, var, d.xp.square(values), indices)


def _write_rows(xp, target, ids, bad, rows):
    """``target[ids] = rows``, skipping the rows where ``bad`` holds."""
    key, rows = neutralize(xp, target, (ids,), bad, rows, "update")
    target[key] = rows


def _summed_squares(d, var, values, indices):
    """Per distinct id (sorted, as ``_summed_rows``), the sum of the squares of the
    gradient's rows with that id, in the variable's dtype."""
    ids = indices.reshape(-1)
    values = values.reshape((ids.size,) + var.shape[1:]).astype(var.dtype, copy=False)
    return sum_rows_by_id(d, ids, d.xp.square(values))[1]


def _summed_rows(d, var, values, indices):
    """The distinct row ids and the gradient rows summed per id (in the order
    given, as the dense scatter-add sums them), in the variable's dtype."""
    ids = indices.reshape(-1)
    rows, summed = sum_rows_by_id(d, ids, values.reshape((ids.size,) + var.shape[1:]))
    if rows.size:   # sorted: the ends alone say whether all are in range
        lo, hi = (int(r) for r in d.to_numpy(rows[[0, -1]]))   # one device read
        if lo < 0 or hi >= var.shape[0]:
            bad = lo if lo < 0 else hi
            raise InvalidArgumentError(f"indices contains {bad}, not in [0, {var.shape[0]})"
                                       " [Op:SparseApply]")
    return rows, summed.astype(var.dtype, copy=False)


@primitive("KerasSparseApplySGD", effects=True)
def sparse_sgd_p(d, var, values, indices, lr, it):
    if d.is_gpu:   # the dense kernel on the gradient's rows
        ids, bad, g = _device_rows(d, var, values, indices)
        var_rows = d.xp.take(var, ids, axis=0)
        _dense.sgd_p.forward(d, var_rows, g, lr, it)
        _write_rows(d.xp, var, ids, bad, var_rows)
        return var
    rows, g = _summed_rows(d, var, values, indices)
    _, lr, _ = _prep(var, g, lr, it)
    var[rows] = var[rows] - g * lr
    return var


@primitive("KerasSparseApplyAdagrad", effects=True)
def sparse_adagrad_p(d, var, acc, values, indices, lr, it, *, epsilon):
    if d.is_gpu:   # the dense kernel on the gradient's rows and per-row squares
        ids, bad, g, sq = _device_rows(d, var, values, indices, squares=True)
        var_rows, acc_rows = d.xp.take(var, ids, axis=0), d.xp.take(acc, ids, axis=0)
        _dense.adagrad_p.forward(d, var_rows, acc_rows, g, lr, it, sq, epsilon=epsilon)
        _write_rows(d.xp, acc, ids, bad, acc_rows)
        _write_rows(d.xp, var, ids, bad, var_rows)
        return var
    rows, g = _summed_rows(d, var, values, indices)
    _, lr, _ = _prep(var, g, lr, it)
    acc_rows = acc[rows] + _summed_squares(d, var, values, indices)
    acc[rows] = acc_rows
    var[rows] = var[rows] - lr * g / d.xp.sqrt(acc_rows + epsilon)
    return var


@primitive("KerasSparseApplyAdam", effects=True)
def sparse_adam_p(d, var, m, v, values, indices, lr, it, *, beta_1, beta_2, epsilon):
    xp = d.xp
    if d.is_gpu:   # the dense kernel on the densified gradient and per-row squares
        return _dense.adam_p.forward(
            d, var, m, v, None, _dense_grad(d, var, values, indices), lr, it,
            _dense_squares(d, var, values, indices), beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, amsgrad=False)
    rows, g = _summed_rows(d, var, values, indices)
    _, lr, t = _prep(var, g, lr, it)
    alpha = lr * xp.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m_rows, v_rows, var_rows = m[rows], v[rows], var[rows]
    # every row with a zero gradient
    step = m * (1 - beta_1)
    m -= step
    xp.multiply(v, 1 - beta_2, out=step)
    v -= step
    xp.sqrt(v, out=step)
    step += epsilon
    var -= m * alpha / step
    # the gradient's rows, from their old values
    m_rows += (g - m_rows) * (1 - beta_1)
    v_rows += (_summed_squares(d, var, values, indices) - v_rows) * (1 - beta_2)
    var_rows -= m_rows * alpha / (xp.sqrt(v_rows) + epsilon)
    m[rows], v[rows], var[rows] = m_rows, v_rows, var_rows
    return var


@primitive("KerasSparseApplyRMSprop", effects=True)
def sparse_rmsprop_p(d, var, vel, mom, values, indices, lr, it, *, rho, momentum,
                     epsilon):
    """Uncentered RMSprop (``epsilon > 0``): every row's velocity decays (and, with
    momentum, every row's momentum and variable move); the step ``lr * g / sqrt(vel
    + epsilon)`` is 0 on rows without gradient, so only the gradient's rows get it."""
    xp = d.xp
    if d.is_gpu:   # the dense kernel on the densified gradient and per-row squares
        return _dense.rmsprop_p.forward(
            d, var, vel, mom, None, _dense_grad(d, var, values, indices), lr, it,
            _dense_squares(d, var, values, indices), rho=rho, momentum=momentum,
            epsilon=epsilon, centered=False)
    rows, g = _summed_rows(d, var, values, indices)
    _, lr, _ = _prep(var, g, lr, it)
    vel *= rho
    vel_rows = vel[rows] + (1 - rho) * _summed_squares(d, var, values, indices)
    vel[rows] = vel_rows
    inc = lr * g / xp.sqrt(vel_rows + epsilon)
    if momentum > 0:
        mom *= momentum
        mom[rows] += inc   # ``rows`` are distinct
        var -= mom
    else:
        var[rows] -= inc
    return var
