"""Keras 2's scikit-learn API: ``KerasClassifier`` and ``KerasRegressor``.

A wrapper holds ``build_fn`` (a function returning a compiled model) and the
"sk_params": keyword arguments of ``build_fn`` and of the model's ``fit``,
``predict`` and ``evaluate`` (``epochs``, ``batch_size``, ``verbose``, ...). Each
``fit`` builds a fresh model, so ``sklearn.base.clone``, ``cross_val_score`` and
``GridSearchCV`` work. scikit-learn itself is optional: nothing here imports it
except the tags method that only scikit-learn calls.
"""

import inspect
import types

from dlframe.backends.base import np  # host side: scikit-learn deals in NumPy
from dlframe.keras.engine.model import Model


def _named_args(fn):
    """The names ``fn`` takes explicitly (``**kwargs`` does not count)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _to_categorical(y):
    from dlframe.keras.utils import to_categorical
    return to_categorical(y)


def _loss_name(model):
    loss = getattr(model, "loss", None)
    return getattr(loss, "__name__", loss)


class BaseWrapper:
    """The shared part of the scikit-learn wrappers.

    Args:
      build_fn: a function (or a callable object) returning a compiled Keras model;
        None: the subclass's own ``__call__`` builds it.
      **sk_params: arguments of ``build_fn`` and of ``fit``/``predict``/``evaluate``
        (e.g. ``epochs=10, batch_size=32, verbose=0, units=64``).

    Raises:
      ValueError: a ``sk_params`` key is none of those arguments.
    """

    _fit_methods = (Model.fit, Model.predict, Model.evaluate)

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_target(self):
        fn = self.build_fn
        if fn is None:
            return self.__call__
        if isinstance(fn, (types.FunctionType, types.MethodType)):
            return fn
        if callable(fn):
            return fn.__call__
        raise TypeError("`build_fn` must be a function, a callable object or None. "
                        f"Received: build_fn={fn!r}")

    def check_params(self, params):
        """Raises ValueError for a key of ``params`` no target function takes."""
        legal = set()
        for fn in self._fit_methods + (self._build_target(),):
            legal |= _named_args(fn)
        for name in params:
            if name not in legal:
                raise ValueError(f"{name} is not a legal parameter")

    def get_params(self, **params):
        """``build_fn`` and the sk_params (scikit-learn's estimator protocol)."""
        res = dict(self.sk_params)   # shallow: clone checks identity
        res.update({"build_fn": self.build_fn})
        return res

    def set_params(self, **params):
        """Updates the sk_params (and ``build_fn``); returns self."""
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The sk_params that ``fn`` takes, updated with ``override``."""
        names = _named_args(fn)
        res = {k: v for k, v in self.sk_params.items() if k in names}
        res.update(override or {})
        return res

    def fit(self, x, y, **kwargs):
        """Builds a new model with ``build_fn`` and trains it on ``(x, y)``.

        Args:
          x: the training inputs.
          y: the targets (class labels for the classifier).
          **kwargs: ``Model.fit`` arguments overriding the sk_params.

        Returns:
          The ``History`` of the ``Model.fit`` call.
        """
        target = self._build_target()
        self.model = target(**self.filter_sk_params(target))
        y = np.asarray(y)
        if _loss_name(self.model) == "categorical_crossentropy" and y.ndim != 2:
            y = _to_categorical(y)
        fit_args = self.filter_sk_params(Model.fit, kwargs)
        return self.model.fit(x, y, **fit_args)

    def _check_fitted(self):
        if not hasattr(self, "model"):
            raise ValueError(f"This {type(self).__name__} instance is not fitted yet: "
                             "call `fit` before using it.")

    def _predict_raw(self, x, kwargs):
        self._check_fitted()
        return np.asarray(self.model.predict(
            x, **self.filter_sk_params(Model.predict, kwargs)))

    def _evaluate(self, x, y, kwargs):
        self._check_fitted()
        return self.model.evaluate(x, y, **self.filter_sk_params(Model.evaluate, kwargs))


class KerasClassifier(BaseWrapper):
    """scikit-learn classifier over a Keras model (Keras 2's
    ``tf.keras.wrappers.scikit_learn.KerasClassifier``).

    Labels may be any sortable values (strings, ints): ``classes_`` holds them
    sorted and the model sees their indices (one-hot when its loss is
    ``categorical_crossentropy``). ``score`` is the model's accuracy, so the model
    must be compiled with ``metrics=['accuracy']``.

    Args:
      build_fn: a function returning a compiled model.
      **sk_params: ``build_fn`` and ``fit``/``predict``/``evaluate`` arguments.
    """

    _estimator_type = "classifier"

    def fit(self, x, y, **kwargs):
        """Trains a new model; returns the ``History``.

        Raises:
          ValueError: ``y`` is neither 1-D labels, a column of labels nor one-hot.
        """
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"Invalid shape for y: {y.shape}")
        self.n_classes_ = len(self.classes_)
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted labels (values of ``classes_``): argmax of a softmax
        output, or ``output > 0.5`` of a single sigmoid unit (shape ``(n, 1)``, as
        Keras 2 returned it)."""
        proba = self._predict_raw(x, kwargs)
        if proba.shape[-1] > 1:
            classes = proba.argmax(axis=-1)
        else:
            classes = (proba > 0.5).astype("int32")
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs):
        """Class probabilities of shape ``(n, n_classes)``; a single sigmoid output
        ``p`` becomes the two columns ``[1 - p, p]``."""
        probs = self._predict_raw(x, kwargs)
        if probs.ndim == 2 and probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on ``(x, y)`` (``y`` in label values).

        Raises:
          ValueError: the model was compiled without an accuracy metric.
        """
        self._check_fitted()
        y = np.searchsorted(self.classes_, np.asarray(y))
        if _loss_name(self.model) == "categorical_crossentropy" and y.ndim != 2:
            y = _to_categorical(y)
        outputs = self._evaluate(x, y, kwargs)
        if not isinstance(outputs, list):
            outputs = [outputs]
        for name, value in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return float(value)
        raise ValueError("The model is not configured to compute accuracy. You should "
                         "pass `metrics=[\"accuracy\"]` to the `model.compile()` method.")

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())


class KerasRegressor(BaseWrapper):
    """scikit-learn regressor over a Keras model (Keras 2's
    ``tf.keras.wrappers.scikit_learn.KerasRegressor``); ``score`` is the negative
    loss (greater is better, as scikit-learn expects).

    Args:
      build_fn: a function returning a compiled model.
      **sk_params: ``build_fn`` and ``fit``/``predict``/``evaluate`` arguments.
    """

    _estimator_type = "regressor"

    def predict(self, x, **kwargs):
        """The model's predictions with size-1 axes squeezed out."""
        return np.squeeze(self._predict_raw(x, kwargs))

    def score(self, x, y, **kwargs):
        """``-loss`` of the model on ``(x, y)``."""
        loss = self._evaluate(x, y, kwargs)
        if isinstance(loss, list):
            return -float(loss[0])
        return -float(loss)

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags, Tags, TargetTags
        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    regressor_tags=RegressorTags())
