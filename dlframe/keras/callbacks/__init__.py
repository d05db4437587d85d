"""``keras.callbacks``."""

from dlframe.keras.callbacks.callback import Callback, CallbackList  # noqa: F401
from dlframe.keras.callbacks.history import History  # noqa: F401
from dlframe.keras.callbacks.progbar_logger import Progbar, ProgbarLogger  # noqa: F401
