"""Builds ``tf.raw_ops`` functions: keyword-only adapters over dlframe's public ops.

Each raw op is declared once as ``table.op(OpName, "required args", impl,
**defaults)`` with TensorFlow's op-def argument names; ``impl`` receives those
names as keywords (``name`` is accepted and dropped) and calls dlframe's public op.
"""

import collections
import inspect

_KW = inspect.Parameter.KEYWORD_ONLY


class Table(dict):
    """``{OpName: raw op function}``, filled by :meth:`op` and the family helpers."""

    def op(self, op_name, required, impl, **defaults):
        """Declares raw op ``op_name``.

        Args:
          op_name: TF's op type, e.g. ``"MatMul"``.
          required: space-separated names of its required arguments.
          impl: callable taking every argument by its TF name.
          **defaults: the optional arguments with TF's defaults.
        """
        if op_name in self:
            raise ValueError(f"raw op {op_name!r} declared twice")
        self[op_name] = _make(op_name, tuple(required.split()), impl, defaults)

    def unary(self, arg, **ops):
        """Ops of one argument named ``arg``: ``OpName=function``."""
        for op_name, fn in ops.items():
            self.op(op_name, arg, _positional(fn, (arg,)))

    def binary(self, args, **ops):
        """Ops of two arguments ``args`` (e.g. ``"x y"``): ``OpName=function``."""
        names = tuple(args.split())
        for op_name, fn in ops.items():
            self.op(op_name, args, _positional(fn, names))


def _positional(fn, names):
    def impl(**kwargs):
        return fn(*(kwargs[n] for n in names))
    return impl


def outputs(op_name, fields):
    """The namedtuple class TF returns from multi-output op ``op_name``."""
    return collections.namedtuple(op_name, fields.split())


def _make(op_name, required, impl, defaults):
    keys = [*required, *defaults, "name"]
    allowed = frozenset(keys)

    def raw_op(*args, **kwargs):
        if args:
            raise TypeError(
                f"{op_name} only takes keyword args (possible keys: {keys}). Please "
                "pass these args as kwargs instead.")
        if not allowed.issuperset(kwargs):
            bad = next(k for k in kwargs if k not in allowed)
            raise TypeError(f"{op_name}() got an unexpected keyword argument {bad!r}")
        missing = [k for k in required if k not in kwargs]
        if missing:
            raise TypeError(f"{op_name}() missing {len(missing)} required argument(s): "
                            f"{', '.join(repr(k) for k in missing)}")
        kwargs.pop("name", None)
        if defaults:
            kwargs = {**defaults, **kwargs}
        return impl(**kwargs)

    raw_op.__name__ = raw_op.__qualname__ = op_name
    raw_op.__module__ = "dlframe.raw_ops"
    raw_op.__doc__ = (f"``tf.raw_ops.{op_name}({', '.join(keys)})``: keyword "
                      "arguments only, named as in TensorFlow's op definition.")
    raw_op.__signature__ = inspect.Signature(
        [inspect.Parameter(k, _KW) for k in required]
        + [inspect.Parameter(k, _KW, default=v) for k, v in defaults.items()]
        + [inspect.Parameter("name", _KW, default=None)])
    return raw_op
