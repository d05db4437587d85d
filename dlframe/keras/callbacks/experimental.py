"""``keras.callbacks.experimental`` (TF 2.4-2.15): the pre-2.8 home of
``BackupAndRestore``, kept as an alias of ``keras.callbacks.BackupAndRestore``."""

from dlframe.keras.callbacks.checkpoint import BackupAndRestore

__all__ = ["BackupAndRestore"]
