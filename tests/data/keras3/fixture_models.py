"""The custom classes of the Keras 3 fixtures, written once for any Keras module:
TensorFlow's when make_fixtures.py writes the files, dlframe's when the tests read
them (both register them as ``fixtures>Scale`` and ``fixtures>TwoTower``)."""


def define(keras):
    """Defines and registers the fixture classes with ``keras``; returns
    ``(Scale, TwoTower)``."""
    layers = keras.layers

    @keras.saving.register_keras_serializable(package="fixtures")
    class Scale(layers.Layer):
        """A custom layer with one weight."""

        def __init__(self, init=2.0, **kwargs):
            super().__init__(**kwargs)
            self.init = init

        def build(self, input_shape):
            self.scale = self.add_weight(
                name="scale", shape=(input_shape[-1],),
                initializer=keras.initializers.Constant(self.init))

        def call(self, x):
            return x * self.scale

        def get_config(self):
            return {**super().get_config(), "init": self.init}

    @keras.saving.register_keras_serializable(package="fixtures")
    class TwoTower(keras.Model):
        """A subclassed model: layers in attributes and in a list."""

        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.encoder = layers.Dense(units, activation="tanh")
            self.blocks = [layers.Dense(units, activation="relu"), layers.Dense(units)]
            self.head = layers.Dense(1)

        def call(self, x):
            h = self.encoder(x)
            for block in self.blocks:
                h = block(h)
            return self.head(h)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Scale, TwoTower
