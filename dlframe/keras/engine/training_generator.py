"""Keras 2's deprecated generator spellings of the training API: ``fit_generator``,
``evaluate_generator`` and ``predict_generator`` (``fit``/``evaluate``/``predict``
accept generators and ``keras.utils.Sequence`` objects directly)."""

import warnings


def _deprecated(old, new):
    warnings.warn(f"`Model.{old}` is deprecated and will be removed in a future "
                  f"version. Please use `Model.{new}`, which supports generators.",
                  DeprecationWarning, stacklevel=3)


def _eval_style(method):
    """The deprecated ``<method>_generator`` spelling of ``evaluate``/``predict``."""
    def deprecated(self, generator, steps=None, callbacks=None, max_queue_size=10,
                   workers=1, use_multiprocessing=False, verbose=0):
        _deprecated(f"{method}_generator", method)
        return getattr(self, method)(
            generator, steps=steps, callbacks=callbacks,
            max_queue_size=max_queue_size, workers=workers,
            use_multiprocessing=use_multiprocessing, verbose=verbose)

    deprecated.__name__ = deprecated.__qualname__ = f"{method}_generator"
    deprecated.__doc__ = (f"Deprecated: ``{method}`` on a generator, ``Sequence`` "
                          "or dataset.")
    return deprecated


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

    evaluate_generator = _eval_style("evaluate")
    predict_generator = _eval_style("predict")
