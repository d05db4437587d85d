"""``SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's
moving averages of the weights (Polyak averaging, ``use_ema=True``)."""

from dlframe.keras.callbacks.callback import Callback


def _ema_optimizer(model):
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)   # loss scaling
    use_ema = getattr(optimizer, "use_ema", False)
    if not use_ema:
        raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on "
                         f"the optimizer. Received: use_ema={use_ema}")
    return optimizer


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's EMA weights around evaluation.

    Before ``evaluate``/``predict`` (and validation inside ``fit``) the trainable
    weights and their moving averages trade values in place; afterwards they trade
    back, so training continues from the raw weights.

    Args:
      swap_on_epoch: also swap at the end of each epoch (and back at the start of
        the next), so callbacks listed after this one, such as ``ModelCheckpoint``,
        see the EMA weights.

    Raises:
      ValueError: (when swapping) the optimizer was not built with ``use_ema=True``.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._swapped = False        # the model holds the EMA values now
        self._swapped_here = False   # evaluate/predict did the current swap

    def _swap(self):
        optimizer = _ema_optimizer(self.model)
        if not optimizer.built:
            raise ValueError("SwapEMAWeights needs a built optimizer (its EMA weights "
                             "exist after the first training step); the model's "
                             "optimizer has not been built yet.")
        for var in self.model.trainable_variables:
            index = optimizer._index.get(id(var))
            if index is None:
                continue
            average = optimizer._averages[index]
            value = var.read_value()
            var.assign(average)
            average.assign(value)
        self._swapped = not self._swapped

    def _swap_in(self):
        if not self._swapped:
            self._swap()
            self._swapped_here = True

    def _swap_out(self):
        if self._swapped and self._swapped_here:
            self._swap()
        self._swapped_here = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._swapped:
            self._swap()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._swapped:
            self._swap()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        self._swap_out()
