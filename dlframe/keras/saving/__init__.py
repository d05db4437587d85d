"""``keras.saving``: weights files and single-file models (HDF5, Keras's layouts)."""

from dlframe.keras.saving.model_io import load_model, save_model  # noqa: F401
from dlframe.keras.saving.weights_io import load_weights, save_weights  # noqa: F401
