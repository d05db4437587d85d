"""``tf.compat.v1.train``: TF1's optimizers and global step, as ``model_fn``s use them.

``tf.compat.v1.train.AdamOptimizer(...).minimize(loss, global_step=
tf.compat.v1.train.get_global_step())`` inside a ``tf.estimator`` ``model_fn``
differentiates the loss tensor on the tape the Estimator records (a graph in TF1)
and applies the step at once. Eagerly (TF2's rule) ``loss`` must be a callable.
The updates are the Keras optimizers' with TF1's defaults and slot names
``<name>/<variable>_<slot>``; all other ``tf.train`` names are TF2's.
"""

from dlframe.core import dtypes as _dt
from dlframe.core.tape import GradientTape, graph_gradients
from dlframe.core.variable import Variable, name_scope
from dlframe.estimator import model_scope as _scope
from dlframe.keras import optimizers as _keras_opt
from dlframe.summary.event_reader import summary_iterator
from dlframe.train.checkpoint_io import _data_path, checkpoint_exists

_EAGER_GLOBAL_STEP = []


def get_global_step(graph=None):
    """The global step of the running Estimator (None outside one, unless
    ``get_or_create_global_step`` made one)."""
    scope = _scope.active_scope()
    if scope is not None:
        return scope.global_step
    return _EAGER_GLOBAL_STEP[0] if _EAGER_GLOBAL_STEP else None


def create_global_step(graph=None):
    """Creates the global step (an int64 Variable named 'global_step').

    Raises:
      ValueError: when one exists already.
    """
    if get_global_step() is not None:
        raise ValueError('"global_step" already exists.')
    with name_scope("/"):
        step = Variable(0, dtype=_dt.int64, trainable=False, name="global_step")
    _EAGER_GLOBAL_STEP.append(step)
    return step


def get_or_create_global_step(graph=None):
    """The global step, created if there is none."""
    step = get_global_step()
    return create_global_step() if step is None else step


def global_step(sess, global_step_tensor):
    """The value of ``global_step_tensor`` as an int (``sess`` is ignored)."""
    return int(global_step_tensor.numpy())


def _variables(scope, trainable):
    model = _scope.active_scope()
    if model is None:
        return []
    out = model.trainable_variables() if trainable else list(model.variables.values())
    if scope:
        out = [v for v in out if v.name.startswith(scope)]
    return out


def trainable_variables(scope=None):
    """TF1's trainable-variables collection: those of the running ``model_fn`` (a
    graph in TF1), optionally filtered by name prefix ``scope``; [] elsewhere."""
    return _variables(scope, True)


def global_variables(scope=None):
    """TF1's global-variables collection (see ``trainable_variables``)."""
    return _variables(scope, False)


class Optimizer:
    """TF1's optimizer interface over a Keras optimizer.

    Args:
      use_locking: accepted for compatibility.
      name: the optimizer's name (prefix of its slot variables).
    """

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2
    _keras_class = None

    def __init__(self, use_locking, name, **keras_kwargs):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._name = name
        self._keras = self._keras_class(name=name, **keras_kwargs)

    def get_name(self):
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """``[(gradient, variable)]`` of ``loss`` (a callable, or a Tensor inside a
        ``tf.estimator`` ``model_fn``).

        Raises:
          RuntimeError: for a Tensor loss outside a ``model_fn``.
          ValueError: when there are no variables to optimize.
        """
        if callable(loss):
            with GradientTape() as tape:
                if var_list is not None:
                    tape.watch(list(var_list))
                value = loss()
            if var_list is None:
                var_list = [v for v in tape.watched_variables() if v.trainable]
            grads = tape.gradient(value, list(var_list), output_gradients=grad_loss)
            return list(zip(grads, var_list))
        if var_list is None:
            scope = _scope.active_scope()
            var_list = scope.trainable_variables() if scope is not None else []
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = graph_gradients(loss, var_list, grad_loss)
        if grads is None:
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a "
                               "function when eager execution is enabled.")
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the pairs and increments ``global_step`` (if given).

        Raises:
          ValueError: when no variable has a gradient.
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            names = [v.name for _, v in grads_and_vars]
            raise ValueError(f"No gradients provided for any variable: {names}.")
        self._keras.apply_gradients(pairs)
        if global_step is not None:
            global_step.assign_add(1)
        return global_step

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """``compute_gradients`` then ``apply_gradients``. In an Estimator's EVAL or
        PREDICT ``model_fn`` it does nothing (TF never runs that train_op)."""
        mode = _scope.active_mode()
        if mode is not None and mode != "train":
            return None
        pairs = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        return self.apply_gradients(pairs, global_step=global_step, name=name)

    def variables(self):
        return list(self._keras.variables)


