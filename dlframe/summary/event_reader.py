"""Reading event files back: TF1's ``tf.compat.v1.train.summary_iterator``."""

from dlframe.io.tfrecord import read_records


def _event_class():
    try:
        from tensorboardX.proto import event_pb2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading event files needs tensorboardX: "
                          "pip install 'dlframe[tensorboard]'") from e
    return event_pb2.Event


def summary_iterator(path):
    """Yields the ``Event`` protocol buffers of one event file, in order.

    Args:
      path: an ``events.out.tfevents.*`` file written by a summary writer.

    Yields:
      ``Event`` messages (``wall_time``, ``step``, ``file_version`` or
      ``summary.value[i]`` with ``tag`` and ``tensor``/``simple_value``).
    """
    event = _event_class()
    for record in read_records(path):
        yield event.FromString(record)
