"""``keras.optimizers.legacy`` (Keras 2.11+): the pre-2.11 optimizer names.

They are the same classes as ``keras.optimizers.*`` (which accept the legacy ``lr``
argument); Keras 3 removed this namespace, Keras 2 programs still import it.
"""

from dlframe.keras.optimizers.adagrad import Adadelta, Adagrad
from dlframe.keras.optimizers.adam import Adam
from dlframe.keras.optimizers.adamax import Adamax
from dlframe.keras.optimizers.ftrl import Ftrl
from dlframe.keras.optimizers.nadam import Nadam
from dlframe.keras.optimizers.optimizer import Optimizer
from dlframe.keras.optimizers.rmsprop import RMSprop
from dlframe.keras.optimizers.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "Ftrl", "Nadam", "Optimizer",
           "RMSprop"]
