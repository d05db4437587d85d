"""``dlframe.nn``: the tf.nn name table, collected from each ops module's NN_NAMES."""

from dlframe.ops.names import collect as _collect

globals().update(_collect("NN_NAMES"))

_CELL_WRAPPERS = ("RNNCellDropoutWrapper", "RNNCellResidualWrapper",
                  "RNNCellDeviceWrapper")


def __getattr__(name):
    # the RNN cell wrappers are Keras layers; ops (which feed NN_NAMES) may not
    # import keras, so they are reached on first use
    if name in _CELL_WRAPPERS:
        from dlframe.keras.layers import rnn_cell_wrappers
        return getattr(rnn_cell_wrappers, name)
    if name == "experimental":   # general_dropout, stateless_dropout
        from dlframe.compat.v1_nn import experimental
        return experimental
    raise AttributeError(f"module 'dlframe.nn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_CELL_WRAPPERS) | {"experimental"})
