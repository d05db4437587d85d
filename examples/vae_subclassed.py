"""A variational autoencoder as a subclassed keras.Model with a custom train_step,
after the Keras "Variational AutoEncoder" example: a Sampling layer drawing with
tf.random.normal, an encoder and a decoder built functionally, loss trackers exposed
through the `metrics` property, and plain `fit`.

The data is generated offline: 8x8 images in [0, 1], each a bright bar (horizontal
or vertical) at a random position, blurred a little.

Run: python examples/vae_subclassed.py
"""

import numpy as np

import dlframe as tf

LATENT_DIM = 2
IMAGE_SIZE = 8


def make_images(n=1024, seed=0):
    """Returns float32 images (n, 8, 8, 1) in [0, 1]."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), "float32")
    where = rng.integers(1, IMAGE_SIZE - 1, n)
    vertical = rng.integers(0, 2, n).astype(bool)
    for i in range(n):
        if vertical[i]:
            images[i, :, where[i]] = 1.0
        else:
            images[i, where[i], :] = 1.0
    blurred = 0.6 * images
    blurred[:, 1:] += 0.2 * images[:, :-1]
    blurred[:, :-1] += 0.2 * images[:, 1:]
    blurred[:, :, 1:] += 0.2 * images[:, :, :-1]
    blurred[:, :, :-1] += 0.2 * images[:, :, 1:]
    return np.clip(blurred, 0.0, 1.0)[..., None]


class Sampling(tf.keras.layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding an image."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.random.normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


def build_encoder():
    encoder_inputs = tf.keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1))
    x = tf.keras.layers.Conv2D(16, 3, activation="relu", strides=2,
                               padding="same")(encoder_inputs)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(32, activation="relu")(x)
    z_mean = tf.keras.layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = tf.keras.layers.Dense(LATENT_DIM, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return tf.keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder():
    latent_inputs = tf.keras.Input(shape=(LATENT_DIM,))
    x = tf.keras.layers.Dense(32, activation="relu")(latent_inputs)
    x = tf.keras.layers.Dense(4 * 4 * 16, activation="relu")(x)
    x = tf.keras.layers.Reshape((4, 4, 16))(x)
    x = tf.keras.layers.Conv2DTranspose(16, 3, activation="relu", strides=2,
                                        padding="same")(x)
    decoder_outputs = tf.keras.layers.Conv2DTranspose(1, 3, activation="sigmoid",
                                                      padding="same")(x)
    return tf.keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(tf.keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = tf.keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = tf.keras.metrics.Mean(
            name="reconstruction_loss")
        self.kl_loss_tracker = tf.keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker,
                self.kl_loss_tracker]

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        return self.decoder(z_mean)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = tf.reduce_mean(tf.reduce_sum(
                tf.keras.losses.binary_crossentropy(data, reconstruction),
                axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
            kl_loss = tf.reduce_mean(tf.reduce_sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def reconstruction_error(vae, images):
    """Mean squared error of reconstructing `images` through the latent means."""
    return float(np.mean((vae.predict(images, verbose=0) - images) ** 2))


def main(epochs=15, seed=0, verbose=2):
    tf.keras.utils.set_random_seed(seed)
    images = make_images(seed=seed)
    vae = VAE(build_encoder(), build_decoder())
    vae.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=3e-3))
    before = reconstruction_error(vae, images)
    history = vae.fit(images, epochs=epochs, batch_size=64, verbose=verbose)
    after = reconstruction_error(vae, images)
    print(f"reconstruction MSE: {before:.4f} before training, {after:.4f} after")
    return history.history, before, after


if __name__ == "__main__":
    main()
