"""``tf.profiler.experimental.server``: the gRPC profiler service (not available)."""

from dlframe.errors import UnimplementedError


def start(port):
    """Would start a gRPC profiler server on ``port``; dlframe has none.

    Args:
      port: the port TensorFlow's server would listen on.

    Raises:
      UnimplementedError: always; profile in-process with
        ``tf.profiler.experimental.start(logdir)`` / ``stop()`` instead.
    """
    raise UnimplementedError(
        None, None, f"tf.profiler.experimental.server.start(port={port!r}): dlframe has "
        "no gRPC profiler server; profile in-process with "
        "tf.profiler.experimental.start(logdir) / stop(), or Profile(logdir).")


__all__ = ["start"]
