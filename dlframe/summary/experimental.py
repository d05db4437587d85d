"""``tf.summary.experimental``: the default step and summary scopes."""

import contextlib

from dlframe.core.variable import name_scope
from dlframe.summary.summary_ops import write_raw_pb
from dlframe.summary.writer import get_step, set_step

__all__ = ["get_step", "set_step", "summary_scope", "write_raw_pb"]


@contextlib.contextmanager
def summary_scope(name, default_name=None, values=None):
    """Yields (tag, scope) for a summary named ``name`` under the current name scope."""
    name = name or default_name
    with name_scope(name) as scope:
        yield scope.rstrip("/"), scope
