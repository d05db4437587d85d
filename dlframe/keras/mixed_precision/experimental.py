"""``keras.mixed_precision.experimental``: the TF 2.1-2.3 mixed precision API.

``Policy`` takes a ``loss_scale``, ``set_policy``/``global_policy`` set and read
the global policy, and ``LossScaleOptimizer(optimizer, loss_scale)`` takes
``'dynamic'`` or a fixed number. All map onto ``keras.mixed_precision``.
"""

import numbers

from dlframe.keras import mixed_precision as _mp


def _check_loss_scale(loss_scale, words):
    """Raises ValueError unless ``loss_scale`` is in ``words`` or a positive number."""
    number = isinstance(loss_scale, numbers.Real) and not isinstance(loss_scale, bool)
    if not ((number and loss_scale > 0) or (not number and loss_scale in words)):
        raise ValueError("Invalid value for argument `loss_scale`: expected one of "
                         f"{words} or a positive number. Received: "
                         f"loss_scale={loss_scale!r}")


class Policy(_mp.Policy):
    """A dtype policy carrying the loss scale ``Model.compile`` uses (TF 2.1-2.3).

    Args:
      name: as ``keras.mixed_precision.Policy`` ('mixed_float16', 'float32', ...).
      loss_scale: 'auto' (dynamic for 'mixed_float16', None otherwise),
        'dynamic', a positive number (a fixed scale) or None.

    Raises:
      ValueError: ``name`` or ``loss_scale`` is invalid.
    """

    def __init__(self, name, loss_scale="auto"):
        super().__init__(name)
        _check_loss_scale(loss_scale, ("auto", "dynamic", None))
        if loss_scale == "auto":
            loss_scale = "dynamic" if name == "mixed_float16" else None
        self._loss_scale = loss_scale

    @property
    def loss_scale(self):
        """'dynamic', a fixed number, or None."""
        return self._loss_scale

    def __repr__(self):
        return f'<Policy "{self.name}", loss_scale={self._loss_scale!r}>'

    def get_config(self):
        return {"name": self.name, "loss_scale": self._loss_scale}


def set_policy(policy):
    """Sets the global dtype policy (a Policy or a policy name; None: floatx)."""
    _mp.set_global_policy(policy)


def global_policy():
    """The global dtype policy."""
    return _mp.global_policy()


def get_layer_policy(layer):
    """The dtype policy of ``layer``.

    Raises:
      ValueError: ``layer`` is not a Layer.
    """
    policy = getattr(layer, "dtype_policy", None)
    if not isinstance(policy, _mp.Policy):
        raise ValueError(  # noqa: TRY004 - TF's error type
            f"get_policy can only be called on a layer, but got: {layer!r}")
    return policy


def LossScaleOptimizer(optimizer, loss_scale):
    """An optimizer applying loss scaling (the TF 2.1-2.3 signature).

    Args:
      optimizer: the Optimizer doing the updates.
      loss_scale: 'dynamic' (start at 2**15, adapt to the gradients) or a positive
        number (a fixed scale).

    Returns:
      A ``keras.mixed_precision.LossScaleOptimizer``.

    Raises:
      ValueError: ``loss_scale`` is neither 'dynamic' nor a positive number.
    """
    _check_loss_scale(loss_scale, ("dynamic",))
    if loss_scale == "dynamic":
        return _mp.LossScaleOptimizer(optimizer)
    return _mp.LossScaleOptimizer(optimizer, dynamic=False, initial_scale=loss_scale)
