"""TensorBoard: event files written through ``tf.summary`` that TensorBoard reads.

Keras 3's layout: ``<log_dir>/train`` and ``<log_dir>/validation`` runs with
``epoch_<metric>`` scalars (``epoch_learning_rate`` from the optimizer),
``batch_<metric>`` scalars every ``update_freq`` training batches (counted over the
whole ``fit``), ``evaluation_<metric>_vs_iterations`` at the end of every evaluation
(step: the optimizer's iterations), ``<weight path>/histogram`` (and ``/image`` with
``write_images``) every ``histogram_freq`` epochs, and the model's JSON config under
the tag ``keras`` for TensorBoard's conceptual graph. ``profile_batch`` profiles a
range of training batches with ``tf.profiler`` into ``<log_dir>/train/plugins/profile/``.

With ``update_freq`` other than 'epoch', ``tf.summary`` calls made inside
``train_step``/``test_step`` (or a layer's ``call``) go to the ``train``/``validation``
writer with the 1-based training/test batch count as their step, recorded every
``update_freq`` batches. The step is a Variable and the record condition a tensor
computed from it, so a compiled step reads both each time it runs (TF 2.21's Keras 3
fixes a Python step and condition at the first trace).
"""

import contextlib
import logging
import os
import time

from dlframe.core.tensor import Tensor
from dlframe.errors import AlreadyExistsError
from dlframe.keras.callbacks.callback import Callback


def _f(v):
    if isinstance(v, Tensor):
        v = v.numpy()
    return float(v)


def _keras_graph_metadata():
    from tensorboardX.proto import summary_pb2
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
        plugin_name="graph_keras_model", content=b"1"))


def weight_image(weight):
    """A weight laid out as a batch of grey images ``(n, h, w, 1)`` for TensorBoard, or
    None when it has no 2-D picture (Keras's rule: a bias is one row, a matrix is shown
    wide, a 3-D kernel is one image per last-axis slice)."""
    value = weight.numpy() if isinstance(weight, Tensor) else weight
    value = value.squeeze()
    if value.ndim == 1:
        value = value.reshape(1, value.shape[0], 1, 1)
    elif value.ndim == 2:
        if value.shape[0] > value.shape[1]:
            value = value.T
        value = value.reshape(1, value.shape[0], value.shape[1], 1)
    elif value.ndim == 3:
        from dlframe.keras import backend
        if backend.image_data_format() == "channels_last":
            value = value.transpose(2, 0, 1)
        value = value.reshape(value.shape + (1,))
    if value.ndim == 4 and value.shape[-1] in (1, 3, 4):
        return value
    return None


