"""``keras.callbacks``."""

from dlframe.keras.callbacks import experimental  # noqa: F401 - TF 2.4-2.15 alias
from dlframe.keras.callbacks.callback import Callback, CallbackList
from dlframe.keras.callbacks.checkpoint import BackupAndRestore, ModelCheckpoint
from dlframe.keras.callbacks.history import History
from dlframe.keras.callbacks.monitor import (
                                             CSVLogger,
                                             EarlyStopping,
                                             LambdaCallback,
                                             LearningRateScheduler,
                                             ReduceLROnPlateau,
                                             TerminateOnNaN,
)
from dlframe.keras.callbacks.progbar_logger import Progbar, ProgbarLogger  # noqa: F401
from dlframe.keras.callbacks.remote_monitor import RemoteMonitor
from dlframe.keras.callbacks.swap_ema_weights import SwapEMAWeights
from dlframe.keras.callbacks.tensorboard import TensorBoard

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "SwapEMAWeights",
           "TensorBoard", "TerminateOnNaN"]
