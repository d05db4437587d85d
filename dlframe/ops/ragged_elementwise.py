"""Elementwise Python operators of RaggedTensor and the alignment of a second
operand (a RaggedTensor with the same partitions, a scalar, or a dense tensor that
broadcasts against the rows) with its flat values."""

import operator

from dlframe.backends.base import np
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import InvalidArgumentError
from dlframe.ops.array import reshape
from dlframe.ops.array_index import gather
from dlframe.ops.ragged_tensor import RaggedTensor, _symbolic


def _align(rt, other):
    """``other`` (Tensor/Python value) as an operand for ``rt.flat_values``."""
    if isinstance(other, RaggedTensor):
        mine, theirs = rt.nested_row_splits, other.nested_row_splits
        if len(mine) != len(theirs):
            raise ValueError(f"RaggedTensors have different ragged ranks: "
                             f"{len(mine)} vs {len(theirs)}")
        for a, b in zip(mine, theirs):
            if a is b or _symbolic(a, b):
                continue
            if a._value.shape != b._value.shape or not np.array_equal(a.numpy(),
                                                                      b.numpy()):
                raise InvalidArgumentError("Inputs must have identical ragged splits; "
                                           f"got {a.numpy().tolist()} and "
                                           f"{b.numpy().tolist()}")
        return other.flat_values
    flat = rt.flat_values
    x = other if isinstance(other, Tensor) else None
    if x is None:
        arr = np.asarray(other) if not isinstance(other, (int, float, bool, complex,
                                                          bytes, str)) else None
        if arr is None or arr.ndim == 0:
            return other   # a Python scalar follows the values' dtype
        x = convert_to_tensor(other, dtype=flat.dtype)
    inner = flat.ndim - 1
    if x.ndim <= inner:
        return x
    outer = x.ndim - inner   # dims of x aligned with rows and ragged dimensions
    lead = list(x._value.shape[:outer])
    if all(d == 1 for d in lead):
        return reshape(x, list(x._value.shape[outer:]))
    if rt.ragged_rank == 1 and outer == 2 and lead[1] == 1:
        rows = reshape(x, [lead[0]] + list(x._value.shape[2:]))
        return gather(rows, rt.value_rowids())
    raise ValueError(f"Cannot broadcast a dense tensor of shape {list(x.shape)} against "
                     f"a RaggedTensor of shape {rt.shape}")


def _binary(fn, reflected=False):
    def op(self, other):
        theirs = _align(self, other)
        mine = self.flat_values
        return self.with_flat_values(fn(theirs, mine) if reflected else fn(mine, theirs))
    return op


def _comparison(op, none_result):
    def compare(self, other):
        return none_result if other is None else op(self, other)
    return compare


def _unary(fn):
    def op(self):
        return self.with_flat_values(fn(self.flat_values))
    return op


for _name, _fn in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow), ("and", operator.and_),
                   ("or", operator.or_), ("xor", operator.xor)]:
    setattr(RaggedTensor, f"__{_name}__", _binary(_fn))
    setattr(RaggedTensor, f"__r{_name}__", _binary(_fn, reflected=True))
for _name, _fn in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                   ("ge", operator.ge)]:
    setattr(RaggedTensor, f"__{_name}__", _binary(_fn))
for _name, _fn in [("eq", operator.eq), ("ne", operator.ne)]:
    setattr(RaggedTensor, f"__{_name}__", _comparison(_binary(_fn), _name == "ne"))
for _name, _fn in [("neg", operator.neg), ("abs", operator.abs),
                   ("invert", operator.invert), ("pos", operator.pos)]:
    setattr(RaggedTensor, f"__{_name}__", _unary(_fn))


