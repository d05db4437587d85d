"""Session-run hooks (``tf.estimator.SessionRunHook`` and friends).

There are no sessions: an Estimator calls ``begin`` before its loop,
``before_run``/``after_run`` around every step (``session`` is None and
``run_values.results`` None, since there are no fetches) and ``end`` after it.
``run_context.request_stop()`` ends the loop.
"""

import collections
import logging

from dlframe.estimator import model_scope as _scope

_LOG = logging.getLogger("dlframe")

SessionRunArgs = collections.namedtuple("SessionRunArgs",
                                        ("fetches", "feed_dict", "options"))
SessionRunArgs.__new__.__defaults__ = (None, None)
SessionRunValues = collections.namedtuple("SessionRunValues",
                                          ("results", "options", "run_metadata"))


class SessionRunContext:
    """What ``before_run``/``after_run`` see; ``request_stop`` ends the loop."""

    def __init__(self, original_args=None, session=None):
        self.original_args = original_args
        self.session = session
        self._stop_requested = False

    @property
    def stop_requested(self):
        return self._stop_requested

    def request_stop(self):
        self._stop_requested = True


class SessionRunHook:
    """Base class of hooks: override any of the methods."""

    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


class CheckpointSaverListener:
    """Called around each checkpoint ``train`` saves."""

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        pass

    def end(self, session, global_step_value):
        pass


def _global_step_value():
    scope = _scope.active_scope()
    return None if scope is None else int(scope.global_step.numpy())


class StopAtStepHook(SessionRunHook):
    """Requests a stop after ``num_steps`` more steps or at global step ``last_step``.

    Raises:
      ValueError: unless exactly one of the two is given.
    """

    def __init__(self, num_steps=None, last_step=None):
        if (num_steps is None) == (last_step is None):
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and num_steps < 0:
            raise ValueError(f"num_steps must be non-negative, given: {num_steps}")
        self._num_steps, self._last_step = num_steps, last_step

    def begin(self):
        start = _global_step_value() or 0
        if self._last_step is None:
            self._last_step = start + self._num_steps

    def after_run(self, run_context, run_values):
        step = _global_step_value()
        if step is not None and step >= self._last_step:
            run_context.request_stop()


class LoggingTensorHook(SessionRunHook):
    """Logs values every ``every_n_iter`` steps.

    Args:
      tensors: dict of tag to a Tensor, Variable or zero-argument callable (graph
        tensor *names* cannot be looked up eagerly: a string raises ValueError).
      every_n_iter: log period in steps.
      every_n_secs: accepted; treated as every step.
      at_end: log once more at the end.
      formatter: optional function of the dict of values returning the message.
    """

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        if not isinstance(tensors, dict):
            tensors = {getattr(t, "name", str(i)): t for i, t in enumerate(tensors)}
        for tag, t in tensors.items():
            if isinstance(t, str):
                raise ValueError(  # noqa: TRY004 - a value error in TF too
                    f"LoggingTensorHook: tensor {tag!r} is given by name ({t!r}); "
                    "dlframe runs eagerly, pass the Variable or a callable instead.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        self._tensors = tensors
        self._every = every_n_iter or 1
        self._at_end = at_end
        self._formatter = formatter
        self._count = 0

    def _log(self):
        values = {k: (t() if callable(t) else t) for k, t in self._tensors.items()}
        values = {k: getattr(v, "numpy", lambda v=v: v)() for k, v in values.items()}
        if self._formatter is not None:
            _LOG.info(self._formatter(values))
        else:
            _LOG.info(", ".join(f"{k} = {v}" for k, v in values.items()))

    def after_run(self, run_context, run_values):
        if self._count % self._every == 0:
            self._log()
        self._count += 1

    def end(self, session):
        if self._at_end:
            self._log()


def check_hooks(hooks, where):
    """``hooks`` as a list, each a SessionRunHook-like object."""
    hooks = list(hooks or ())
    for h in hooks:
        if not all(hasattr(h, m) for m in ("begin", "before_run", "after_run", "end")):
            raise TypeError(f"{where}: hooks must be SessionRunHook instances, given: "
                            f"{h!r}")
    return hooks
