"""``tf.profiler.experimental.client``: remote profiling over gRPC.

dlframe runs no profiler service (``server.start`` raises), so there is never a
server to connect to: both functions raise ``ProfilerServiceUnavailableError``
after validating their arguments. Profile in-process with
``tf.profiler.experimental.start``/``stop`` instead.
"""

from dlframe.errors import InvalidArgumentError, UnavailableError


class ProfilerServiceUnavailableError(UnavailableError, RuntimeError):
    """No profiler service answers. TensorFlow raises ``RuntimeError('UNAVAILABLE:
    ...')`` here; this subclasses both so either ``except`` catches it."""


def _no_service(service_addr):
    if not isinstance(service_addr, str) or ":" not in service_addr:
        raise InvalidArgumentError(
            None, None, f"service_addr: could not interpret {service_addr!r} as a "
            "host-port pair.")
    raise ProfilerServiceUnavailableError(
        None, None, f"UNAVAILABLE: no profiler service at {service_addr!r}: dlframe has "
        "no gRPC profiler server; profile in-process with "
        "tf.profiler.experimental.start(logdir) / stop().")


def trace(service_addr, logdir, duration_ms, worker_list="", num_tracing_attempts=3,
          options=None):
    """Would capture a trace from a remote profiler service; always raises here.

    Args:
      service_addr: ``"grpc://host:port"`` of the profiler service.
      logdir: where the trace would be written.
      duration_ms: capture length in milliseconds (positive).
      worker_list: TPU workers (accepted).
      num_tracing_attempts: retries (accepted).
      options: ``ProfilerOptions`` (accepted).

    Raises:
      ValueError: ``duration_ms`` is not positive.
      InvalidArgumentError: ``service_addr`` is not a host:port address.
      ProfilerServiceUnavailableError: always otherwise (no profiler service).
    """
    if not duration_ms or duration_ms <= 0:
        raise ValueError(f"duration_ms must be greater than zero, got {duration_ms!r}")
    _no_service(service_addr)


def monitor(service_addr, duration_ms, level=1):
    """Would sample monitoring data from a remote profiler service; always raises.

    Args:
      service_addr: ``"grpc://host:port"`` of the profiler service.
      duration_ms: sampling length in milliseconds.
      level: monitoring detail level.

    Raises:
      InvalidArgumentError: ``service_addr`` is not a host:port address.
      ProfilerServiceUnavailableError: always otherwise (no profiler service).
    """
    _no_service(service_addr)


__all__ = ["monitor", "trace"]
