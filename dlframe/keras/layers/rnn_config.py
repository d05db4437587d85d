"""Config helpers of the built-in recurrent layers: Keras writes LSTM, GRU and
ConvLSTM configs with the cell's arguments inlined (no nested cell config)."""

_CELL_KEYS_DROPPED = ("name", "trainable", "dtype")


def inline_cell_config(layer, config, dropped=()):
    """``config`` with the layer's cell arguments inlined, as Keras writes LSTM, GRU and
    ConvLSTM2D configs (no nested cell)."""
    cell_config = layer.cell.get_config()
    for key in _CELL_KEYS_DROPPED + tuple(dropped):
        cell_config.pop(key, None)
    config.update(cell_config)
    from dlframe.keras import regularizers
    config["activity_regularizer"] = (
        regularizers.serialize(layer.activity_regularizer)
        if layer.activity_regularizer is not None else None)
    return config


def from_inlined_config(cls, config):
    """The layer of ``cls`` from an inlined-cell config (a dtype policy dict is read
    as its dtype name)."""
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"].get("config", {}).get("name")
    return cls(**config)
