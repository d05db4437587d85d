"""Checks ``fit``/``evaluate`` run on the first batch before any weight changes, so
bad labels, shapes, string inputs and metric choices fail early with clear messages
(mixed into ``TrainingMixin``)."""

from dlframe.core import dtypes
from dlframe.core.tensor import Tensor
from dlframe.errors import InvalidArgumentError
from dlframe.keras.engine import training_data as data_mod
from dlframe.keras.engine.training_compile import _flat_like
from dlframe.keras.engine.training_steps import StepsMixin
from dlframe.keras.utils import tree
from dlframe.ops import reduction as _red


class LabelRangeError(InvalidArgumentError, ValueError):
    """Sparse labels outside ``[0, num_classes)`` (TF raises InvalidArgumentError)."""


class FirstBatchChecksMixin:
    """``_check_first_batch`` and the checks it runs."""

    # -- checks before the first step ---------------------------------------------
    def _check_string_inputs(self, x):
        """Text reaches only models whose declared inputs are strings (e.g. an
        ``Input(dtype=tf.string)`` feeding TextVectorization); subclassed models, which
        declare nothing, get the data as TF gives it to them."""
        declared = getattr(self, "inputs", None) or []
        takes_text = not declared or any(getattr(t, "dtype", None) == dtypes.string
                                          for t in tree.flatten(declared))
        for leaf in tree.flatten(x):
            if isinstance(leaf, Tensor) and leaf.dtype == dtypes.string and not takes_text:
                sample = leaf.numpy().reshape(-1)[:1].tolist()
                raise ValueError(
                    f"Invalid dtype for argument `x`: expected numeric data, received string "
                    f"values (first value: {sample}); the model's inputs are "
                    f"{[getattr(t, 'dtype', None) for t in tree.flatten(declared)]}. "
                    "Convert them to numbers, or start the model with "
                    "keras.Input(dtype=tf.string) and a TextVectorization layer.")

    def _uses_default_step(self, step):
        """Whether ``step`` ('train_step'/'test_step') is Keras's own: a user's step
        may take any data structure and the model need not be callable (a GAN)."""
        return getattr(type(self), step) is getattr(StepsMixin, step)

    def _check_first_batch(self, batch, full_y=None, step="train_step"):
        """Checks made before the first step, without running the model on data it
        will not train on (so ``call()``'s side effects happen as often as in TF):
        string inputs, and sparse labels against the model's declared output sizes
        (``full_y``: all labels of array data), so bad labels fail before any weight
        changes. A model not built yet (subclassed) is built on its first batch, as
        Keras builds it; stateful models build in their first step instead, so no
        batch advances their RNN states."""
        if batch is None or not self._uses_default_step(step):
            return
        x, y, _ = data_mod.unpack_x_y_sample_weight(batch)
        self._check_string_inputs(x)
        if not self.built and not self.stateful:
            self(x, training=False)
        if y is not None and self._is_compiled:
            outputs = getattr(self, "_nested_outputs", None)
            if outputs is not None:
                if not self.compiled_loss.built:
                    self.compiled_loss.build(y, outputs)
                self._check_sparse_labels(y, outputs, full_y=full_y)
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def _check_sparse_labels(self, y, y_pred, full_y=None):
        losses = self.compiled_loss.losses if self.compiled_loss.built else []
        flat_pred = tree.flatten(y_pred)
        # labels in the order of the outputs (a dict of labels is keyed by output name)
        flat_y = _flat_like(full_y if full_y is not None else y, y_pred,
                            getattr(self.compiled_loss, "_names", []))
        from dlframe.keras import losses as losses_mod
        for i, loss in enumerate(losses):
            if getattr(loss, "fn", None) is not losses_mod.sparse_categorical_crossentropy:
                continue
            if i >= len(flat_y) or i >= len(flat_pred):
                continue
            labels, n = flat_y[i], flat_pred[i].shape[-1]
            if n is None:
                continue
            ignore = getattr(loss, "_fn_kwargs", {}).get("ignore_class")
            lo = float(_red.reduce_min(labels).numpy())
            hi = float(_red.reduce_max(labels).numpy())
            if (lo < 0 and lo != ignore) or hi >= n:
                bad = hi if hi >= n else lo
                raise LabelRangeError(
                    None, None,
                    f"Received a label value of {bad:g} which is outside the valid range "
                    f"of [0, {n}) in argument `y` (sparse categorical cross-entropy over "
                    f"{n} model outputs). Label values range over [{lo:g}, {hi:g}].")
