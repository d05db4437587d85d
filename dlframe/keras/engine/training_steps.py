"""One training, test or predict step of ``keras.Model`` and the metrics it reports.

``train_step``/``test_step``/``predict_step``, ``compute_loss`` and
``compute_metrics`` are overridable as in Keras; ``make_*_function`` wraps a step in
``dlframe.function`` unless ``run_eagerly=True`` (DESIGN.md §5), or splits it over the
replicas of a distribution strategy. Mixed into ``TrainingMixin``.
"""

import contextlib
import inspect

from dlframe.core.function import function as _compile
from dlframe.core.tape import GradientTape
from dlframe.core.tensor import Tensor
from dlframe.keras.engine import training_data as data_mod
from dlframe.keras.engine import training_distributed as _dist
from dlframe.keras.engine.layer_state_api import attribute_metrics


class NotCompiledError(RuntimeError, ValueError):
    """fit/evaluate/train_on_batch before ``compile``: Keras 3 raises ValueError,
    Keras 2 RuntimeError; this subclasses both."""

    def __init__(self):
        super().__init__("You must call `compile()` before using the model (compile "
                         "your model before training/testing: "
                         "`model.compile(optimizer, loss)`).")


def _merge_dict_results(logs):
    """Logs with dict values (e.g. Keras 3's ``compile_metrics``) merged in."""
    if not isinstance(logs, dict) or not any(isinstance(v, dict) for v in logs.values()):
        return logs
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(v)
        else:
            out[k] = v
    return out


def _accepts_training(method):
    """Whether an overridden ``compute_loss`` takes ``training`` (Keras 3's does; the
    keras.io examples' ``compute_loss(x, y, y_pred, sample_weight, allow_empty)``
    and Keras 2 overrides do not)."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)


def _key_order(raw):
    """Keras 3's ``pythonify_logs`` order of ``raw`` logs: keys sorted, the keys of a
    dict value (a custom step's ``compile_metrics``) in its place, sorted in turn."""
    out = []
    for k, v in sorted(raw.items(), key=lambda item: str(item[0])):
        out.extend(_key_order(v) if isinstance(v, dict) else [k])
    return out


def _sorted_logs(logs, raw=None):
    """Flat ``logs`` in TF 2.21's order: Keras 3 hands callbacks, ``History`` and
    ``evaluate(return_dict=True)`` their logs sorted by name (Keras 2 kept compile
    order), nested results in the place of their key in ``raw``, the step's logs."""
    if not isinstance(logs, dict):
        return logs
    rank = {k: i for i, k in enumerate(_key_order(raw))} if isinstance(raw, dict) \
        else {}
    return dict(sorted(logs.items(),
                       key=lambda item: (rank.get(item[0], len(rank)), str(item[0]))))


def _floats(logs):
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, Tensor):
            v = v.numpy()
            v = float(v) if getattr(v, "ndim", 0) == 0 else v
        out[k] = v
    return out


