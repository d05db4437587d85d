"""``dlframe.autograph``: converts tensor-dependent Python control flow into graph ops."""

from types import SimpleNamespace

from dlframe.autograph.converter import convert, transformed_source
from dlframe.core import function as _function
from dlframe.ops import control_flow as _control_flow


def to_code(entity, recursive=True, experimental_optional_features=None):
    """Returns the source code AutoGraph generates for ``entity``."""
    target = getattr(entity, "python_function", entity)
    source = transformed_source(target)
    name = getattr(target, "__name__", "")
    # TF names the converted function tf__<name>
    return source.replace(f"def {name}(", f"def tf__{name}(", 1) if name else source


def do_not_convert(func=None):
    """Decorator: leave ``func`` as plain Python inside converted code."""
    def mark(f):
        f.__ag_do_not_convert__ = True
        return f
    return mark if func is None else mark(func)


def set_verbosity(level, alsologtostdout=False):
    """Kept for TF compatibility."""


experimental = SimpleNamespace(
    do_not_convert=do_not_convert, set_loop_options=_control_flow.set_loop_options,
    Feature=SimpleNamespace(ALL="ALL", AUTO_CONTROL_DEPS="AUTO_CONTROL_DEPS"))

_function.CONVERTER = convert
