"""``tf.keras.utils.experimental.DatasetCreator``: a function that builds the input
dataset, passed to ``Model.fit`` in place of a dataset (Keras 2's input type for
``ParameterServerStrategy``, accepted under every strategy).

``fit`` calls ``dataset_fn(input_context)`` once, with one input pipeline, and
iterates the dataset it returns, ``steps_per_epoch`` batches per epoch (required:
a created dataset is usually infinite). The context reports one replica, so
``input_context.get_per_replica_batch_size(global_batch)`` is the global batch,
which a multi-replica strategy then splits over its replicas -- the same rows per
replica as TF's per-replica pipelines.
"""

from dlframe.distribute.input import InputContext, InputOptions

_NEEDS_STEPS = ("When using a `tf.keras.utils.experimental.DatasetCreator`, "
                "`steps_per_epoch`, `validation_steps` or `steps` argument must be "
                "provided in `Model.fit`, `Model.evaluate`, or `Model.predict`.")


class DatasetCreator:
    """Wraps ``dataset_fn(input_context) -> tf.data.Dataset`` for ``Model.fit``.

    Args:
      dataset_fn: a callable taking a ``tf.distribute.InputContext`` and returning
        a dataset.
      input_options: an optional ``tf.distribute.InputOptions``.

    Raises:
      TypeError: when ``dataset_fn`` is not callable or ``input_options`` is not an
        InputOptions.
    """

    def __init__(self, dataset_fn, input_options=None):
        if not callable(dataset_fn):
            raise TypeError("`dataset_fn` for `DatasetCreator` must be a `callable`. "
                            f"Received: {dataset_fn!r}")
        if input_options is not None and not isinstance(input_options, InputOptions):
            raise TypeError("`input_options` for `DatasetCreator` must be a "
                            f"`tf.distribute.InputOptions`. Received: {input_options!r}")
        self.dataset_fn = dataset_fn
        self.input_options = input_options
        self._dataset = None

    def __call__(self, *args, **kwargs):
        """``dataset_fn(*args, **kwargs)``, checked to be a dataset.

        Raises:
          TypeError: when ``dataset_fn`` returned something else.
        """
        dataset = self.dataset_fn(*args, **kwargs)
        if not (hasattr(dataset, "__iter__") and hasattr(dataset, "element_spec")):
            raise TypeError("The `callable` provided to `DatasetCreator` must return a "
                            f"Dataset. Received: {dataset!r}")
        return dataset

    def _created(self):
        if self._dataset is None:
            self._dataset = self(InputContext(1, 0, 1))
        return self._dataset

    # -- what fit/evaluate/predict see: a dataset of unknown length ---------------------
    def __iter__(self):
        return iter(self._created())

    def cardinality(self):
        """Asked only when no step count was given: raises Keras's error.

        Raises:
          ValueError: always (pass ``steps_per_epoch``/``steps``).
        """
        raise ValueError(_NEEDS_STEPS)

    @property
    def element_spec(self):
        return self._created().element_spec

    def __repr__(self):
        return f"DatasetCreator({self.dataset_fn!r})"