def _optimizer(class_name, keras_class, defaults, doc, translate=None):
    def __init__(self, *args, use_locking=False, name=None, **kwargs):
        params = dict(defaults)
        names = list(defaults)
        if len(args) > len(names):
            raise TypeError(f"{class_name} takes at most {len(names)} positional "
                            f"arguments, got {len(args)}")
        params.update(zip(names, args))
        unknown = set(kwargs) - set(params)
        if unknown:
            raise TypeError(f"{class_name} got unexpected arguments {sorted(unknown)}")
        params.update(kwargs)
        missing = [k for k, v in params.items() if v is _REQUIRED]
        if missing:
            raise TypeError(f"{class_name} missing required argument(s): {missing}")
        keras_kwargs = translate(params) if translate else params
        Optimizer.__init__(self, use_locking, name or class_name.replace(
            "Optimizer", ""), **keras_kwargs)
    __init__.__doc__ = doc
    return type(class_name, (Optimizer,), {"__init__": __init__, "__doc__": doc,
                                           "_keras_class": keras_class})


_REQUIRED = object()
GradientDescentOptimizer = _optimizer(
    "GradientDescentOptimizer", _keras_opt.SGD, {"learning_rate": _REQUIRED},
    "Plain gradient descent: ``var -= learning_rate * grad``.")
MomentumOptimizer = _optimizer(
    "MomentumOptimizer", _keras_opt.SGD,
    {"learning_rate": _REQUIRED, "momentum": _REQUIRED, "use_nesterov": False},
    "Gradient descent with momentum (``use_nesterov`` for Nesterov's).",
    lambda p: {"learning_rate": p["learning_rate"], "momentum": p["momentum"],
               "nesterov": p["use_nesterov"]})
AdagradOptimizer = _optimizer(
    "AdagradOptimizer", _keras_opt.Adagrad,
    {"learning_rate": _REQUIRED, "initial_accumulator_value": 0.1},
    "Adagrad (accumulators start at ``initial_accumulator_value``; no epsilon).",
    lambda p: dict(p, epsilon=0.0))
AdamOptimizer = _optimizer(
    "AdamOptimizer", _keras_opt.Adam,
    {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "Adam with TF1's defaults (epsilon 1e-8).",
    lambda p: {"learning_rate": p["learning_rate"], "beta_1": p["beta1"],
               "beta_2": p["beta2"], "epsilon": p["epsilon"]})
RMSPropOptimizer = _optimizer(
    "RMSPropOptimizer", _keras_opt.RMSprop,
    {"learning_rate": _REQUIRED, "decay": 0.9, "momentum": 0.0, "epsilon": 1e-10,
     "centered": False},
    "RMSProp (``decay`` is the moving average's rho).",
    lambda p: {"learning_rate": p["learning_rate"], "rho": p["decay"],
               "momentum": p["momentum"], "epsilon": p["epsilon"],
               "centered": p["centered"]})
AdadeltaOptimizer = _optimizer(
    "AdadeltaOptimizer", _keras_opt.Adadelta,
    {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-8}, "Adadelta.")
FtrlOptimizer = _optimizer(
    "FtrlOptimizer", _keras_opt.Ftrl,
    {"learning_rate": _REQUIRED, "learning_rate_power": -0.5,
     "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
     "l2_regularization_strength": 0.0, "accum_name": None, "linear_name": None,
     "l2_shrinkage_regularization_strength": 0.0, "beta": None},
    "FTRL-Proximal.",
    lambda p: {k: (v if v is not None else 0.0) for k, v in p.items()
               if k not in ("accum_name", "linear_name")})

__all__ = ["AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
           "FtrlOptimizer", "GradientDescentOptimizer", "MomentumOptimizer",
           "Optimizer", "RMSPropOptimizer", "checkpoint_exists", "create_global_step",
           "get_checkpoint_mtimes", "get_global_step", "get_or_create_global_step",
           "global_step", "global_variables", "summary_iterator",
           "trainable_variables"]


def get_checkpoint_mtimes(checkpoint_prefixes):
    """Modification times (seconds since the epoch) of the checkpoints that exist
    among ``checkpoint_prefixes`` (TF1; deprecated in TF as in dlframe)."""
    import os
    return [os.path.getmtime(_data_path(p)) for p in checkpoint_prefixes
            if checkpoint_exists(p)]
