"""What ``Model.compile`` builds: the loss container and the metrics container.

Both map a loss/metric specification (one item, a list per output, or a dict by
output name) onto the model's outputs the first time they see ``y`` and
``y_pred``, and report Keras's metric names (``loss``, ``<output>_loss``,
``accuracy``, ``<output>_accuracy``, ...).
"""

import contextlib
import threading

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.errors import UnsupportedTypeError
from dlframe.keras import losses as losses_mod
from dlframe.keras import metrics as metrics_mod
from dlframe.keras.metrics import accuracy_metrics as _acc
from dlframe.keras.utils import tree
from dlframe.keras.utils.generic_utils import to_snake_case
from dlframe.ops import array as _array
from dlframe.ops import math as _m


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _shape(t):
    return tuple(getattr(t, "shape", ()) or ())


def _fn_name(fn):
    if isinstance(fn, losses_mod.Loss):
        return fn.name
    return getattr(fn, "__name__", type(fn).__name__)


def resolve_loss(identifier):
    """A Loss instance for a name, function, class or Loss (errors name the value)."""
    if identifier is None:
        return None
    if isinstance(identifier, losses_mod.Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, losses_mod.Loss):
        return identifier()
    if isinstance(identifier, (str, dict)):
        try:
            fn = losses_mod.get(identifier)
        except ValueError:
            raise ValueError(
                f"Unknown loss function: '{identifier}'. Please ensure you are using a "
                "`keras.utils.custom_object_scope` and that this object is included in "
                "the scope. (argument `loss` of `compile`)") from None
        if isinstance(fn, losses_mod.Loss):
            return fn
        name = identifier if isinstance(identifier, str) else _fn_name(fn)
        cls = losses_mod.loss_class_for(fn)
        return cls(name=name) if cls is not None else \
            losses_mod.LossFunctionWrapper(fn, name=name)
    if callable(identifier):
        cls = losses_mod.loss_class_for(identifier)
        if cls is not None:
            return cls(name=identifier.__name__)
        return losses_mod.LossFunctionWrapper(identifier, name=_fn_name(identifier))
    raise ValueError(f"Could not interpret loss identifier: {identifier!r} (argument "
                     "`loss` of `compile`)")


