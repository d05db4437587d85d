"""``dlframe.autograph``: converts tensor-dependent Python control flow into graph
ops."""

import enum
import functools
from types import SimpleNamespace

from dlframe.autograph.converter import convert, transformed_source
from dlframe.core import function as _function
from dlframe.ops import control_flow as _control_flow


class Feature(enum.Enum):
    """Optional conversion features (``tf.autograph.experimental.Feature``).

    Accepted by ``tf.function(experimental_autograph_options=...)`` and
    ``to_graph``/``to_code`` for TF compatibility; dlframe's conversion always
    behaves as TF's default set.
    """

    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"


def to_code(entity, recursive=True, experimental_optional_features=None):
    """Returns the source code AutoGraph generates for ``entity``.

    Args:
      entity: a Python function (or a ``tf.function``) to convert.
      recursive: accepted for TF compatibility.
      experimental_optional_features: accepted for TF compatibility.

    Returns:
      The converted source as a string; its runtime helpers are called ``ag__``.
    """
    target = getattr(entity, "python_function", entity)
    source = transformed_source(target)
    name = getattr(target, "__name__", "")
    # TF names the converted function tf__<name>
    return source.replace(f"def {name}(", f"def tf__{name}(", 1) if name else source


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """Returns ``entity`` converted by AutoGraph: a Python function whose
    tensor-dependent control flow becomes graph ops when it runs under
    ``tf.function`` (and stays plain Python eagerly).

    Args:
      entity: a Python function (or a ``tf.function``) to convert.
      recursive: accepted for TF compatibility.
      experimental_optional_features: accepted for TF compatibility.
    """
    target = getattr(entity, "python_function", entity)
    if not callable(target):
        raise TypeError(f"to_graph: entity must be callable, got {entity!r}")
    return convert(target)


def do_not_convert(func=None):
    """Decorator: leave ``func`` as plain Python inside converted code.

    Args:
      func: the function; without it, returns the decorator.
    """
    def mark(f):
        try:
            f.__ag_do_not_convert__ = True
            return f
        except (AttributeError, TypeError):   # a builtin or a bound method
            @functools.wraps(f)
            def plain(*args, **kwargs):
                return f(*args, **kwargs)
            plain.__ag_do_not_convert__ = True
            return plain
    return mark if func is None else mark(func)


def set_verbosity(level, alsologtostdout=False):
    """Kept for TF compatibility (dlframe's AutoGraph does not log)."""


def trace(*args):
    """Prints ``args`` when the code runs: at trace time inside ``tf.function``,
    as TF's ``tf.autograph.trace`` does."""
    print(*args)


experimental = SimpleNamespace(
    do_not_convert=do_not_convert, set_loop_options=_control_flow.set_loop_options,
    Feature=Feature)

_function.CONVERTER = convert
