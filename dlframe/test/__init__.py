"""``dlframe.test`` (``tf.test``): TestCase, test main, gradient checks, benchmarks
and device queries.

A TF2 test module runs unchanged::

    import dlframe as tf

    class SquareTest(tf.test.TestCase):
        def test_square(self):
            self.assertAllClose(tf.square([2.0, 3.0]), [4.0, 9.0])

    if __name__ == "__main__":
        tf.test.main()
"""

import functools as _functools
import platform as _platform
import re as _re
import sys as _sys
import unittest as _unittest

from dlframe.test import experimental
from dlframe.test.benchmark import Benchmark
from dlframe.test.benchmark import run_benchmarks as _run_benchmarks
from dlframe.test.case import TestCase
from dlframe.test.devices import (
    gpu_device_name,
    is_built_with_cuda,
    is_built_with_gpu_support,
    is_built_with_rocm,
    is_built_with_xla,
    is_gpu_available,
)
from dlframe.test.gradient_checker import compute_gradient
from dlframe.test.tempfiles import get_temp_dir

_BENCHMARKS_FLAG = _re.compile(r"^--benchmarks?(?:=(.*))?$")


def main(argv=None):
    """Runs the tests of ``__main__`` (``unittest.main``) and exits with its status.

    ``--benchmarks=REGEX`` in ``argv`` runs the matching ``tf.test.Benchmark``
    methods of ``__main__`` instead (``.`` or ``all`` runs every one).

    Args:
      argv: command line (default ``sys.argv``); the first item is the program.
    """
    argv = list(_sys.argv if argv is None else argv)
    pattern = None
    rest = []
    for index, arg in enumerate(argv):
        found = _BENCHMARKS_FLAG.match(arg) if index else None
        if found:
            pattern = found.group(1) or "."
        else:
            rest.append(arg)
    if pattern is not None:
        _run_benchmarks(pattern, vars(_sys.modules["__main__"]))
        _sys.exit(0)
    _unittest.main(module="__main__", argv=rest or [_sys.argv[0]])


def is_cpu_target_available(target):
    """Whether code can be built for a CPU ``target`` ('x86', 'aarch64', ...): dlframe
    runs where NumPy runs, so True for the machine's own architecture."""
    machine = _platform.machine().lower()
    aliases = {"x86": ("x86_64", "amd64", "i386", "i686"), "aarch64": ("aarch64", "arm64")}
    return machine in aliases.get(str(target).lower(), (str(target).lower(),))


def with_eager_op_as_function(cls=None, only_as_function=False):
    """TF decorator running tests with and without eager op-as-function; dlframe
    has one eager mode, so the class is returned unchanged."""
    if cls is None:
        return lambda c: c
    return cls


def disable_with_predicate(pred, skip_message):
    """Decorator skipping a test method when ``pred()`` is true.

    Args:
      pred: callable with no arguments.
      skip_message: reason shown for the skip.
    """
    def decorator(func):
        @_functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            if pred():
                self.skipTest(skip_message)
            return func(self, *args, **kwargs)
        return wrapper
    return decorator


__all__ = ["Benchmark", "TestCase", "compute_gradient", "disable_with_predicate",
           "experimental", "get_temp_dir", "gpu_device_name", "is_built_with_cuda",
           "is_built_with_gpu_support", "is_built_with_rocm", "is_built_with_xla",
           "is_cpu_target_available", "is_gpu_available", "main", "mock",
           "with_eager_op_as_function"]


def __getattr__(name):
    if name == "mock":   # tf.compat.v1.test.mock: unittest.mock (and asyncio) on demand
        from unittest import mock
        return mock
    raise AttributeError(f"module 'dlframe.test' has no attribute {name!r}")