def _map_to_outputs(spec, output_names, what):
    """A list with one entry per output from a single item, a list or a dict."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key '{unknown[0]}' does not correspond to "
                f"any model output. Received:\n{what}={spec}\nExpected keys among: "
                f"{output_names}")
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)):   # one entry per output, even for one
        if len(spec) != n:
            raise ValueError(
                f"When passing a list as `{what}`, it should have one entry per model "
                f"output. The model has {n} outputs, but you passed {what}={spec!r}")
        return list(spec)
    return [spec] * n


class LossesContainer:
    """The compiled loss: per-output losses, their weights, regularization losses."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self._spec = loss
        self._weights_spec = loss_weights
        self._output_names = output_names
        self._losses = None
        self._weights = None
        self.loss_tracker = _LossTracker(name="loss")
        self._per_output_trackers = []
        self._dict_outputs = False
        self._total_tracked_outside = False
        # per thread (the replicas of a strategy run in threads): totals held back
        # during a custom step (see step_scope), and whether inside ``compute_loss``
        self._steps = {}
        # validate names now, before any data is seen
        for item in tree.flatten(loss) if isinstance(loss, (list, dict)) else [loss]:
            if item is not None:
                resolve_loss(item)

    def build(self, y_true, y_pred):
        flat_pred = tree.flatten(y_pred)
        names = self._output_names or []
        if len(names) != len(flat_pred):
            names = [f"output_{i + 1}" for i in range(len(flat_pred))]
        self._dict_outputs = isinstance(y_pred, dict)
        if self._dict_outputs:
            names = sorted(y_pred, key=str)
        self._names = names
        specs = _map_to_outputs(self._spec, names, "loss")
        self._losses = [resolve_loss(s) for s in specs]
        if self._weights_spec is None:
            self._weights = [1.0] * len(names)
        else:
            self._weights = [1.0 if w is None else float(w) for w in
                             _map_to_outputs(self._weights_spec, names, "loss_weights")]
        if len(names) > 1:
            self._per_output_trackers = [
                metrics_mod.Mean(name=f"{n}_loss") if loss is not None else None
                for n, loss in zip(names, self._losses)]

    @property
    def built(self):
        return self._losses is not None

    @property
    def has_losses(self):
        """Whether ``compile`` named a loss for at least one output."""
        spec = self._spec
        flat = tree.flatten(spec) if isinstance(spec, (list, dict, tuple)) else [spec]
        return any(item is not None for item in flat)

    @property
    def losses(self):
        return list(self._losses or [])

    @property
    def metrics(self):
        """The total's tracker, then one per output (for dict outputs in the order of
        a ``loss`` dict's keys, as TF 2.21 lists them; else the outputs' order)."""
        trackers = list(self._per_output_trackers)
        if isinstance(self._spec, dict) and trackers and self._dict_outputs:
            rank = {name: i for i, name in enumerate(self._spec)}
            order = sorted(range(len(trackers)),
                           key=lambda i: rank.get(self._names[i], len(rank)))
            trackers = [trackers[i] for i in order]
        return [self.loss_tracker] + [t for t in trackers if t is not None]

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None,
                 update_tracker=True):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = tree.flatten(y_pred)
        flat_true = _flat_like(y_true, y_pred, self._names)
        flat_sw = _flat_like(sample_weight, y_pred, self._names, broadcast=True)
        total = None
        batch = _batch_size(flat_pred)
        for i, (loss, w) in enumerate(zip(self._losses, self._weights)):
            if loss is None:
                continue
            yt = flat_true[i] if i < len(flat_true) else None
            if yt is None:
                continue
            value = loss(_match_rank(yt, flat_pred[i]), flat_pred[i],
                         sample_weight=flat_sw[i])
            if self._per_output_trackers and update_tracker:
                self._per_output_trackers[i].update_state(value, sample_weight=batch)
            if w != 1.0:
                value = _m.multiply(value, w)
            total = value if total is None else _m.add(total, value)
        if regularization_losses:
            reg = None
            for r in regularization_losses:
                r = r if isinstance(r, Tensor) else convert_to_tensor(r)
                reg = r if reg is None else _m.add(reg, _m.cast(r, reg.dtype))
            reg = _m.cast(reg, total.dtype) if total is not None else reg
            total = reg if total is None else _m.add(total, reg)
        if total is None:
            if any(loss is not None for loss in self._losses) and \
                    all(t is None for t in flat_true):
                raise ValueError(
                    "The model was compiled with a `loss` but the data has no targets "
                    "(y=None): pass `y` to `fit`/`evaluate`, or batches of (x, y), or "
                    "compile with `loss=None` and use `add_loss`.")
            total = convert_to_tensor(0.0, dtype=dtypes.float32)
        if update_tracker and not self._total_tracked_outside:
            step = self._steps.get(threading.get_ident())
            if step is not None and step.pending is not None and step.deferring:
                step.pending.append((total, batch))
            else:
                self.loss_tracker.update_state(total, sample_weight=batch)
        return total

    @contextlib.contextmanager
    def _step_state(self, **values):
        """This thread's ``_StepState`` with ``values`` set within (restored after;
        a thread's state is dropped once back to its defaults)."""
        ident = threading.get_ident()
        step = self._steps.setdefault(ident, _StepState())
        before = {k: getattr(step, k) for k in values}
        for k, v in values.items():
            setattr(step, k, v)
        try:
            yield step
        finally:
            for k, v in before.items():
                setattr(step, k, v)
            if step.pending is None and not step.deferring:
                self._steps.pop(ident, None)

    @contextlib.contextmanager
    def step_scope(self):
        """One custom train/test step. Keras 3's ``compute_loss`` leaves the ``loss``
        tracker to the step, and the keras.io guides' steps update it themselves
        (``metric.update_state(loss)``): totals ``compute_loss`` computes within are
        held back and recorded only if the step has not updated the tracker by its end
        (or by ``compute_metrics``), so the ``loss`` logged is never counted twice.
        Keras 2's ``compiled_loss(...)`` still records at once."""
        with self._step_state(pending=[]):
            self.loss_tracker.reset_updates()
            try:
                yield
                self.flush_pending()
            finally:
                self.loss_tracker.forget_updates()

    def flush_pending(self):
        """Records the held-back totals unless the step updated the tracker itself."""
        step = self._steps.get(threading.get_ident())
        pending = step.pending if step is not None else None
        if not pending:
            return
        step.pending = []
        if self.loss_tracker.updates() == 0:
            for total, batch in pending:
                self.loss_tracker.update_state(total, sample_weight=batch)

    def deferring(self):
        """Within (``Model.compute_loss``), totals wait for the step's end."""
        return self._step_state(deferring=True)

    def recording_now(self):
        """Within (the built-in steps), totals go straight to the tracker."""
        return self._step_state(pending=None)

    @contextlib.contextmanager
    def total_tracked_by_caller(self):
        """Within, calls leave the ``loss`` tracker alone: the step records the total
        an overriding ``compute_loss`` returns (Keras 3) with ``track_total``."""
        before, self._total_tracked_outside = self._total_tracked_outside, True
        try:
            yield
        finally:
            self._total_tracked_outside = before

    def track_total(self, total, y_pred):
        """Adds the step's total loss to the ``loss`` tracker (weighted by batch)."""
        self.loss_tracker.update_state(total,
                                       sample_weight=_batch_size(tree.flatten(y_pred)))

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


