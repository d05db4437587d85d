"""``keras.optimizers.legacy`` (Keras 2.11+): the pre-2.11 optimizer names.

They are subclasses of ``keras.optimizers.*`` (which accept the legacy ``lr``
argument) that, like Keras 2's ``OptimizerV2``, create slots for variables first seen
after ``build`` instead of raising; Keras 3 removed this namespace, Keras 2 programs
still import it.
"""

from dlframe.keras.optimizers import adagrad, adam, adamax, ftrl, nadam, rmsprop, sgd
from dlframe.keras.optimizers import optimizer as _optimizer


class Optimizer(_optimizer.Optimizer):
    """Keras 2's ``OptimizerV2`` base: a subclass (``_create_slots``,
    ``_resource_apply_dense``) creates slots for variables first seen after ``build``."""

    _extensible = True


def _lazy_slots(cls):
    """``cls`` under its own name, a ``legacy.Optimizer`` (accepting variables it was
    not built with)."""
    return type(cls.__name__, (cls, Optimizer), {"__doc__": cls.__doc__,
                                                 "__module__": __name__})


Adadelta = _lazy_slots(adagrad.Adadelta)
Adagrad = _lazy_slots(adagrad.Adagrad)
Adam = _lazy_slots(adam.Adam)
Adamax = _lazy_slots(adamax.Adamax)
Ftrl = _lazy_slots(ftrl.Ftrl)
Nadam = _lazy_slots(nadam.Nadam)
RMSprop = _lazy_slots(rmsprop.RMSprop)
SGD = _lazy_slots(sgd.SGD)

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "Ftrl", "Nadam", "Optimizer",
           "RMSprop"]
