"""``tf.test.Benchmark``: timed benchmarks reported like TensorFlow's.

A subclass defines ``benchmark*`` methods that time work and call
``report_benchmark``; ``tf.test.main()`` runs them when given
``--benchmarks=REGEX`` (``.`` or ``all`` for every one). Each report is printed as
TF's text ``entry { ... }`` block, or written to ``$TEST_REPORT_FILE_PREFIX<name>``
when that variable is set.
"""

import inspect
import math
import os
import re
import statistics
import time

from dlframe.core import nest
from dlframe.core.tensor import Tensor
from dlframe.test import values as _values


def _field_value(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f'string_value: "{value}"'
    return f"double_value: {value:g}"


def _format_entry(entry):
    lines = ["entry {", f'  name: "{entry["name"]}"']
    for key in ("iters", "cpu_time", "wall_time", "throughput"):
        if entry.get(key) is not None:
            value = entry[key]
            lines.append(f"  {key}: {value if key == 'iters' else format(value, 'g')}")
    for key, value in sorted((entry.get("extras") or {}).items()):
        lines += ["  extras {", f'    key: "{key}"', "    value {",
                  f"      {_field_value(value)}", "    }", "  }"]
    for metric in entry.get("metrics") or ():
        lines += ["  metrics {", f'    name: "{metric["name"]}"',
                  f"    value: {metric['value']:g}"]
        for bound in ("min_value", "max_value"):
            if metric.get(bound) is not None:
                lines.append(f"    {bound}: {metric[bound]:g}")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _check_metrics(metrics):
    for metric in metrics or ():
        if not isinstance(metric, dict) or "name" not in metric or "value" not in metric:
            raise ValueError(f"each metric must be a dict with 'name' and 'value' "
                             f"keys; got metrics={metrics!r}")


def _sync(result):
    """Waits for the work behind ``result`` (copying tensors to the host)."""
    nest.map_structure(lambda leaf: leaf.numpy() if isinstance(leaf, Tensor) else leaf,
                       result)


class Benchmark:
    """Base class of benchmarks (``tf.test.Benchmark``).

    Subclasses define methods whose names start with ``benchmark``.
    """

    @classmethod
    def is_abstract(cls):
        """True for ``Benchmark`` itself, which defines no benchmarks."""
        return cls is Benchmark

    def _caller_name(self):
        for frame_info in inspect.stack()[2:]:
            if (frame_info.function.startswith("benchmark")
                    and frame_info.frame.f_locals.get("self") is self):
                return frame_info.function
        return "unknown"

    def report_benchmark(self, iters=None, cpu_time=None, wall_time=None,
                         throughput=None, extras=None, name=None, metrics=None):
        """Reports one benchmark result.

        Args:
          iters: number of iterations timed.
          cpu_time: CPU seconds per iteration.
          wall_time: wall-clock seconds per iteration.
          throughput: e.g. MB per second.
          extras: dict of extra numbers or strings to report.
          name: the benchmark's name (default: the calling ``benchmark*``
            method); reported as ``ClassName.name``.
          metrics: list of dicts with ``name``, ``value`` and optional
            ``min_value``/``max_value``.
        """
        _check_metrics(metrics)
        if extras is not None and not isinstance(extras, dict):
            raise TypeError(f"extras must be a dict, got extras={extras!r}")
        entry = {"name": f"{type(self).__name__}.{name or self._caller_name()}",
                 "iters": iters, "cpu_time": cpu_time, "wall_time": wall_time,
                 "throughput": throughput, "extras": extras, "metrics": metrics}
        text = _format_entry(entry)
        prefix = os.environ.get("TEST_REPORT_FILE_PREFIX")
        if prefix:
            with open(prefix + entry["name"].replace("/", "__"), "w",
                      encoding="utf-8") as f:
                f.write(text)
        else:
            print(text)

    def evaluate(self, tensors):
        """NumPy values of a tensor or nested structure of tensors."""
        return _values.evaluate(tensors)

    def run_op_benchmark(self, sess, op_or_tensor, feed_dict=None, burn_iters=2,
                         min_iters=10, store_trace=False, store_memory_usage=True,
                         name=None, extras=None, mbs=0):
        """Times ``op_or_tensor`` and reports the median wall time.

        TF2 runs eagerly: pass a callable (a Python function or ``tf.function``)
        to time the computation; a tensor (or structure) only times fetching its
        value, since it was computed when it was created.

        Args:
          sess: accepted for TF compatibility and unused (no sessions in TF2).
          op_or_tensor: callable to time, or tensors to fetch.
          feed_dict: must be empty (no placeholders).
          burn_iters: untimed warm-up iterations.
          min_iters: timed iterations.
          store_trace: accepted and ignored.
          store_memory_usage: accepted and ignored.
          name: benchmark name (default: the calling ``benchmark*`` method).
          extras: dict of extra values to report.
          mbs: megabytes processed per iteration, for the throughput.

        Returns:
          Dict with ``iters``, ``wall_time`` (median seconds), ``extras``, ``name``
          and ``throughput`` (MB/s, when ``mbs`` > 0).
        """
        if feed_dict:
            raise ValueError(f"feed_dict is not supported in eager mode; got "
                             f"feed_dict={feed_dict!r}")
        if int(min_iters) < 1:
            raise ValueError(f"min_iters must be >= 1, got min_iters={min_iters!r}")
        step = op_or_tensor if callable(op_or_tensor) else (
            lambda: self.evaluate(op_or_tensor))
        for _ in range(int(burn_iters)):
            _sync(step())
        times = []
        for _ in range(int(min_iters)):
            start = time.perf_counter()
            _sync(step())
            times.append(time.perf_counter() - start)
        wall_time = statistics.median(times)
        extras = dict(extras or {})
        extras["wall_time_mean"] = statistics.fmean(times)
        extras["wall_time_stdev"] = statistics.pstdev(times)
        name = name or self._caller_name()
        throughput = mbs / wall_time if mbs and wall_time > 0 else None
        self.report_benchmark(iters=int(min_iters), wall_time=wall_time,
                              throughput=throughput, extras=extras, name=name)
        result = {"iters": int(min_iters), "wall_time": wall_time, "extras": extras,
                  "name": name}
        if throughput is not None and math.isfinite(throughput):
            result["throughput"] = throughput
        return result


def run_benchmarks(pattern, namespace):
    """Runs every ``benchmark*`` method of the Benchmark subclasses in
    ``namespace`` (a module's dict) whose ``Class.method`` matches ``pattern``.

    Returns:
      The ``Class.method`` names run.
    """
    regex = re.compile("." if pattern == "all" else pattern)
    ran = []
    for cls in list(namespace.values()):
        if not (isinstance(cls, type) and issubclass(cls, Benchmark)) or (
                cls.is_abstract()):
            continue
        for attr in sorted(dir(cls)):
            full = f"{cls.__name__}.{attr}"
            if attr.startswith("benchmark") and callable(getattr(cls, attr)) and \
                    regex.search(full):
                getattr(cls(), attr)()
                ran.append(full)
    return ran