class _StepState:
    """One thread's step bookkeeping in a ``LossesContainer``."""

    def __init__(self):
        self.pending = None   # totals held back until the step's end, or None
        self.deferring = False   # inside ``Model.compute_loss``


class _LossTracker(metrics_mod.Mean):
    """The ``loss`` Mean; counts its updates per thread so a step (each replica's,
    under a strategy) can tell whether user code updated it (see
    ``LossesContainer.step_scope``)."""

    _counts = None

    def reset_updates(self):
        """Starts counting this thread's updates from 0."""
        if self._counts is None:
            self._counts = {}
        self._counts[threading.get_ident()] = 0

    def forget_updates(self):
        """Stops counting this thread's updates."""
        (self._counts or {}).pop(threading.get_ident(), None)

    def updates(self):
        """This thread's updates since ``reset_updates``."""
        return (self._counts or {}).get(threading.get_ident(), 0)

    def update_state(self, values, sample_weight=None):
        if self._counts is not None:
            ident = threading.get_ident()
            self._counts[ident] = self._counts.get(ident, 0) + 1
        return super().update_state(values, sample_weight=sample_weight)


def _match_rank(y_true, y_pred):
    """Keras's compiled-loss rule: ``(N,)`` labels against ``(N, k)`` predictions are
    read as ``(N, 1)`` (broadcast over the k outputs, as ``fit`` does in TF)."""
    if len(_shape(y_true)) == 1 and len(_shape(y_pred)) == 2:
        return _array.expand_dims(convert_to_tensor(y_true), -1)
    return y_true


def _batch_size(flat):
    for t in flat:
        shape = _shape(t)
        if shape:
            return float(shape[0])
    return 1.0


def _flat_like(values, y_pred, names, broadcast=False):
    """``values`` (labels/weights) flattened in the order of the model's outputs.

    With ``broadcast`` (sample weights) one array applies to every output, as in
    Keras. Dict keys that name no output are an error (not silently unused data).
    """
    n = len(tree.flatten(y_pred))
    if values is None:
        return [None] * n
    if isinstance(values, dict):
        keys = sorted(y_pred, key=str) if isinstance(y_pred, dict) else list(names)
        unknown = [k for k in values if k not in keys]
        if unknown:
            raise ValueError(
                "Found unexpected keys that do not correspond to any Model output: "
                f"{unknown}. Expected: {keys}")
        return [values.get(k) for k in keys]
    if isinstance(values, (list, tuple)) and (n > 1 or _one_array_in_list(values)):
        return list(values)
    return [values] * n if broadcast else [values]


