"""``dlframe.nn``: neural-network names over dlframe.ops."""

from dlframe.ops.math import sigmoid, softplus, softsign, tanh  # noqa: F401
