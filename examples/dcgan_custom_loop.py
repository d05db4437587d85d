"""A deep convolutional GAN trained with a custom loop, after TensorFlow's "Deep
Convolutional Generative Adversarial Network" tutorial: a generator and a
discriminator, two Adam optimizers, a @tf.function train step that records two
GradientTapes at once, and a tf.train.Checkpoint saved every 10 epochs and restored
at the end.

The data is a tiny synthetic image set made offline: 8x8 grey images, each a bright
Gaussian blob on a dark background at a random place.

Run: python examples/dcgan_custom_loop.py
"""

import os
import tempfile

import numpy as np

import dlframe as tf

NOISE_DIM = 16
IMAGE_SIZE = 8


def make_images(n=512, seed=0):
    """Returns float32 images (n, 8, 8, 1) in [-1, 1], as the tutorial scales MNIST."""
    rng = np.random.default_rng(seed)
    grid = np.arange(IMAGE_SIZE)
    centres = rng.uniform(2, IMAGE_SIZE - 3, size=(n, 2))
    dy = (grid[None, :] - centres[:, :1]) ** 2
    dx = (grid[None, :] - centres[:, 1:]) ** 2
    blobs = np.exp(-(dy[:, :, None] + dx[:, None, :]) / 3.0)
    return (blobs * 2.0 - 1.0)[..., None].astype("float32")


def make_generator_model():
    return tf.keras.Sequential([
        tf.keras.Input(shape=(NOISE_DIM,)),
        tf.keras.layers.Dense(2 * 2 * 32, use_bias=False),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.LeakyReLU(),
        tf.keras.layers.Reshape((2, 2, 32)),
        tf.keras.layers.Conv2DTranspose(16, (3, 3), strides=(2, 2), padding="same",
                                        use_bias=False),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.LeakyReLU(),
        tf.keras.layers.Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same",
                                        activation="tanh"),
    ], name="generator")


def make_discriminator_model():
    return tf.keras.Sequential([
        tf.keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1)),
        tf.keras.layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        tf.keras.layers.LeakyReLU(),
        tf.keras.layers.Dropout(0.3),
        tf.keras.layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
        tf.keras.layers.LeakyReLU(),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(1),
    ], name="discriminator")


cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


def mean_image_error(generator, real_images, n=256, seed=1):
    """Mean absolute gap between the average generated and the average real image."""
    noise = tf.random.normal([n, NOISE_DIM], seed=seed)
    fake = generator(noise, training=False).numpy()
    return float(np.abs(fake.mean(0) - real_images.mean(0)).mean())


def main(epochs=20, batch_size=64, seed=0, verbose=True, checkpoint_dir=None):
    tf.keras.utils.set_random_seed(seed)
    images = make_images(seed=seed)
    dataset = tf.data.Dataset.from_tensor_slices(images)
    dataset = dataset.shuffle(len(images), seed=seed).batch(batch_size,
                                                           drop_remainder=True)

    generator = make_generator_model()
    discriminator = make_discriminator_model()
    generator_optimizer = tf.keras.optimizers.Adam(2e-3, beta_1=0.5)
    discriminator_optimizer = tf.keras.optimizers.Adam(2e-3, beta_1=0.5)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([batch_size, NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss,
                                                   generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(
            zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables))
        return gen_loss, disc_loss

    checkpoint_dir = checkpoint_dir or tempfile.mkdtemp()
    checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
    checkpoint = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                     discriminator_optimizer=discriminator_optimizer,
                                     generator=generator,
                                     discriminator=discriminator)

    errors = [mean_image_error(generator, images)]
    for epoch in range(epochs):
        for image_batch in dataset:
            gen_loss, disc_loss = train_step(image_batch)
        errors.append(mean_image_error(generator, images))
        if (epoch + 1) % 10 == 0:
            checkpoint.save(file_prefix=checkpoint_prefix)
        if verbose:
            print(f"epoch {epoch + 1}: gen_loss {float(gen_loss):.4f} "
                  f"disc_loss {float(disc_loss):.4f} mean-image error {errors[-1]:.4f}")
    return errors, generator, checkpoint_dir


def restore_generator(checkpoint_dir):
    """A new generator holding the latest checkpoint's weights from `checkpoint_dir`."""
    generator = make_generator_model()
    checkpoint = tf.train.Checkpoint(generator=generator)
    checkpoint.restore(tf.train.latest_checkpoint(checkpoint_dir)).expect_partial()
    return generator


if __name__ == "__main__":
    errors, generator, checkpoint_dir = main()
    print(f"mean-image error: {errors[0]:.4f} before training, {errors[-1]:.4f} after")
    restored = restore_generator(checkpoint_dir)
    seed = tf.random.normal([4, NOISE_DIM])
    gap = np.abs(restored(seed, training=False) - generator(seed, training=False)).max()
    print("restored generator matches the trained one:", bool(gap < 1e-6))
