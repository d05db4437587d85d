"""``tf.estimator.ModeKeys`` and ``tf.estimator.EstimatorSpec``: what a ``model_fn``
receives and returns."""

import collections

from dlframe.core.tensor import Tensor, convert_to_tensor


class ModeKeys:
    """The three modes a ``model_fn`` is called in."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT)
_NOT_GIVEN = object()

_FIELDS = ("mode", "predictions", "loss", "train_op", "eval_metric_ops",
           "export_outputs", "training_chief_hooks", "training_hooks", "scaffold",
           "evaluation_hooks", "prediction_hooks")


def is_metric_object(value):
    """True for a Keras metric object (``update_state``/``result``/``reset_state``)."""
    return all(hasattr(value, a) for a in ("update_state", "result")) and \
        not isinstance(value, (tuple, list))


def _check_tensor_or_dict(value, what):
    if isinstance(value, dict):
        return {k: _as_tensor(v, f"{what}[{k!r}]") for k, v in value.items()}
    return _as_tensor(value, what)


def _as_tensor(value, what):
    if isinstance(value, Tensor):
        return value
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a Tensor or a dict of Tensors, given: "
                        f"{value!r}") from None


class EstimatorSpec(collections.namedtuple("EstimatorSpec", _FIELDS)):
    """What a ``model_fn`` returns: the ops and values of one mode.

    Args:
      mode: a ``ModeKeys`` value.
      predictions: a Tensor or dict of Tensors (required in PREDICT).
      loss: a scalar Tensor (required in TRAIN and EVAL).
      train_op: the training step (required in TRAIN). dlframe runs the ``model_fn``
        eagerly, so the optimizer has already applied the step when ``train_op``
        exists; any value is accepted (None too: eager ``tf.group`` returns it).
      eval_metric_ops: dict of metric name to a ``(value, update_op)`` pair (as
        ``tf.compat.v1.metrics`` returns) or a Keras metric object.
      export_outputs, training_chief_hooks, training_hooks, scaffold,
      evaluation_hooks, prediction_hooks: hooks run by train/evaluate/predict; the
        rest is accepted for compatibility.

    Raises:
      ValueError: for a missing required field or an invalid mode or metric.
    """

    def __new__(cls, mode, predictions=None, loss=None, train_op=_NOT_GIVEN,
                eval_metric_ops=None, export_outputs=None, training_chief_hooks=None,
                training_hooks=None, scaffold=None, evaluation_hooks=None,
                prediction_hooks=None):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {list(_MODES)} (tf.estimator."
                             f"ModeKeys), given: {mode!r}")
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            if loss is None:
                raise ValueError(f"Missing loss. A model_fn in mode {mode!r} must "
                                 "return an EstimatorSpec with a scalar loss.")
            loss = _as_tensor(loss, "loss")
            if loss.shape.rank not in (0, None) and loss.shape.num_elements() != 1:
                raise ValueError(f"Loss must be scalar, given: {loss!r}")
        # In TF ``tf.group(...)``/``tf.no_op()`` give an op; eagerly they give None, so
        # only an omitted train_op is an error.
        if mode == ModeKeys.TRAIN and train_op is _NOT_GIVEN:
            raise ValueError("Missing train_op. A model_fn in mode 'train' must return "
                             "an EstimatorSpec with train_op (e.g. optimizer.minimize("
                             "loss, global_step=tf.compat.v1.train.get_global_step())).")
        if mode == ModeKeys.PREDICT and predictions is None:
            raise ValueError("Missing predictions. A model_fn in mode 'infer' must "
                             "return an EstimatorSpec with predictions.")
        if predictions is not None:
            predictions = _check_tensor_or_dict(predictions, "predictions")
        metrics = dict(eval_metric_ops or {})
        if not isinstance(eval_metric_ops or {}, dict):
            raise TypeError(f"eval_metric_ops must be a dict, given: {eval_metric_ops!r}")
        for key, value in metrics.items():
            pair = isinstance(value, (tuple, list)) and len(value) == 2
            if not pair and not is_metric_object(value):
                raise TypeError(
                    "Values of eval_metric_ops must be (metric_value, update_op) tuples "
                    f"or Keras metric objects, given: {value!r} for key: {key}")
        train_op = None if train_op is _NOT_GIVEN else train_op
        hooks = [tuple(h or ()) for h in (training_chief_hooks, training_hooks,
                                          evaluation_hooks, prediction_hooks)]
        return super().__new__(cls, mode, predictions, loss, train_op, metrics,
                               export_outputs, hooks[0], hooks[1], scaffold, hooks[2],
                               hooks[3])

    def _replace(self, **kwds):
        fields = self._asdict()
        fields.update(kwds)
        return EstimatorSpec(**fields)
