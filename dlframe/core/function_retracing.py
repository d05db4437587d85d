"""TF's warning about frequent retracing of a ``dlframe.function``.

TF warns when a function was traced at least five times within its last ten or so
calls (and at most twice per function): a function traced once per new input kind
stays quiet however many kinds it meets over a long run. The calls are counted per
Python function code, so a ``tf.function`` re-created in a loop (or one decorated
method of many instances) is caught too.
"""

import os
import warnings
import weakref

_THRESHOLD = 5      # traces within the window that trigger the warning
_WINDOW = 10        # calls the window covers
_MAX_WARNINGS = 2   # per function

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_DETECTORS = weakref.WeakKeyDictionary()   # code object (or callable) -> _Detector


class _Detector:
    """Calls since each of the recent traces of one Python function."""

    def __init__(self):
        self.calls = 0          # calls covered by ``groups``
        self.groups = []        # per recent trace: that call and the untraced after it
        self.warnings = 0

    def called(self, traced):
        """Counts one call; returns ``(traces, calls)`` in the window when the call
        traced often enough to warn, else None."""
        if not traced:
            self.replayed()
            return None
        self.calls += 1
        self.groups.append(1)
        while self.groups and self.calls - self.groups[0] > _WINDOW:
            self.calls -= self.groups.pop(0)
        if len(self.groups) < _THRESHOLD or self.warnings >= _MAX_WARNINGS:
            return None
        self.warnings += 1
        return len(self.groups), self.calls


    def replayed(self):
        """Counts one call that replayed a graph (the hot path: kept minimal)."""
        self.calls += 1
        groups = self.groups
        if groups:
            groups[-1] += 1
        else:
            groups.append(1)


def _no_detector():
    return None


def _key(python_function):
    """The code of the function (under decorators and bound methods), as TF keys
    its call statistics; else the callable itself."""
    function = python_function
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    function = getattr(function, "__func__", function)
    return getattr(function, "__code__", python_function)


def _in_library(key):
    """True for functions dlframe itself wraps (Keras's train / test steps): as
    TF's own omitted warnings, their retracing is the library's business."""
    return getattr(key, "co_filename", "").startswith(_PACKAGE_DIR)


def in_library(python_function):
    """True for a function of dlframe's own (see ``_in_library``)."""
    return _in_library(_key(python_function))


def _detector_for(key):
    """The shared detector of ``key``, or None for an unhashable or not weakly
    referable callable."""
    try:
        detector = _DETECTORS.get(key)
    except TypeError:
        return None
    if detector is None:
        detector = _Detector()
        try:
            _DETECTORS[key] = detector
        except TypeError:
            return None
    return detector


def replay_counter(python_function):
    """A no-argument callable counting one graph replay of a ``dlframe.function``
    wrapping ``python_function``: looked up once and kept by the Function, so a
    replay pays one method call."""
    detector = _detector_for(_key(python_function))
    return detector.replayed if detector is not None else _no_detector


def record_call(python_function, traced, warn=True):
    """Counts a call of a ``dlframe.function`` wrapping ``python_function`` (that
    ``traced`` or replayed a graph) and warns as TF does about frequent retracing
    (unless ``warn`` is False: a function with an input signature)."""
    key = _key(python_function)
    detector = _detector_for(key)
    if detector is None:
        return
    found = detector.called(traced)
    if found is None or not warn or _in_library(key):
        return
    traces, calls = found
    function = getattr(python_function, "__func__", python_function)
    warnings.warn(
        f"{traces} out of the last {calls} calls to {function} triggered "
        "tf.function retracing. Tracing is expensive and the excessive number of "
        "tracings could be due to (1) creating @tf.function repeatedly in a loop, "
        "(2) passing tensors with different shapes, (3) passing Python objects "
        "instead of tensors. For (1), please define your @tf.function outside of the "
        "loop. For (2), @tf.function has reduce_retracing=True option that can "
        "avoid unnecessary retracing. For (3), please refer to "
        "https://www.tensorflow.org/guide/function#controlling_retracing and "
        "https://www.tensorflow.org/api_docs/python/tf/function for  more details.",
        UserWarning, stacklevel=3)
