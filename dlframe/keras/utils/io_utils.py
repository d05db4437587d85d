"""Where Keras's console output goes: stdout, or the ``dlframe`` logger.

Interactive logging (the default) writes progress bars and messages to stdout;
``disable_interactive_logging()`` routes them through ``logging`` at INFO level on
the ``dlframe`` logger (``tf.get_logger()``), as Keras routes them through absl.
"""

import logging
import sys
import threading


class _State(threading.local):
    def __init__(self):
        self.interactive = True


_STATE = _State()


def enable_interactive_logging():
    """Sends Keras messages (progress bars, epoch lines) to stdout."""
    _STATE.interactive = True


def disable_interactive_logging():
    """Sends Keras messages to the ``dlframe`` logger at INFO level instead."""
    _STATE.interactive = False


def is_interactive_logging_enabled():
    """Whether Keras messages go to stdout (True) or to logging (False)."""
    return _STATE.interactive


def print_msg(message, line_break=True):
    """Prints ``message`` to stdout, or logs it when interactive logging is off.

    Args:
      message: the text.
      line_break: append a newline (stdout only; each log record is one message).
    """
    message = str(message)
    if _STATE.interactive:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        text = message.strip("\r\n")
        if text:
            logging.getLogger("dlframe").info(text)
