"""``tf.raw_ops``: TensorFlow's low-level op namespace over dlframe's public ops.

Every function takes keyword arguments only, named as in TensorFlow's op
definitions (``tf.raw_ops.MatMul(a=x, b=y, transpose_b=True)``); a positional
argument raises ``TypeError`` as in TensorFlow. Each is a thin adapter over the
public op that implements it (``MatMul`` over ``tf.matmul``), so gradients and
``tf.function`` behave as for the public op. Multi-output ops return TF's
namedtuples (``TopKV2(values, indices)``).
"""

from dlframe.raw_ops import _array, _math, _misc, _nn

_TABLES = (_math.OPS, _array.OPS, _nn.OPS, _misc.OPS)
__all__ = sorted(name for table in _TABLES for name in table)  # noqa: PLE0605
if len(__all__) != sum(len(t) for t in _TABLES):   # pragma: no cover - module bug
    raise ImportError("dlframe.raw_ops: an op is declared in two tables")
for _table in _TABLES:
    globals().update(_table)
del _table


def __dir__():
    return __all__
