"""History: records every epoch's logs (returned by ``fit``)."""

from dlframe.keras.callbacks.callback import Callback

# Keras 2 logged the learning rate as "lr", Keras 3 as "learning_rate"; the logs use
# the Keras 3 name and the old one still reads it.
_KERAS2_ALIASES = {"lr": "learning_rate", "val_lr": "val_learning_rate"}


class _HistoryDict(dict):
    """A dict of per-epoch lists where the Keras 2 key ``"lr"`` reads
    ``"learning_rate"`` (it is not listed among the keys)."""

    def __missing__(self, key):
        alias = _KERAS2_ALIASES.get(key)
        if alias is not None and dict.__contains__(self, alias):
            return self[alias]
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or (
            key in _KERAS2_ALIASES and dict.__contains__(self, _KERAS2_ALIASES[key]))

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class History(Callback):
    """``history.history[name]`` is the list of per-epoch values; ``history.epoch`` the
    epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = _HistoryDict()
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
