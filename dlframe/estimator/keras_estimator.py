"""``tf.keras.estimator.model_to_estimator``: an Estimator training a compiled Keras
model with its loss, metrics and optimizer."""

import copy

from dlframe.core.tape import graph_gradients
from dlframe.estimator import model_scope as _scope
from dlframe.estimator.estimator import Estimator
from dlframe.estimator.model_fn import EstimatorSpec, ModeKeys
from dlframe.keras import models as _models
from dlframe.keras import optimizers as _optimizers
from dlframe.keras.engine.training_compile import MetricsContainer


def _inputs(model, features):
    """``features`` arranged as the model's inputs (a dict is matched by input name)."""
    if not isinstance(features, dict):
        return features
    names = list(getattr(model, "input_names", None) or [])
    if len(features) == 1 and (not names or len(names) == 1):
        return next(iter(features.values()))
    missing = [n for n in names if n not in features]
    if missing:
        raise ValueError(f"features keys {sorted(features)} do not match the Keras "
                         f"model's input names {names}.")
    return [features[n] for n in names]


class _KerasModelFn:
    """The ``model_fn`` of ``model_to_estimator``: a clone of the model (so the
    original's weights stay as they are), built in the first call."""

    def __init__(self, keras_model, custom_objects):
        self._source = keras_model
        self._custom_objects = custom_objects
        self._clone = None
        self._optimizer = None

    def _model(self):
        if self._clone is None:
            self._clone = _models.clone_model(self._source)
        return self._clone

    def __call__(self, features, labels, mode):
        model = self._model()
        training = mode == ModeKeys.TRAIN
        outputs = model(_inputs(self._source, features), training=training)
        names = list(getattr(self._source, "output_names", None) or ["output"])
        if isinstance(outputs, (list, tuple)):
            predictions = dict(zip(names, outputs))
        else:
            predictions = {names[0]: outputs}
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        if isinstance(labels, dict) and not isinstance(outputs, dict):
            labels = [labels[n] for n in names] if len(names) > 1 else \
                next(iter(labels.values()))
        source = self._source
        loss = source.compiled_loss(labels, outputs, None,
                                    regularization_losses=model.losses)
        if mode == ModeKeys.EVAL:
            metrics = MetricsContainer(source.compiled_metrics._spec,
                                       source.compiled_metrics._weighted_spec,
                                       list(getattr(source, "output_names", None) or []),
                                       source.loss)
            metrics.update_state(labels, outputs)
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops={m.name: m for m in metrics.metrics})
        if self._optimizer is None:
            opt = source.optimizer
            self._optimizer = opt.__class__.from_config(opt.get_config())
        variables = list(model.trainable_variables)
        grads = graph_gradients(loss, variables)
        self._optimizer.apply_gradients(zip(grads, variables))
        step = _scope.active_scope().global_step
        return EstimatorSpec(mode, predictions=predictions, loss=loss,
                             train_op=step.assign_add(1))


def model_to_estimator(keras_model=None, keras_model_path=None, custom_objects=None,
                       model_dir=None, config=None, checkpoint_format="checkpoint",
                       metric_names_map=None, export_outputs=None):
    """An Estimator training a copy of the compiled ``keras_model``.

    The Estimator starts from the model's current weights (unless ``model_dir``
    already has a checkpoint) and trains a copy: ``keras_model`` is not changed.
    ``input_fn`` features are the model's input (a dict keyed by input names for
    several inputs); predictions are keyed by output names.

    Args:
      keras_model: a compiled Keras model.
      keras_model_path: path of a saved Keras model (instead of ``keras_model``).
      custom_objects: for loading ``keras_model_path``.
      model_dir: checkpoint directory.
      config: a RunConfig.
      checkpoint_format, metric_names_map, export_outputs: accepted for
        compatibility.

    Raises:
      ValueError: for neither or both of ``keras_model``/``keras_model_path``, or a
        model that was not compiled.
    """
    if (keras_model is None) == (keras_model_path is None):
        raise ValueError("Either `keras_model` or `keras_model_path` needs to be "
                         "provided.")
    if keras_model is None:
        from dlframe.keras.saving import load_model
        keras_model = load_model(keras_model_path, custom_objects=custom_objects)
    if not getattr(keras_model, "_is_compiled", False) or \
            getattr(keras_model, "optimizer", None) is None:
        raise ValueError("The given keras model has not been compiled yet. Please "
                         "compile the model with `model.compile()` before calling "
                         "`model_to_estimator()`.")
    if metric_names_map:
        raise NotImplementedError("model_to_estimator: metric_names_map is not "
                                  "supported.")
    if isinstance(keras_model.optimizer, str):
        keras_model.optimizer = _optimizers.get(keras_model.optimizer)
    estimator = Estimator(_KerasModelFn(keras_model, custom_objects),
                          model_dir=model_dir, config=config)
    values = {v.name.removesuffix(":0"): v.numpy()
              for v in keras_model.weights}
    estimator._scope.set_warm_start(copy.copy(values), ".*", trainable_only=False)
    return estimator
