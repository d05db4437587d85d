"""``dlframe.estimator``: TensorFlow 2.0-2.15's ``tf.estimator`` API.

``Estimator`` runs a ``model_fn`` for train/evaluate/predict with checkpoints in
``model_dir``; the premade estimators (``DNNClassifier``, ``LinearClassifier``, ...)
build their ``model_fn`` from feature columns; ``train_and_evaluate`` alternates
training and evaluation. TensorFlow removed the API in 2.16.
"""

from dlframe.estimator.canned_estimators import (
    BaselineClassifier,
    BaselineRegressor,
    DNNClassifier,
    DNNLinearCombinedClassifier,
    DNNLinearCombinedRegressor,
    DNNRegressor,
    LinearClassifier,
    LinearRegressor,
)
from dlframe.estimator.estimator import Estimator, WarmStartSettings
from dlframe.estimator.hooks import (
    CheckpointSaverListener,
    LoggingTensorHook,
    SessionRunArgs,
    SessionRunContext,
    SessionRunHook,
    SessionRunValues,
    StopAtStepHook,
)
from dlframe.estimator.model_fn import EstimatorSpec, ModeKeys
from dlframe.estimator.run_config import RunConfig
from dlframe.estimator.training import EvalSpec, TrainSpec, train_and_evaluate

__all__ = [
    "BaselineClassifier",
    "BaselineRegressor",
    "CheckpointSaverListener",
    "DNNClassifier",
    "DNNLinearCombinedClassifier",
    "DNNLinearCombinedRegressor",
    "DNNRegressor",
    "Estimator",
    "EstimatorSpec",
    "EvalSpec",
    "LinearClassifier",
    "LinearRegressor",
    "LoggingTensorHook",
    "ModeKeys",
    "RunConfig",
    "SessionRunArgs",
    "SessionRunContext",
    "SessionRunHook",
    "SessionRunValues",
    "StopAtStepHook",
    "TrainSpec",
    "WarmStartSettings",
    "train_and_evaluate",
]
