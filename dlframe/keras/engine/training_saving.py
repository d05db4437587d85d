"""``Model.save``/``save_weights``/``load_weights``/``export``: the training API's
entry points into ``dlframe.keras.saving`` (mixed into ``TrainingMixin``)."""


class SavingMethodsMixin:
    """Model and weights files."""

    # -- weights files ---------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, save_format=None, options=None):
        """Writes all weights to ``filepath``.

        Args:
          filepath: ``*.weights.h5`` (Keras 3 layout), ``*.h5`` (Keras 2 layout), or
            any other path: a TensorFlow checkpoint prefix (``<filepath>.index`` plus
            the directory's ``checkpoint`` file), which also holds the optimizer.
          overwrite: whether to replace an existing file.
          save_format: ``'tf'`` or ``'h5'`` to override the choice by suffix.
          options: unused; accepted for compatibility.
        """
        from dlframe.keras.saving import weights_io
        weights_io.save_weights(self, filepath, overwrite=overwrite,
                                save_format=save_format)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, options=None):
        """Reads weights written by ``save_weights`` (any of its formats).

        Args:
          filepath: an HDF5 weights file or a TensorFlow checkpoint prefix (for
            example ``tf.train.latest_checkpoint(directory)``).
          skip_mismatch: HDF5 only: skip layers whose weight count or shapes differ.
          by_name: HDF5 only: match layers by name instead of by order.
          options: unused; accepted for compatibility.

        Returns:
          For a checkpoint prefix, the load status (``expect_partial()`` etc.).
        """
        from dlframe.keras.saving import weights_io
        return weights_io.load_weights(self, filepath, skip_mismatch=skip_mismatch,
                                       by_name=by_name)

    def save(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Saves architecture (config), weights, compile settings and optimizer state.

        Args:
          filepath: ``*.keras``: Keras 3's zip archive; ``*.h5``: one HDF5 file; any
            other path: a SavedModel directory (Keras 2's default); ``load_model``
            reads all three.
          overwrite: whether to replace an existing file.
          save_format: ``'tf'``, ``'h5'`` or ``'keras'`` to override the choice by
            suffix.
          **kwargs: ``include_optimizer`` (default True); ``signatures`` (Keras 2,
            SavedModel directories: the functions ``tf.saved_model.load`` serves);
            others are ignored.
        """
        from dlframe.keras.saving import model_io
        model_io.save_model(self, filepath, overwrite=overwrite, save_format=save_format,
                            include_optimizer=kwargs.get("include_optimizer", True),
                            signatures=kwargs.get("signatures"))

    def export(self, filepath, format="tf_saved_model", verbose=True,
               input_signature=None, **kwargs):
        """Writes an inference artifact (Keras 3): reload it with
        ``tf.saved_model.load(filepath).serve(x)`` or ``keras.layers.TFSMLayer``.

        Args:
          filepath: the directory to write (dlframe's format, see
            ``dlframe.keras.saving.export``).
          format: ``'tf_saved_model'``.
          verbose: print the endpoints written.
          input_signature: optional ``tf.TensorSpec`` (or list) of the inputs.
          **kwargs: other exporter options, ignored.
        """
        from dlframe.keras.saving import export
        export.export_model(self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)
