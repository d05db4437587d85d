"""``fit``/``evaluate``/``predict`` of a model built in a multi-replica strategy's scope.

Each global batch is split over the replicas (TF's split: ``ceil(B/N)`` rows per
replica, see ``dlframe.distribute.input``); ``strategy.run`` executes the model's
``train_step``/``test_step``/``predict_step`` once per replica (through
``dlframe.function`` unless ``run_eagerly``). ``compute_loss`` scales replica ``i``'s
loss by ``n_i / B`` (its share of the global batch), so with the optimizer summing
the replicas' gradients the update equals single-device training on the global batch,
also for an uneven last batch. Metrics accumulate per replica in ON_READ variables
and are read, summed, in the cross-replica context; predictions are gathered.
"""

import functools

from dlframe import distribute
from dlframe.core.function import function as _compile
from dlframe.core.tensor import Tensor
from dlframe.distribute.input import _map as map_leaves
from dlframe.distribute.input import global_rows, split_element
from dlframe.keras.utils import tree
from dlframe.ops import array as _array
from dlframe.ops import math as _math


def model_strategy(model):
    """The multi-replica strategy that owns ``model``'s variables (for a model
    without weights yet, the one whose scope created it), else None."""
    weights = getattr(model, "weights", ())
    for v in weights:
        if isinstance(v, distribute.DistributedVariable):
            strategy = v._distributed_strategy
            return strategy if strategy.num_replicas_in_sync > 1 else None
    if not weights:   # built on its first batch: in its strategy's scope, as in TF
        strategy = getattr(model, "_creation_strategy", None)
        if strategy is not None and strategy.num_replicas_in_sync > 1:
            return strategy
    return None


def active_strategy(any_replicas=False):
    """The multi-replica strategy (any strategy if ``any_replicas``) whose scope is
    active, else None."""
    strategy = distribute.get_strategy() if distribute.has_strategy() else None
    if strategy is None or any_replicas:
        return strategy
    return strategy if strategy.num_replicas_in_sync > 1 else None


def current_strategy(strategy=None):
    """``strategy`` if given, else ``tf.distribute.get_strategy()`` (the default
    strategy outside every scope)."""
    return strategy if strategy is not None else distribute.get_strategy()


def check_compile_strategy(model):
    """TF's RuntimeError for training a model compiled in a strategy's scope whose
    weights were created outside it (the optimizer's and the weights' strategies
    would differ)."""
    strategy = model_strategy(model)
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    step = getattr(optimizer, "_iterations", None)
    if strategy is not None and step is not None:
        own = step._distributed_strategy if isinstance(
            step, distribute.DistributedVariable) else "the default strategy"
        if own is not strategy:
            raise RuntimeError(
                f"Mixing different tf.distribute.Strategy objects: {strategy!r} is not "
                f"{own}: the optimizer was created "
                "outside the scope of the strategy that holds the model's weights. "
                "Create it inside `strategy.scope()` (or pass its name to `compile`).")
    wanted = getattr(model, "_compile_strategy", None)
    if wanted is None or not getattr(model, "built", False):
        return
    if strategy is not wanted:
        raise RuntimeError(
            f'Need to be inside "with strategy.scope()" for {wanted!r}: `compile` ran '
            "inside this strategy's scope but the model's weights were created "
            "outside it. Create (or build) the model inside `strategy.scope()` too.")


def _one_device_strategy(model):
    """The one-replica strategy (``OneDeviceStrategy("/cpu:0")``) holding ``model``'s
    weights, else None: its scope places the batches beside the weights."""
    strategy = getattr(model, "_creation_strategy", None)
    if strategy is None or strategy.num_replicas_in_sync != 1:
        return None
    return strategy


def in_strategy_scope(method):
    """Runs a Keras entry point inside the scope of the model's strategy (if any), so
    the metrics and optimizer slots it creates are distributed like the weights."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        strategy = model_strategy(self) or _one_device_strategy(self)
        if strategy is None:
            return method(self, *args, **kwargs)
        with strategy.scope():
            return method(self, *args, **kwargs)
    return wrapper


def combine_logs(model, logs):
    """``model``'s metric results as reported: averaged over the workers when its
    strategy spans several processes (a collective every worker makes alike)."""
    strategy = model_strategy(model)
    return logs if strategy is None else strategy._combine_logs(logs)


def replica_share():
    """``(rows of this replica, rows of the global batch)`` inside a distributed Keras
    step, ``(None, None)`` in another replica context with several replicas, else
    None."""
    ctx = distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None
    return getattr(ctx, "_keras_batch", (None, None))


def scale_loss(loss, share):
    """``loss`` times this replica's share of the global batch (``1/N`` without
    batch sizes, as Keras 2 does), so summed gradients are the global mean's."""
    if share is None:
        return loss
    local, total = share
    if local is None:
        n = distribute.get_replica_context().num_replicas_in_sync
        return _math.divide(loss, _math.cast(n, loss.dtype))
    return _math.multiply(loss, _math.cast(local / total, loss.dtype))


def empty_loss():
    """The loss of a replica whose shard is empty: a constant 0 (no gradient)."""
    return _array.zeros((), "float32")


def _rows(data):
    for leaf in tree.flatten(data):
        if isinstance(leaf, Tensor) and leaf._value.ndim:
            return int(leaf._value.shape[0])
    return 0


def _first_replica(outputs):
    return map_leaves(
        lambda v: v.values[0] if isinstance(v, distribute.PerReplica) else v, outputs)


class DistributedStep:
    """A Keras step function run over the replicas of ``strategy``.

    Args:
      model: the model.
      kind: 'train', 'test' or 'predict'.
      strategy: the model's multi-replica strategy.
    """

    def __init__(self, model, kind, strategy):
        self.model, self.kind, self.strategy = model, kind, strategy
        run = self._run
        self._fn = run if model.run_eagerly else _compile(run)

    def _replica(self, data, total):
        ctx = distribute.get_replica_context()
        ctx._keras_batch = (_rows(data), total)
        ctx._has_data = ctx._keras_batch[0] > 0  # empty shards do not vote in MEANs
        step = getattr(self.model, f"{self.kind}_step")
        if self.kind == "predict":
            return step(data)
        return self.model._run_step(step, data)  # the loss recorded once per replica

    def _run(self, per_replica_data, total):
        strategy = self.strategy
        outputs = strategy.run(self._replica, args=(per_replica_data, total))
        if self.kind == "predict":
            return map_leaves(
                lambda v: strategy.gather(v, axis=0)  # (a Tensor: one local replica)
                if isinstance(v, (distribute.PerReplica, Tensor)) else v, outputs)
        logs = _first_replica(outputs)
        if isinstance(logs, dict):  # metric results read across replicas (summed)
            merged = self.model.get_metrics_result()
            logs = {k: merged.get(k, v) for k, v in logs.items()}
            logs = strategy._combine_logs(logs)  # several workers: their mean
        return logs

    def __call__(self, data):
        devices = self.strategy.extended._replica_devices
        with self.strategy.scope():
            return self._fn(split_element(data, devices, self.strategy._input_worker),
                            global_rows(data))
