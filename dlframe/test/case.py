"""``tf.test.TestCase``: ``unittest.TestCase`` with TensorFlow's test helpers.

Each test starts from the same random state (Python, NumPy and dlframe's global
seed set to TF's 87654321), ``evaluate`` turns tensors into NumPy values, the
session context managers of TF1-era tests yield an eager stand-in whose ``run``
evaluates, and temporary directories are made and removed for the test.
"""

import contextlib
import random as _py_random
import re
import threading
import unittest

from dlframe import errors
from dlframe.backends.base import np  # seeding NumPy's global RNG, as TF does
from dlframe.core.tensor import Tensor
from dlframe.device_scope import device
from dlframe.ops import random as _random
from dlframe.test import tempfiles as _tempfiles
from dlframe.test import values as _values
from dlframe.test.array_asserts import ArrayAssertions

# TF's DEFAULT_GRAPH_SEED: the seed every test starts from.
DEFAULT_SEED = 87654321
_INCOMPATIBLE_SHAPES = ("Incompatible shapes|Dimensions must be equal|"
                        "required broadcastable shapes")


class EagerSession:
    """What ``cached_session``/``session``/``test_session`` yield: TF2 runs
    eagerly, so ``run(fetches)`` is ``evaluate(fetches)``."""

    graph = None

    def __init__(self, test_case):
        self._test_case = test_case

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluates ``fetches`` (tensors or nested structures of them).

        Raises:
          ValueError: when ``feed_dict`` is given (there are no placeholders).
        """
        if feed_dict:
            raise ValueError("feed_dict is not supported when eager execution is "
                             "enabled (in this case, sess.run(t) is shorthand for "
                             f"t.numpy()); got feed_dict={feed_dict!r}")
        return self._test_case.evaluate(fetches)

    def as_default(self):
        return contextlib.nullcontext(self)


class CheckedThread:
    """A thread whose exception fails the test when it is joined.

    Args:
      test_case: the TestCase to fail.
      target: the callable to run.
      args: positional arguments for ``target``.
      kwargs: keyword arguments for ``target``.
    """

    def __init__(self, test_case, target, args=None, kwargs=None):
        self._test_case = test_case
        self._target = target
        self._args = () if args is None else tuple(args)
        self._kwargs = {} if kwargs is None else dict(kwargs)
        self._exception = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._joined = False

    def _run(self):
        try:
            self._target(*self._args, **self._kwargs)
        except Exception as e:  # noqa: BLE001 - reported by join()
            self._exception = e

    def start(self):
        """Starts the thread."""
        self._thread.start()

    def join(self):
        """Waits for the thread; fails the test if ``target`` raised."""
        self._thread.join()
        self._joined = True
        if self._exception is not None:
            self._test_case.fail(f"Error in checkedThread: {self._exception}")

    def is_alive(self):
        return self._thread.is_alive()

    def check_termination(self):
        """Fails the test if the thread was started and is still running."""
        if self._thread.is_alive():
            self._test_case.fail("checkedThread was not joined")


class TestCase(ArrayAssertions, unittest.TestCase):
    """Base class for TensorFlow-style unit tests (``tf.test.TestCase``).

    ``setUp`` seeds Python's ``random``, NumPy's global RNG and dlframe's global
    seed with 87654321, so random ops give the same values in every test (set the
    class attribute ``_set_default_seed = False`` to skip dlframe's seed).
    """

    _set_default_seed = True

    def __init__(self, methodName="runTest"):
        super().__init__(methodName)
        self._tempdir = None
        self._threads = []

    def setUp(self):
        super().setUp()
        _py_random.seed(DEFAULT_SEED)
        np.random.seed(DEFAULT_SEED)
        if self._set_default_seed:
            _random.set_seed(DEFAULT_SEED)

    def tearDown(self):
        for thread in self._threads:
            thread.check_termination()
        super().tearDown()

    # -- values --------------------------------------------------------------------
    def evaluate(self, tensors):
        """NumPy values of a tensor or a nested structure of tensors.

        Variables give their current value, a 0-d tensor a NumPy scalar, a
        SparseTensor a ``SparseTensorValue`` and a RaggedTensor a
        ``RaggedTensorValue``; ``None`` leaves stay ``None``.

        Raises:
          ValueError: for leaves that are not tensors (Python or NumPy values).
        """
        return _values.evaluate(tensors)

    def evaluate_if_both_tensors(self, a, b):
        """``evaluate((a, b))`` when both are tensors, else ``(a, b)`` unchanged."""
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            return self.evaluate((a, b))
        return a, b

    # -- sessions (TF1 idioms kept by TF2 tests) -------------------------------------
    @contextlib.contextmanager
    def _eager_session(self, use_gpu, force_gpu):
        placement = "/GPU:0" if force_gpu else (None if use_gpu else "/CPU:0")
        with device(placement) if placement else contextlib.nullcontext():
            yield EagerSession(self)

    def cached_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Context manager yielding an ``EagerSession`` (TF2 has no sessions).

        Args:
          graph: must be None (there are no TF1 graphs).
          config: accepted and ignored.
          use_gpu: False runs the block on the CPU.
          force_gpu: True runs the block on GPU:0 (an error without a GPU).
        """
        if graph is not None:
            raise ValueError(f"graph must be None: dlframe has no TF1 graphs; got "
                             f"graph={graph!r}")
        return self._eager_session(use_gpu, force_gpu)

    def session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Same as ``cached_session``."""
        return self.cached_session(graph, config, use_gpu, force_gpu)

    def test_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Deprecated alias of ``cached_session``; skipped when run as a test."""
        if self.id().endswith(".test_session"):
            self.skipTest("Not a test.")
        return self.cached_session(graph, config, use_gpu, force_gpu)

    # -- temporary files -------------------------------------------------------------
    def get_temp_dir(self):
        """A temporary directory unique to this test case (the same on each call)."""
        if not self._tempdir:
            self._tempdir = _tempfiles.get_temp_dir()
        return self._tempdir

    def create_tempdir(self, name=None, cleanup=None):
        """A fresh directory for this test, removed after it (absltest).

        Args:
          name: optional directory name inside the test's directory.
          cleanup: a ``TempFileCleanup``; OFF keeps the directory.

        Returns:
          A ``TempDir`` with ``full_path``, ``create_file`` and ``mkdir``.
        """
        made = _tempfiles.TempDir(_tempfiles.dir_for_test(self.id())).mkdir(name)
        self._remove_later(made.full_path, cleanup)
        return made

    def create_tempfile(self, file_path=None, content=None, mode="w",
                        encoding="utf8", errors="strict", cleanup=None):
        """A fresh file for this test, removed after it (absltest).

        Args:
          file_path: optional path relative to the test's directory.
          content: optional str or bytes to write.
          mode: 'w' (text) or 'wb' (binary).
          encoding: text encoding.
          errors: how encoding errors are handled.
          cleanup: a ``TempFileCleanup``; OFF keeps the file.

        Returns:
          A ``TempFile`` with ``full_path`` and read/write/open helpers.
        """
        made = _tempfiles.make_file(_tempfiles.dir_for_test(self.id()), file_path,
                                    content, mode, encoding, errors)
        self._remove_later(made.full_path, cleanup)
        return made

    def _remove_later(self, path, cleanup):
        remove = _tempfiles.removal(path, cleanup)
        if remove is not None:
            self.addCleanup(remove)

    # -- exceptions ------------------------------------------------------------------
    @contextlib.contextmanager
    def assertRaisesWithPredicateMatch(self, exception_type,
                                       expected_err_re_or_predicate):
        """Context manager asserting the block raises ``exception_type`` whose
        message matches a regex (``re.search``) or satisfies a predicate.

        Args:
          exception_type: the exception class (or tuple of classes) expected.
          expected_err_re_or_predicate: a regex string, or a callable taking the
            exception and returning a bool.
        """
        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
        else:
            pattern = expected_err_re_or_predicate
            predicate = lambda e: re.search(pattern, str(e)) is not None
        try:
            yield
        except Exception as e:
            if not isinstance(e, exception_type) or not predicate(e):
                raise AssertionError(f"Exception of type {type(e)}: {e}") from e
            return
        name = getattr(exception_type, "__name__", str(exception_type))
        raise AssertionError(f"{name} not raised")

    def assertRaisesOpError(self, expected_err_re_or_predicate):
        """``assertRaisesWithPredicateMatch(tf.errors.OpError, ...)``."""
        return self.assertRaisesWithPredicateMatch(errors.OpError,
                                                   expected_err_re_or_predicate)

    def assertRaisesIncompatibleShapesError(
            self, exception_type=errors.InvalidArgumentError):
        """Context manager asserting the block fails on incompatible shapes."""
        return self.assertRaisesWithPredicateMatch(exception_type, _INCOMPATIBLE_SHAPES)

    # -- absltest's extra assertions -------------------------------------------------
    def assertItemsEqual(self, first, second, msg=None):
        """Same as ``assertCountEqual``."""
        self.assertCountEqual(first, second, msg)

    def assertStartsWith(self, actual, expected_start, msg=None):
        """Asserts ``actual.startswith(expected_start)``."""
        if not actual.startswith(expected_start):
            self.fail(self._formatMessage(
                msg, f"{actual!r} does not start with {expected_start!r}"))

    def assertNotStartsWith(self, actual, unexpected_start, msg=None):
        """Asserts ``actual`` does not start with ``unexpected_start``."""
        if actual.startswith(unexpected_start):
            self.fail(self._formatMessage(
                msg, f"{actual!r} does start with {unexpected_start!r}"))

    def assertEndsWith(self, actual, expected_end, msg=None):
        """Asserts ``actual.endswith(expected_end)``."""
        if not actual.endswith(expected_end):
            self.fail(self._formatMessage(
                msg, f"{actual!r} does not end with {expected_end!r}"))

    def assertNotEndsWith(self, actual, unexpected_end, msg=None):
        """Asserts ``actual`` does not end with ``unexpected_end``."""
        if actual.endswith(unexpected_end):
            self.fail(self._formatMessage(
                msg, f"{actual!r} does end with {unexpected_end!r}"))

    def assertLen(self, container, expected_len, msg=None):
        """Asserts ``len(container) == expected_len``."""
        if len(container) != expected_len:
            self.fail(self._formatMessage(
                msg, f"{container!r} has length of {len(container)}, expected "
                     f"{expected_len}."))

    def assertEmpty(self, container, msg=None):
        """Asserts ``container`` has no elements."""
        if len(container):
            self.fail(self._formatMessage(msg, f"{container!r} has length of "
                                               f"{len(container)}."))

    def assertNotEmpty(self, container, msg=None):
        """Asserts ``container`` has elements."""
        if not len(container):
            self.fail(self._formatMessage(msg, f"{container!r} has length of 0."))

    def assertBetween(self, value, minv, maxv, msg=None):
        """Asserts ``minv <= value <= maxv``."""
        if not minv <= value <= maxv:
            self.fail(self._formatMessage(
                msg, f"{value!r} is not between {minv!r} and {maxv!r}"))

    def assertContainsSubset(self, expected_subset, actual_set,
                             msg=None):
        """Asserts every element of ``expected_subset`` is in ``actual_set``."""
        missing = [x for x in expected_subset if x not in actual_set]
        if missing:
            self.fail(self._formatMessage(
                msg, f"Missing elements {missing!r}; expected {expected_subset!r} "
                     f"to be a subset of {actual_set!r}"))

    def assertNoCommonElements(self, expected_seq, actual_seq, msg=None):
        """Asserts the two collections share no element."""
        common = [x for x in expected_seq if x in actual_seq]
        if common:
            self.fail(self._formatMessage(msg, f"Common elements: {common!r}"))

    # -- threads and contexts --------------------------------------------------------
    def checkedThread(self, target, args=None, kwargs=None):
        """A thread that fails the test if ``target`` raises; ``join()`` it before
        the test ends (tearDown fails for a thread still running)."""
        thread = CheckedThread(self, target, args, kwargs)
        self._threads.append(thread)
        return thread

    def enter_context(self, manager):
        """Enters ``manager`` now and exits it when the test ends; returns what
        ``__enter__`` returned."""
        result = manager.__enter__()
        self.addCleanup(manager.__exit__, None, None, None)
        return result