def _one_array_in_list(values):
    """``[y]`` for a one-output model (not a list of per-sample numbers)."""
    return len(values) == 1 and len(_shape(values[0])) >= 1


class MetricsContainer:
    """The compiled metrics, applied to each output (weighted and unweighted)."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None,
                 loss=None):
        self._spec = metrics
        self._weighted_spec = weighted_metrics
        self._output_names = output_names
        self._loss_spec = loss
        self._per_output = None  # list of (metric, weighted) per output
        for arg, spec in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if spec is not None and not isinstance(spec, (list, tuple, dict)):
                raise UnsupportedTypeError(   # Keras 3: ValueError, Keras 2: TypeError
                    f"Expected `{arg}` argument to be a list, tuple, or dict. Received "
                    f"instead: {arg}={spec!r} of type {type(spec)}")
        for item in _all_items(metrics) + _all_items(weighted_metrics):
            if isinstance(item, str) and item not in (
                    "accuracy", "acc", "crossentropy", "ce") and \
                    not metrics_mod.is_known_name(item):
                raise ValueError(f"Unknown metric function: '{item}'. Please ensure "
                                 "you are using a `keras.utils.custom_object_scope` "
                                 "and that this object is included in the scope. "
                                 "(argument `metrics` of `compile`)")

    @property
    def built(self):
        return self._per_output is not None

    def build(self, y_true, y_pred):
        flat_pred = tree.flatten(y_pred)
        names = self._output_names or []
        if len(names) != len(flat_pred):
            names = [f"output_{i + 1}" for i in range(len(flat_pred))]
        if isinstance(y_pred, dict):
            names = sorted(y_pred, key=str)
        self._names = names
        flat_true = _flat_like(y_true, y_pred, names)
        multi = len(names) > 1
        per_output = [[] for _ in names]
        used = set()
        taken = {"loss"} | {f"{n}_loss" for n in names}
        for weighted, spec in ((False, self._spec), (True, self._weighted_spec)):
            if spec is None:
                continue
            if isinstance(spec, dict) or (multi and isinstance(spec, (list, tuple)) and
                                          any(isinstance(s, (list, tuple)) for s in spec)):
                specs = _map_to_outputs(spec, names, "metrics")
            else:
                specs = [spec] * len(names)
            for i, items in enumerate(specs):
                for item in _as_list(items):
                    if item is None:
                        continue
                    yt = flat_true[i] if i < len(flat_true) else None
                    m = _make_metric(item, yt, flat_pred[i], weighted)
                    if id(m) in used:
                        m = type(m).from_config(m.get_config())
                    used.add(id(m))
                    prefix = f"{names[i]}_" if multi else ""
                    if weighted and any(x.name == prefix + m.name
                                        for x, was_weighted in per_output[i]
                                        if not was_weighted):
                        m.name = f"weighted_{m.name}"   # 'a_weighted_accuracy'
                    m.name = prefix + m.name
                    m.name = _unique(m.name, taken)   # two AUCs log 'auc' and 'auc_1'
                    taken.add(m.name)
                    per_output[i].append((m, weighted))
        self._per_output = per_output

    @property
    def metrics(self):
        if not self.built:
            return []
        return [m for out in self._per_output for m, _ in out]

    # Keras 3 lists this container in ``model.metrics`` as ``compile_metrics`` until
    # it is built: a custom ``train_step`` looping ``for m in self.metrics:
    # m.update_state(y, y_pred)`` builds it, and its dict result is merged into logs.
    name = "compile_metrics"

    @property
    def has_metrics(self):
        """Whether ``compile`` was given any metric."""
        return bool(_all_items(self._spec) + _all_items(self._weighted_spec))

    def result(self):
        """``{name: result}`` of every compiled metric."""
        return {m.name: m.result() for m in self.metrics}

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        flat_pred = tree.flatten(y_pred)
        flat_true = _flat_like(y_true, y_pred, self._names)
        flat_sw = _flat_like(sample_weight, y_pred, self._names, broadcast=True)
        for i, out in enumerate(self._per_output):
            yt = flat_true[i] if i < len(flat_true) else None
            if yt is None:
                continue
            yp = flat_pred[i]
            if (len(self._per_output) > 1 and isinstance(yt, Tensor)
                    and isinstance(yp, Tensor) and yt.ndim == 1 and yp.ndim == 2):
                # Keras 2's container: labels (N,) meet (N, k) predictions as (N, 1),
                # so a flat metrics list fits every output (Géron's ["accuracy",
                # "mse"] on class + box outputs); one output keeps TF 2.21's error
                yt = _array.expand_dims(yt, -1)
            for m, weighted in out:
                m.update_state(yt, yp, sample_weight=flat_sw[i] if weighted
                               else None)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()


def _unique(name, taken):
    if name not in taken:
        return name
    base, _, suffix = name.rpartition("_")
    if base and suffix.isdigit():   # an auto name 'auc_1' taken: 'auc_2', not 'auc_1_1'
        name = base
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _all_items(spec):
    if spec is None:
        return []
    if isinstance(spec, dict):
        out = []
        for v in spec.values():
            out.extend(_as_list(v))
        return out
    out = []
    for v in _as_list(spec):
        out.extend(_as_list(v))
    return out


def _callable_metric_name(fn):
    """A metric function logs under its ``__name__``; a callable without one (a
    ``functools.partial``, an object with ``__call__``) under its snake-cased class
    name, as TF: 'partial', 'callable_obj'."""
    name = getattr(fn, "__name__", None)
    return name if name else to_snake_case(type(fn).__name__)


def _make_metric(item, y_true, y_pred, weighted):
    if isinstance(item, metrics_mod.Metric):
        return item
    if isinstance(item, type) and issubclass(item, metrics_mod.Metric):
        return item()
    if item in ("accuracy", "acc", "crossentropy", "ce"):
        # TF (Keras 2 and 3) picks by shapes alone, never by the loss: a 3-unit
        # sigmoid output with binary_crossentropy gets categorical accuracy.
        p_shape = _shape(y_pred)
        t_shape = _shape(y_true)
        p_last = p_shape[-1] if p_shape else 1
        t_last = t_shape[-1] if t_shape else 1
        if p_last == 1:
            kind = "binary"
        elif len(t_shape) < len(p_shape) or (t_last == 1 and p_last != 1):
            kind = "sparse"
        else:
            kind = "categorical"
        is_acc = item in ("accuracy", "acc")
        if is_acc:
            fn = {"binary": _acc.binary_accuracy, "sparse": _acc.sparse_categorical_accuracy,
                  "categorical": _acc.categorical_accuracy}[kind]
        else:
            fn = {"binary": losses_mod.binary_crossentropy,
                  "sparse": losses_mod.sparse_categorical_crossentropy,
                  "categorical": losses_mod.categorical_crossentropy}[kind]
        return metrics_mod.MeanMetricWrapper(fn, name=item)
    if isinstance(item, str):
        obj = metrics_mod.get(item)
        if isinstance(obj, metrics_mod.Metric):
            obj.name = item   # TF 2.21: metrics=["AUC"] logs 'AUC' (not 'auc_2')
            return obj
        return metrics_mod.MeanMetricWrapper(obj, name=item)
    if isinstance(item, losses_mod.Loss):
        # a Loss object as a metric reports under its own name (Keras)
        return metrics_mod.MeanMetricWrapper(item, name=item.name)
    if callable(item):
        return metrics_mod.MeanMetricWrapper(item, name=_callable_metric_name(item))
    raise ValueError(f"Could not interpret metric identifier: {item!r} (argument "
                     "`metrics` of `compile`)")