class TensorBoard(Callback):
    """Writes training logs for TensorBoard.

    Args:
      log_dir: directory of the event files (runs ``train`` and ``validation``).
      histogram_freq: every how many epochs weight histograms are written (0: never).
      write_graph: write the model's config (Sequential and functional models) for
        TensorBoard's graph dashboard.
      write_images: also write each weight as an image with its histogram.
      write_steps_per_second: also write ``batch_steps_per_second`` and
        ``epoch_steps_per_second``.
      update_freq: 'epoch', 'batch', or every this many training batches.
      profile_batch: profile this training batch (1-based count over all epochs),
        or the batches ``(start, stop)`` (also ``"start,stop"``) with
        ``tf.profiler``; 0 profiles nothing.
      embeddings_freq: every how many epochs the weights are saved to
        ``train/keras_embedding.ckpt-<epoch>.weights.h5`` for the projector.
      embeddings_metadata: accepted for compatibility.

    Raises:
      ValueError: a bad ``update_freq`` or ``profile_batch``.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True,
                 write_images=False, write_steps_per_second=False, update_freq="epoch",
                 profile_batch=0, embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self.update_freq = _check_update_freq(update_freq)
        self._writers = {}
        self._step = 0
        self._start_batch, self._stop_batch = _profile_range(profile_batch)
        self._should_trace = self._start_batch > 0
        self._is_tracing = False
        self._batch_start = self._epoch_start = None
        self._epoch_start_iterations = 0
        self._summary_steps = {}       # run -> int64 step Variable of custom summaries
        self._test_batches = 0
        self._contexts = []            # entered (writer.as_default, record_if) pairs

    def _w(self, name):
        if name not in self._writers:
            from dlframe import summary
            self._writers[name] = summary.create_file_writer(
                os.path.join(self.log_dir, name))
        return self._writers[name]

    @contextlib.contextmanager
    def _writing(self, run):
        """``run``'s writer as the default, recording whatever ``record_if`` the
        model's steps use (the callback's own summaries are always written, as in
        Keras 2; Keras 3 drops its epoch summaries at an int ``update_freq``)."""
        from dlframe import summary
        with self._w(run).as_default(), summary.record_if(True):
            yield

    def _scalars(self, run, prefix, logs, step, suffix=""):
        from dlframe import summary
        with self._writing(run):
            for k, v in logs.items():
                summary.scalar(f"{prefix}{k}{suffix}", _f(v), step=step)

    def _implements(self, *hooks):
        if "on_train_batch_end" in hooks or "on_train_batch_begin" in hooks:
            return (self.update_freq != "epoch" or self._should_trace
                    or self.write_steps_per_second)
        if "on_test_batch_begin" in hooks:
            return self.update_freq != "epoch"
        return super()._implements(*hooks)

    def set_model(self, model):
        super().set_model(model)
        self._writers = {}
        if self.write_graph:
            self._write_model_config(model)

    def _write_model_config(self, model):
        if not getattr(model, "_is_graph_network", False) and \
                type(model).__name__ != "Sequential":
            return   # subclassed models have no config graph (as in Keras)
        try:
            config = model.to_json()
        except (TypeError, ValueError, NotImplementedError):   # no config: no graph
            return
        from dlframe import summary
        with self._writing("train"):
            summary.write("keras", [config], step=0,
                          metadata=_keras_graph_metadata())

    def _summary_step(self, run):
        if run not in self._summary_steps:
            from dlframe.core import dtypes
            from dlframe.core.variable import Variable
            self._summary_steps[run] = Variable(0, dtype=dtypes.int64, trainable=False,
                                                name=f"tensorboard_{run}_step")
        return self._summary_steps[run]

    def _push_writer(self, run):
        """Makes ``run``'s writer the default for summaries written by the model's
        steps, with this callback's step Variable and an every-``update_freq``
        condition computed from it."""
        if self.update_freq == "epoch":
            return
        from dlframe import summary
        step, freq = self._summary_step(run), self.update_freq
        contexts = (self._w(run).as_default(step=step),
                    summary.record_if(lambda: step % freq == 0))
        for context in contexts:
            context.__enter__()
        self._contexts.append(contexts)

    def _pop_writer(self):
        if self.update_freq == "epoch" or not self._contexts:
            return
        for context in reversed(self._contexts.pop()):
            context.__exit__(None, None, None)

    def on_train_begin(self, logs=None):
        self._step = 0
        self._summary_step("train").assign(0)
        self._push_writer("train")

    def on_test_begin(self, logs=None):
        self._push_writer("validation")

    def on_test_batch_begin(self, batch, logs=None):
        self._test_batches += 1
        if self.update_freq != "epoch":
            self._summary_step("validation").assign(self._test_batches)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = time.time()
            self._epoch_start_iterations = self._iterations()

    def _iterations(self):
        opt = getattr(self.model, "optimizer", None)
        it = getattr(opt, "iterations", None)
        return None if it is None else int(_f(it))

    def on_train_batch_begin(self, batch, logs=None):
        self._step += 1
        if self.update_freq != "epoch":
            self._summary_step("train").assign(self._step)
        if self.write_steps_per_second:
            self._batch_start = time.time()
        if not self._should_trace:
            return
        from dlframe.profiler import experimental as profiler
        if self._step == self._start_batch:
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
        if self._is_tracing:
            self._batch_trace.__exit__(None, None, None)
            if self._step >= self._stop_batch:
                self._stop_profiler()
        if self.update_freq == "epoch" or self._step % self.update_freq:
            return
        logs = dict(logs or {})
        if self.write_steps_per_second and self._batch_start is not None:
            logs["steps_per_second"] = 1.0 / max(time.time() - self._batch_start, 1e-9)
        self._scalars("train", "batch_", logs, self._step)

    def on_test_end(self, logs=None):
        self._pop_writer()
        step = self._iterations()
        if step is not None and logs:
            self._scalars("validation", "evaluation_", logs, step, "_vs_iterations")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train.update(self._learning_rates())
        if self.write_steps_per_second and self._epoch_start is not None:
            steps = (self._iterations() or 0) - (self._epoch_start_iterations or 0)
            train["steps_per_second"] = steps / max(time.time() - self._epoch_start,
                                                    1e-9)
        if train:
            self._scalars("train", "epoch_", train, epoch)
        if val:
            self._scalars("validation", "epoch_", val, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self.model.save_weights(os.path.join(
                self.log_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5"))
        for w in self._writers.values():
            w.flush()

    def _learning_rates(self):
        opt = getattr(self.model, "optimizer", None)
        opt = getattr(opt, "inner_optimizer", opt)   # a LossScaleOptimizer's inner one
        if opt is None:
            return {}
        subs = getattr(opt, "optimizers", None)
        if subs:
            return {f"learning_rate_{o.name}": _f(o.learning_rate) for o in subs}
        try:
            return {"learning_rate": _f(opt.learning_rate)}
        except (AttributeError, TypeError, ValueError):
            return {}

    def _log_weights(self, epoch):
        from dlframe import summary
        with self._writing("train"):
            for layer in getattr(self.model, "layers", []):
                for weight in layer.weights:
                    tag = weight.path.replace(":", "_")
                    summary.histogram(f"{tag}/histogram", weight, step=epoch)
                    image = weight_image(weight) if self.write_images else None
                    if image is not None:
                        summary.image(f"{tag}/image", image, step=epoch)

    def _stop_profiler(self):
        from dlframe.profiler import experimental as profiler
        self._is_tracing = self._should_trace = False
        profiler.stop()

    def on_train_end(self, logs=None):
        self._pop_writer()
        if self._is_tracing:
            self._stop_profiler()
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _check_update_freq(update_freq):
    if update_freq == "batch":
        return 1
    if update_freq == "epoch":
        return "epoch"
    if isinstance(update_freq, int) and not isinstance(update_freq, bool) \
            and update_freq > 0:
        return update_freq
    raise ValueError("Unrecognized update_freq: expected 'batch', 'epoch' or a "
                     f"positive integer, received: update_freq={update_freq!r}")


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
