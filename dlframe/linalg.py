"""``dlframe.linalg``: linear-algebra names over dlframe.ops.linalg."""

from dlframe.ops.linalg import matmul  # noqa: F401
from dlframe.ops.array import transpose as matrix_transpose  # noqa: F401