class StepsMixin:
    """The overridable steps, the loss/metric hooks they call and ``metrics``."""

    # -- metrics ---------------------------------------------------------------
    @property
    def metrics(self):
        """Loss trackers, compiled metrics, then metrics held in attributes."""
        out = []
        if self._is_compiled:
            out.extend(self.compiled_loss.metrics)
            if self.compiled_metrics.built or not self.compiled_metrics.has_metrics:
                out.extend(self.compiled_metrics.metrics)
            else:
                out.append(self.compiled_metrics)  # Keras 3's 'compile_metrics'
        layers = self._flatten_layers() if hasattr(self, "_flatten_layers") else [self]
        return attribute_metrics(layers, out)

    @property
    def metrics_names(self):
        """The names of ``evaluate()``'s list, in its order (once the metrics are
        built; before, Keras 3's ``['loss', 'compile_metrics']``)."""
        names = [m.name for m in self.metrics]
        if "compile_metrics" in names:
            return names
        return self._log_order(names)

    def _log_order(self, names):
        """TF 2.21's order of ``evaluate()``'s list (Keras 3 flattens the logs by
        ``self.metrics``): the names of ``self.metrics`` in order, then the rest
        sorted. Keras 3 prefixes a multi-output model's compiled metric names with
        the output's only in the logs, so those are not found and come sorted; a
        single-output model's keep compile order."""
        prefixed = set()
        if self._is_compiled and self.compiled_metrics.built and \
                len(getattr(self.compiled_metrics, "_names", ())) > 1:
            prefixed = {id(m) for m in self.compiled_metrics.metrics}
        first = []
        for m in self.metrics:
            if id(m) not in prefixed and m.name in names and m.name not in first:
                first.append(m.name)
        return first + sorted((n for n in names if n not in first), key=str)

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """``{name: result}`` of every metric (dict results are merged in)."""
        return _merge_dict_results({m.name: m.result() for m in self.metrics})

    # -- the steps ---------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """Compiled loss plus ``self.losses`` (updates the ``loss`` tracker)."""
        del x, training
        if self.compiled_loss is None:
            raise NotCompiledError()
        if not self.compiled_loss.has_losses and not self.losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in "
                             "`compile()`.")
        share = _dist.replica_share()  # a replica of a multi-replica strategy
        if share is not None and share[0] == 0:
            return _dist.empty_loss()
        with self.compiled_loss.deferring():
            loss = self.compiled_loss(y, y_pred, sample_weight,
                                      regularization_losses=self.losses)
        return _dist.scale_loss(loss, share)

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """``compute_loss``, passing ``training`` only to overrides that take it. As in
        Keras 3, the ``loss`` metric of an overriding ``compute_loss`` (a distiller's,
        which never calls the compiled loss) is the total it returns."""
        kwargs = {"x": x, "y": y, "y_pred": y_pred, "sample_weight": sample_weight}
        container = self.compiled_loss
        recording = container.recording_now() if container is not None \
            else contextlib.nullcontext()
        with recording:
            if type(self).compute_loss is StepsMixin.compute_loss:
                return self.compute_loss(**kwargs)
            if _accepts_training(self.compute_loss):
                kwargs["training"] = training
            if container is None or _dist.replica_share() is not None:
                return self.compute_loss(**kwargs)
            with container.total_tracked_by_caller():
                loss = self.compute_loss(**kwargs)
            container.track_total(loss, y_pred)
            return loss

    def _metrics_or_logs(self, logs):
        """The metrics' results, unless a custom train/test step returned its own
        names (e.g. ``{"loss": self.total_tracker.result()}``): then its last logs."""
        result = _dist.combine_logs(self, self.get_metrics_result())
        logs = _merge_dict_results(logs)
        if isinstance(logs, dict) and set(logs) != set(result):
            return logs
        return result

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics; returns ``get_metrics_result()``."""
        del x
        if self.compiled_loss is not None:
            self.compiled_loss.flush_pending()
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        """One optimization step on ``data``; returns the metrics' current results."""
        x, y, sample_weight = data_mod.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
            scale = getattr(self.optimizer, "scale_loss", None)  # mixed precision
            scaled = scale(loss) if scale is not None else loss
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Computes the loss and updates the metrics on ``data``."""
        x, y, sample_weight = data_mod.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self._compute_loss(x, y, y_pred, sample_weight, training=False)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs on the inputs of ``data``."""
        x, _, _ = data_mod.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _wrap(self, step, kind):
        strategy = _dist.model_strategy(self)
        if strategy is not None:  # split each batch over the replicas
            return _dist.DistributedStep(self, kind, strategy)
        if self.run_eagerly:
            return step
        return _compile(step, reduce_retracing=True)

    def _run_step(self, step, data):
        """``step(data)`` within the loss container's ``step_scope``."""
        container = self.compiled_loss if self._is_compiled else None
        if container is None:
            return step(data)
        with container.step_scope():
            return step(data)

    def make_train_function(self, force=False):
        _dist.check_compile_strategy(self)
        if self.train_function is None or force:
            self.train_function = self._wrap(
                lambda data: self._run_step(self.train_step, data), "train")
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is None or force:
            self.test_function = self._wrap(
                lambda data: self._run_step(self.test_step, data), "test")
        return self.test_function

    def make_predict_function(self, force=False):
        if self.predict_function is None or force:
            self.predict_function = self._wrap(lambda data: self.predict_step(data),
                                               "predict")
        return self.predict_function
