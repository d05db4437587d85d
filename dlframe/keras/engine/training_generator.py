"""Keras 2's deprecated generator spellings of the training API: ``fit_generator``,
``evaluate_generator`` and ``predict_generator`` (``fit``/``evaluate``/``predict``
accept generators and ``keras.utils.Sequence`` objects directly)."""

import warnings


def _deprecated(old, new):
    warnings.warn(f"`Model.{old}` is deprecated and will be removed in a future "
                  f"version. Please use `Model.{new}`, which supports generators.",
                  DeprecationWarning, stacklevel=3)


class GeneratorMethodsMixin:
    """``fit_generator``/``evaluate_generator``/``predict_generator`` over
    ``fit``/``evaluate``/``predict``."""

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1,
                      callbacks=None, validation_data=None, validation_steps=None,
                      validation_freq=1, class_weight=None, max_queue_size=10,
                      workers=1, use_multiprocessing=False, shuffle=True,
                      initial_epoch=0):
        """Deprecated: ``fit`` on a generator, ``Sequence`` or dataset."""
        _deprecated("fit_generator", "fit")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks,
                        validation_data=validation_data,
                        validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight,
                        max_queue_size=max_queue_size, workers=workers,
                        use_multiprocessing=use_multiprocessing, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None,
                           max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0):
        """Deprecated: ``evaluate`` on a generator, ``Sequence`` or dataset."""
        _deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, steps=steps, callbacks=callbacks,
                             max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None,
                          max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0):
        """Deprecated: ``predict`` on a generator, ``Sequence`` or dataset."""
        _deprecated("predict_generator", "predict")
        return self.predict(generator, steps=steps, callbacks=callbacks,
                            max_queue_size=max_queue_size, workers=workers,
                            use_multiprocessing=use_multiprocessing, verbose=verbose)
