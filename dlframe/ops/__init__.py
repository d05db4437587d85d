"""The op library. Importing it installs Tensor operators and the tape's late-bound ops."""

from dlframe.core import tape as _tape
from dlframe.ops import array, control_flow, linalg, logging, math, operators, reduction

operators.install()
_tape.OPS.update(stack=array.stack, reshape=array.reshape, zeros=array.zeros)
