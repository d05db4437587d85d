"""The Keras progress bar (``Progbar``) and the callback that prints it."""

import os
import sys
import time

from dlframe.keras.callbacks.callback import Callback
from dlframe.keras.utils import io_utils


def _interactive():
    if not io_utils.is_interactive_logging_enabled():
        return False   # logged lines cannot be redrawn in place
    out = sys.stdout
    return bool(getattr(out, "isatty", None) and out.isatty()) or \
        "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ


def _fmt_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _time_per_unit(seconds):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _eta(seconds):
    s = int(seconds)
    if s > 3600:
        return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"
    if s > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


class Progbar:
    """A text progress bar: ``12/100 [==>...........] - ETA: 3s - loss: 0.3``.

    Args:
      target: total number of steps (None if unknown).
      width: bar width in characters.
      verbose: 1 (updating bar), 2 (one line at the end), 0 (silent).
      interval: minimum seconds between redraws.
      stateful_metrics: names shown as-is (not averaged over steps).
      unit_name: 'step' or 'sample'.
      stateless_metrics: (Keras 3) the names that *are* averaged; every other name
        is shown as-is. Give at most one of ``stateful_metrics`` and this.

    Raises:
      ValueError: if both ``stateful_metrics`` and ``stateless_metrics`` are given.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stateless_metrics=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self.stateless_metrics = (None if stateless_metrics is None
                                  else set(stateless_metrics))
        self._dynamic = _interactive()
        self._values = {}
        self._order = []
        self._seen = 0
        self._start = time.time()
        self._last = 0.0
        self._prev_len = 0

    def _is_stateful(self, name):
        if self.stateless_metrics is not None:
            return name not in self.stateless_metrics
        return name in self.stateful_metrics

    def update(self, current, values=None, finalize=None):
        """Moves the bar to step ``current``.

        Args:
          current: index of the current step.
          values: ``(name, value_for_last_step)`` pairs; stateless ones are shown
            as their average over steps, stateful ones as given.
          finalize: whether this is the last update (default: ``current >= target``).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or ():
            if k not in self._order:
                self._order.append(k)
            if self._is_stateful(k):
                self._values[k] = [v, 1]
            else:
                step = max(1, current - self._seen)
                acc = self._values.setdefault(k, [0.0, 0])
                acc[0] += v * step
                acc[1] += step
        self._seen = current
        now = time.time()
        if self.verbose == 1:
            if not finalize and now - self._last < self.interval:
                return
            if not self._dynamic and not finalize:
                return
            self._last = now
            line = self._bar(current, now, finalize)
            if self._dynamic:
                pad = max(0, self._prev_len - len(line))
                line = "\r" + line + " " * pad
                self._prev_len = len(line) - pad - 1
            io_utils.print_msg(line, line_break=finalize)
        elif self.verbose == 2 and finalize:
            elapsed = now - self._start
            per = elapsed / max(current, 1)
            line = f"{current}/{self.target} - {elapsed:.0f}s" + self._metrics_text() + \
                f" - {elapsed:.0f}s/epoch - {_time_per_unit(per)}"
            io_utils.print_msg(line)

    def add(self, n, values=None):
        """Advances the bar by ``n`` steps (see ``update``)."""
        self.update(self._seen + n, values)

    def _metrics_text(self):
        text = ""
        for k in self._order:
            total, count = self._values[k]
            v = total if self._is_stateful(k) else total / max(count, 1)
            text += f" - {k}: {_fmt_value(v)}"
        return text

    def _bar(self, current, now, finalize):
        elapsed = now - self._start
        if self.target is not None:
            digits = len(str(self.target))
            bar = f"{current:{digits}d}/{self.target} ["
            prog = min(current / self.target, 1.0) if self.target else 1.0
            filled = int(self.width * prog)
            if filled > 0:
                bar += "=" * (filled - 1)
                bar += ">" if current < self.target else "="
            bar += "." * (self.width - filled) + "]"
        else:
            bar = f"{current:7d}/Unknown"
        per = elapsed / max(current, 1)
        if self.target is not None and not finalize:
            info = f" - ETA: {_eta(per * (self.target - current))}"
        else:
            info = f" - {elapsed:.0f}s {_time_per_unit(per)}"
        return bar + info + self._metrics_text()


class ProgbarLogger(Callback):
    """Prints Keras's progress bar during fit/evaluate/predict.

    Args:
      count_mode: 'steps' (the only mode here; 'samples' is accepted).
      stateful_metrics: metric names printed as-is.
    """

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._in_fit = False
        self._seen = 0

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self):
        self._seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose,
                               stateful_metrics=self.stateful_metrics)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._new_bar()
        if self.verbose and self.epochs > 1:
            io_utils.print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self._seen, finalize=False)

    def _update(self, batch, logs):
        self._seen = batch + 1
        if self.verbose != 1:
            return
        bar = self.progbar
        if bar._dynamic and time.time() - bar._last >= bar.interval:
            values = _values(logs)
            bar.stateful_metrics.update(k for k, _ in values)
            bar.update(self._seen, values, finalize=False)
        else:
            bar._seen = self._seen

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_end(self, logs=None):
        if self.progbar is not None:
            self.progbar.target = self.target or self._seen
            self.progbar.update(self._seen, finalize=True)

    def _finish(self, logs):
        if self.progbar is None:
            return
        if self.progbar.target is None:
            self.progbar.target = self._seen
        values = _values(logs)
        self.progbar._values = {}
        self.progbar._order = []
        self.progbar.stateful_metrics = {k for k, _ in values}
        self.progbar.update(self._seen, values, finalize=True)


def _values(logs):
    out = []
    for k, v in (logs or {}).items():
        try:
            out.append((k, float(v)))
        except (TypeError, ValueError):
            continue
    return out
