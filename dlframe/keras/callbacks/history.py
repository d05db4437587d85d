"""History: records every epoch's logs (returned by ``fit``)."""

from dlframe.keras.callbacks.callback import Callback


class History(Callback):
    """``history.history[name]`` is the list of per-epoch values; ``history.epoch`` the
    epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self
