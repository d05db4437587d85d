"""A layer's extra losses and metrics: ``add_loss``, ``losses`` and ``add_metric``.

Mixed into ``Layer``. Losses added during a call live until the next outermost call;
weight-regularization penalties are zero-argument callables evaluated on each read.
"""

import weakref

from dlframe.core.tensor import Tensor, convert_to_tensor
from dlframe.keras.engine.base_layer_utils import in_dry_run
from dlframe.keras.engine.keras_tensor import KerasTensor
from dlframe.keras.utils import tree

# Layers whose ``_losses`` list is not empty: while there are none, the outermost
# call skips walking the layer tree to clear them (most models add no losses).
_LAYERS_WITH_LOSSES = weakref.WeakSet()


class LayerLossesMixin:
    """``add_loss``/``losses``/``add_metric``/``add_update`` of ``Layer``."""

    # -- losses --------------------------------------------------------------
    def add_loss(self, losses, inputs=None, **kwargs):
        """Adds a loss tensor (or zero-argument callable) to ``layer.losses``."""
        for loss in tree.flatten(losses):
            if loss is None:
                continue
            if callable(loss) and not isinstance(loss, Tensor):
                self._callable_losses.append(loss)
            elif isinstance(loss, KerasTensor):
                self._add_symbolic_loss(loss)
            elif not in_dry_run():   # a shape-inference run adds no real loss
                self._losses.append(convert_to_tensor(loss))
                _LAYERS_WITH_LOSSES.add(self)

    def _add_symbolic_loss(self, loss):
        raise ValueError(
            f"add_loss received a symbolic (functional) tensor {loss!r} on layer "
            f"{self.name!r}; only a functional Model can hold one (Keras 2's "
            "`model.add_loss(tensor)`). Add the loss inside a layer's call instead.")

    @property
    def losses(self):
        """Activity/`add_loss` losses of the last call plus weight regularization."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            for fn in layer._callable_losses:
                value = fn()
                if value is not None:
                    out.append(convert_to_tensor(value))
        return out

    def _clear_losses(self):
        if not _LAYERS_WITH_LOSSES:
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []
            _LAYERS_WITH_LOSSES.discard(layer)

    def add_metric(self, value, name=None, aggregation=None, **kwargs):
        """Keras 2's ``add_metric``: reports the running mean of ``value`` under
        ``name`` (``fit``/``evaluate`` logs, ``layer.metrics``).

        Args:
          value: a tensor computed in ``call`` (or, on a functional Model, a
            symbolic tensor of its graph).
          name: the metric's name in the logs (required).
          aggregation: None or 'mean' (values are averaged over the epoch).
        """
        if aggregation not in (None, "mean"):
            raise ValueError(f"We currently support only `mean` sample-wise metric "
                             f"aggregation. You provided aggregation={aggregation!r}")
        if not name:
            raise ValueError("Please provide a name for your metric like "
                             "`self.add_metric(tf.reduce_sum(inputs), "
                             f"name='mean_activation')`. Received: name={name!r}")
        if isinstance(value, KerasTensor):
            self._add_symbolic_metric(value, name)
            return
        metric = self._added_metric(name)
        if not in_dry_run():
            metric.update_state(value)

    def _added_metric(self, name):
        """The ``Mean`` behind ``add_metric(..., name=name)`` (made on first use; held
        in an attribute, so ``metrics`` and ``fit``'s logs list it)."""
        from dlframe.keras.metrics import Mean
        added = self.__dict__.setdefault("_added_metrics", [])
        metric = next((m for m in added if m.name == name), None)
        if metric is None:
            metric = Mean(name=name)
            added.append(metric)
        return metric

    def _add_symbolic_metric(self, value, name):
        raise ValueError(
            f"add_metric received a symbolic (functional) tensor {value!r} on layer "
            f"{self.name!r}; only a functional Model can hold one. Add the metric "
            "inside a layer's call instead.")

    def add_update(self, updates, inputs=None):
        pass
