"""Keras 3's default seeds for unseeded random initializers and layer seed states.

In Keras 3 (TF >= 2.16) a random initializer (or a layer's seed state) created with
``seed=None`` takes an integer seed from Python's ``random`` when it is constructed and
then draws statelessly with it, so ``keras.utils.set_random_seed(s)`` fixes the initial
weights of a program. dlframe follows that once ``set_random_seed`` has run in the
process; before, unseeded draws come from the TF global-seed stream (Keras 2), which
``tf.random.set_seed`` alone makes reproducible.
"""

import random as _py_random

_STATE = {"keras3": False}


def enable():
    """Switches unseeded initializers to Keras 3 default seeds (``set_random_seed``)."""
    _STATE["keras3"] = True


def disable():
    """Back to Keras 2 unseeded draws (the state before any ``set_random_seed``)."""
    _STATE["keras3"] = False


def active():
    """Whether ``keras.utils.set_random_seed`` has switched on Keras 3 default seeds."""
    return _STATE["keras3"]


def draw():
    """Keras 3's default seed (``random.randint(1, 10**9)``), or None in Keras 2 mode."""
    return _py_random.randint(1, int(1e9)) if _STATE["keras3"] else None
