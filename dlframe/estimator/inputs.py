"""Calling ``input_fn``/``model_fn`` with the arguments their signatures ask for, and
turning what ``input_fn`` returns into a stream of ``(features, labels)`` batches."""

import inspect

from dlframe.core.tensor import Tensor
from dlframe.data.dataset import Dataset
from dlframe.io.sparse_tensor import SparseTensor

VALID_MODEL_FN_ARGS = frozenset(("features", "labels", "mode", "params", "self",
                                 "config"))


def fn_args(fn):
    """Names of ``fn``'s parameters (functools.partial and callables included)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(name for name, p in params.items()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def verify_model_fn_args(model_fn, params):
    """TensorFlow's checks of a ``model_fn``'s parameters.

    Raises:
      ValueError: without ``features``, with unexpected parameters, or with
        ``params`` given to an Estimator whose ``model_fn`` does not take them.
    """
    if not callable(model_fn):
        raise TypeError(f"model_fn must be callable, given: {model_fn!r}")
    args = set(fn_args(model_fn))
    if "features" not in args:
        raise ValueError(f"model_fn ({model_fn}) must include features argument.")
    if params is not None and "params" not in args:
        raise ValueError(f"model_fn ({model_fn}) does not include params argument, but "
                         f"params ({params}) is passed to Estimator.")
    unexpected = sorted(args - VALID_MODEL_FN_ARGS)
    if unexpected:
        raise ValueError(f"model_fn ({model_fn}) has following not expected args: "
                         f"{unexpected}")


def call_input_fn(input_fn, mode, params, config):
    """``input_fn()`` with ``mode``/``params``/``config`` if it takes them."""
    if not callable(input_fn):
        raise TypeError(f"input_fn must be callable (a function returning a "
                        f"tf.data.Dataset or (features, labels)), given: {input_fn!r}")
    args = fn_args(input_fn)
    kwargs = {}
    if "mode" in args:
        kwargs["mode"] = mode
    if "params" in args:
        kwargs["params"] = params
    if "config" in args:
        kwargs["config"] = config
    if "input_context" in args:
        kwargs["input_context"] = None
    return input_fn(**kwargs)


def _check_features(features, where):
    ok = isinstance(features, (Tensor, SparseTensor, dict)) or (
        hasattr(features, "shape") and hasattr(features, "dtype"))
    if not ok:
        raise ValueError(
            f"input_fn must return features as a Tensor or a dict of Tensors ({where}); "
            f"got {type(features).__name__}: {features!r:.200}")
    return features


def _split(element, where):
    if isinstance(element, (tuple, list)):
        if len(element) != 2:
            raise ValueError(
                f"input_fn should return (features, labels) as a len 2 tuple ({where}); "
                f"got a {type(element).__name__} of length {len(element)}.")
        return _check_features(element[0], where), element[1]
    return _check_features(element, where), None


def batches(result):
    """Iterates ``(features, labels)`` over what an ``input_fn`` returned.

    A Dataset yields one batch per element (``(features, labels)`` or features
    alone); a ``(features, labels)`` tuple or bare features is one batch (training
    repeats it for its number of steps).

    Returns:
      (iterator, is_dataset).

    Raises:
      ValueError: for a structure that is neither.
    """
    if isinstance(result, Dataset):
        return (_split(e, "a Dataset element") for e in result), True
    batch = _split(result, "the input_fn result")
    return iter([batch]), False
