# ruff: noqa: F401 - re-export table
"""``keras.experimental`` (Keras 2): cosine schedules, premade models, and
``SequenceFeatures``-era names that TF 2.x programs still import."""

from dlframe.keras.experimental.schedules import (
    LinearCosineDecay,
    NoisyLinearCosineDecay,
)
from dlframe.keras.optimizers.schedules import CosineDecay, CosineDecayRestarts
from dlframe.keras.premade import LinearModel, WideDeepModel
