"""``Callback`` (every hook of Keras) and ``CallbackList`` (dispatch to many)."""


class Callback:
    """Base class of callbacks: override any ``on_*`` hook.

    Attributes:
      model: the model being trained (set by ``set_model``).
      params: ``{'verbose', 'epochs', 'steps'}`` of the running ``fit`` (None
        before ``set_params``, as Keras 3).
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Alias of ``on_train_batch_begin`` (Keras 1 name)."""

    def on_batch_end(self, batch, logs=None):
        """Alias of ``on_train_batch_end`` (Keras 1 name)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with the epoch's (and validation) metrics."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before a batch of ``evaluate`` (or of validation in ``fit``)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after a batch of ``evaluate`` with the running metrics."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before a batch of ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after a batch of ``predict`` with ``{'outputs': ...}``."""

    def on_train_begin(self, logs=None):
        """Called at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called at the end of ``fit`` with the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate``."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` with its results."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""

    def _implements(self, *hooks):
        cls = type(self)
        return any(getattr(cls, h) is not getattr(Callback, h) for h in hooks)


_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
              "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class CallbackList:
    """Calls every hook on a list of callbacks; adds History and the progress bar.

    Batch hooks are only dispatched to callbacks that override them, so a fit
    without batch-level callbacks pays no per-step Python for them.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        from dlframe.keras.callbacks.history import History
        from dlframe.keras.callbacks.progbar_logger import ProgbarLogger
        if isinstance(callbacks, Callback):   # Keras takes a lone callback too
            callbacks = [callbacks]
        self.callbacks = list(callbacks or [])
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self._history = History()
            self.callbacks.append(self._history)
        else:
            self._history = next((c for c in self.callbacks if isinstance(c, History)),
                                 None)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger(count_mode="steps"))
        self.model = model
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._refresh()

    def _refresh(self):
        self._batch = {mode: [c for c in self.callbacks if not isinstance(c, Callback) or
                              c._implements(*hooks)]
                       for mode, hooks in _BATCH_HOOKS.items()}

    def append(self, callback):
        self.callbacks.append(callback)
        self._refresh()

    def set_params(self, params):
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def set_model(self, model):
        self.model = model
        if self._history is not None:
            model.history = self._history
        for c in self.callbacks:
            c.set_model(model)

    def needs_batch_logs(self, mode):
        return bool(self._batch[mode])

    def _call(self, name, *args):
        if args[-1] is None:    # callbacks always receive a dict, as in Keras
            args = args[:-1] + ({},)
        for c in self.callbacks:
            getattr(c, name)(*args)

    def _call_batch(self, mode, name, batch, logs):
        # as in Keras, batch logs reach callbacks as Python floats, not tensors
        logs = _pythonify(logs) if logs else {}
        for c in self._batch[mode]:
            getattr(c, name)(batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("train", "on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("train", "on_train_batch_end", batch, logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("test", "on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("test", "on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("predict", "on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("predict", "on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


def _pythonify(logs):
    """``logs`` with scalar tensors as Python floats (other tensors as NumPy)."""
    out = {}
    for key, value in logs.items():
        if hasattr(value, "numpy") and not isinstance(value, (list, tuple, dict)):
            value = value.numpy()
            if getattr(value, "ndim", None) == 0:
                value = value.item()
        out[key] = value
    return out
