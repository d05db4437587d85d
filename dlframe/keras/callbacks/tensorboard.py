"""TensorBoard: event files (via tensorboardX) that TensorBoard reads.

Keras's layout: ``<log_dir>/train`` and ``<log_dir>/validation`` runs with
``epoch_<metric>`` scalars, ``batch_<metric>`` scalars when ``update_freq`` is
'batch' or an int, ``epoch_learning_rate``, and weight histograms every
``histogram_freq`` epochs. ``profile_batch`` profiles a range of training batches
with ``tf.profiler`` into ``<log_dir>/train/plugins/profile/``.
"""

import logging
import os

from dlframe.core.tensor import Tensor
from dlframe.errors import AlreadyExistsError
from dlframe.keras.callbacks.callback import Callback


def _writer(path):
    try:
        from tensorboardX import SummaryWriter
    except ImportError as e:  # pragma: no cover
        raise ImportError("The TensorBoard callback needs tensorboardX: "
                          "pip install 'dlframe[tensorboard]'") from e
    return SummaryWriter(logdir=path)


def _f(v):
    if isinstance(v, Tensor):
        v = v.numpy()
    return float(v)


class TensorBoard(Callback):
    """Writes training logs for TensorBoard.

    Args:
      log_dir: directory of the event files.
      histogram_freq: every how many epochs weight histograms are written (0: never).
      write_graph, write_images, embeddings_freq: accepted.
      profile_batch: profile this training batch (1-based count over all epochs),
        or the batches ``(start, stop)`` (also ``"start,stop"``) with
        ``tf.profiler``; 0 profiles nothing.
      update_freq: 'epoch', 'batch', or every this many batches.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True,
                 write_images=False, write_steps_per_second=False, update_freq="epoch",
                 profile_batch=0, embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._step = 0
        self._start_batch, self._stop_batch = _profile_range(profile_batch)
        self._should_trace = self._start_batch > 0
        self._is_tracing = False

    def _w(self, name):
        if name not in self._writers:
            self._writers[name] = _writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def _implements(self, *hooks):
        if "on_train_batch_end" in hooks or "on_train_batch_begin" in hooks:
            return isinstance(self.update_freq, int) or self._should_trace
        return super()._implements(*hooks)

    def on_train_begin(self, logs=None):
        self._step = 0

    def on_train_batch_begin(self, batch, logs=None):
        if not self._should_trace:
            return
        from dlframe.profiler import experimental as profiler
        if self._step + 1 == self._start_batch:
            try:
                profiler.start(os.path.join(self.log_dir, "train"))
                self._is_tracing = True
            except AlreadyExistsError as e:   # the user profiles already: as Keras,
                logging.getLogger("dlframe").error(   # log it and train on
                    "Failed to start profiler: %s", e)
                self._should_trace = False
                return
        if self._is_tracing:   # each profiled batch is a step region, as in Keras
            self._batch_trace = profiler.Trace("Profiled batch", step_num=batch)
            self._batch_trace.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._is_tracing:
            self._batch_trace.__exit__(None, None, None)
            if self._step >= self._stop_batch:
                self._stop_profiler()
        if isinstance(self.update_freq, int) and self._step % self.update_freq == 0:
            w = self._w("train")
            for k, v in (logs or {}).items():
                w.add_scalar(f"batch_{k}", _f(v), self._step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train, val = self._w("train"), None
        for k, v in logs.items():
            if k.startswith("val_"):
                val = val or self._w("validation")
                val.add_scalar(f"epoch_{k[4:]}", _f(v), epoch)
            else:
                train.add_scalar(f"epoch_{k}", _f(v), epoch)
        opt = getattr(self.model, "optimizer", None)
        if opt is not None and "learning_rate" not in logs:
            train.add_scalar("epoch_learning_rate", _f(opt.learning_rate), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for layer in getattr(self.model, "layers", []):
                for wt in layer.weights:
                    name = wt.name.split(":")[0].replace("/", "_")
                    train.add_histogram(f"{layer.name}/{name}", wt.numpy(), epoch)
        for w in self._writers.values():
            w.flush()

    def _stop_profiler(self):
        from dlframe.profiler import experimental as profiler
        self._is_tracing = self._should_trace = False
        profiler.stop()

    def on_train_end(self, logs=None):
        if self._is_tracing:
            self._stop_profiler()
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _profile_range(profile_batch):
    """(start, stop) training batches to profile, (0, 0) for none (as Keras parses)."""
    error = ValueError(
        "profile_batch must be a non-negative integer or 2-tuple of positive "
        "integers. A pair of positive integers signifies a range of batches to "
        f"profile. Found: {profile_batch}")
    if isinstance(profile_batch, str):
        profile_batch = tuple(int(p) for p in profile_batch.split(","))
    if isinstance(profile_batch, int) and not isinstance(profile_batch, bool):
        start = stop = profile_batch
    elif (isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2
          and all(isinstance(p, int) for p in profile_batch)):
        start, stop = profile_batch
    else:
        raise error
    if start < 0 or stop < start:
        raise error
    return start, stop
