"""TF's generative tutorials on tiny synthetic data: "Autoencoders" (a subclassed
model of encoder/decoder Sequentials whose Dense size is a NumPy integer, denoising
with tf.clip_by_value, anomaly detection with keras.losses.mae and tf.math.less),
"Convolutional VAE" (reparameterization, log_normal_pdf,
sigmoid_cross_entropy_with_logits, a tf.function train step) and "DeepDream"
(tf.reduce_sum of a Python list of losses, gradient ascent in a tf.function with an
input_signature, tf.roll by a random shift bounded by a traced tile size)."""

import numpy as np

import dlframe as tf

layers = tf.keras.layers


class Autoencoder(tf.keras.models.Model):
    def __init__(self, latent_dim, shape):
        super().__init__()
        self.encoder = tf.keras.Sequential([layers.Flatten(),
                                            layers.Dense(latent_dim, activation="relu")])
        # the Keras 2 tutorial passes a NumPy integer as the number of units
        self.decoder = tf.keras.Sequential([
            layers.Dense(tf.math.reduce_prod(shape).numpy(), activation="sigmoid"),
            layers.Reshape(shape)])

    def call(self, x):
        return self.decoder(self.encoder(x))


def test_autoencoder_and_denoising():
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 1, (32, 8, 8)).astype("float32")
    autoencoder = Autoencoder(6, x_train.shape[1:])
    assert isinstance(autoencoder.decoder.layers[0].units, int)
    assert autoencoder.decoder.layers[0].units == 64
    autoencoder.compile(optimizer="adam", loss=tf.keras.losses.MeanSquaredError())
    history = autoencoder.fit(x_train, x_train, epochs=3, shuffle=True, verbose=0,
                              validation_data=(x_train[:8], x_train[:8]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    encoded = autoencoder.encoder(x_train[:4]).numpy()
    assert autoencoder.decoder(encoded).shape == (4, 8, 8)
    noisy = x_train[..., tf.newaxis] + 0.2 * tf.random.normal(shape=(32, 8, 8, 1))
    noisy = tf.clip_by_value(noisy, clip_value_min=0., clip_value_max=1.)
    assert 0.0 <= float(tf.reduce_min(noisy)) and float(tf.reduce_max(noisy)) <= 1.0
    with np.testing.assert_raises(ValueError):
        layers.Dense(np.float32(2.5))


def test_anomaly_detection_threshold():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(40, 20))
    labels = rng.integers(0, 2, 40).astype(bool)
    min_val, max_val = tf.reduce_min(data), tf.reduce_max(data)
    data = tf.cast((data - min_val) / (max_val - min_val), tf.float32)
    normal = data[labels]
    model = tf.keras.Sequential([layers.Dense(8, activation="relu"),
                                 layers.Dense(20, activation="sigmoid")])
    model.compile(optimizer="adam", loss="mae")
    model.fit(normal, normal, epochs=2, batch_size=512, verbose=0)
    reconstructions = model.predict(normal, verbose=0)
    train_loss = tf.keras.losses.mae(reconstructions, normal)
    np.testing.assert_allclose(
        train_loss.numpy(), np.abs(reconstructions - normal.numpy()).mean(-1),
        rtol=1e-5)
    threshold = np.mean(train_loss) + np.std(train_loss)
    preds = tf.math.less(tf.keras.losses.mae(model(data), data), threshold)
    assert preds.dtype == tf.bool and preds.shape == (40,)


def log_normal_pdf(sample, mean, logvar, raxis=1):
    log2pi = tf.math.log(2. * np.pi)
    return tf.reduce_sum(
        -.5 * ((sample - mean) ** 2. * tf.exp(-logvar) + logvar + log2pi), axis=raxis)


class CVAE(tf.keras.Model):
    def __init__(self, latent_dim):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = tf.keras.Sequential([
            layers.InputLayer(input_shape=(8, 8, 1)),
            layers.Conv2D(4, 3, strides=(2, 2), activation="relu"),
            layers.Flatten(),
            layers.Dense(latent_dim + latent_dim)])
        self.decoder = tf.keras.Sequential([
            layers.InputLayer(input_shape=(latent_dim,)),
            layers.Dense(units=4 * 4 * 4, activation=tf.nn.relu),
            layers.Reshape(target_shape=(4, 4, 4)),
            layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(1, 3, strides=1, padding="same")])

    @tf.function
    def sample(self, eps=None):
        if eps is None:
            eps = tf.random.normal(shape=(10, self.latent_dim))
        return tf.sigmoid(self.decoder(eps))

    def encode(self, x):
        return tf.split(self.encoder(x), num_or_size_splits=2, axis=1)

    def reparameterize(self, mean, logvar):
        eps = tf.random.normal(shape=mean.shape)
        return eps * tf.exp(logvar * .5) + mean


def compute_loss(model, x):
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar)
    x_logit = model.decoder(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(logits=x_logit, labels=x)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0., 0.)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x)


def test_convolutional_vae_learns():
    tf.random.set_seed(1)
    rng = np.random.default_rng(2)
    images = np.where(rng.uniform(0, 1, (32, 8, 8, 1)) > .5, 1.0, 0.0).astype("float32")
    sample = tf.constant([[0.3, -0.2]])
    np.testing.assert_allclose(
        log_normal_pdf(sample, 0., 0.).numpy(),
        [-(0.3 ** 2 + 0.2 ** 2) / 2 - np.log(2 * np.pi)], rtol=1e-6)
    model = CVAE(2)
    optimizer = tf.keras.optimizers.Adam(1e-2)

    @tf.function
    def train_step(model, x, optimizer):
        with tf.GradientTape() as tape:
            loss = compute_loss(model, x)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

    def elbo():
        tf.random.set_seed(5)
        return -float(compute_loss(model, images))

    start = elbo()
    for _ in range(6):
        for batch in tf.data.Dataset.from_tensor_slices(images).batch(16):
            train_step(model, batch, optimizer)
    assert elbo() > start
    assert int(optimizer.iterations.numpy()) == 12
    assert model.sample().shape == (10, 8, 8, 1)


def calc_loss(img, model):
    layer_activations = model(tf.expand_dims(img, axis=0))
    if len(layer_activations) == 1:
        layer_activations = [layer_activations]
    losses = [tf.math.reduce_mean(act) for act in layer_activations]
    return tf.reduce_sum(losses)   # a Python list of tensors, packed by TF


def _dream_model():
    tf.keras.utils.set_random_seed(0)
    inputs = layers.Input(shape=(None, None, 3))
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = layers.Conv2D(4, 3, padding="same", activation="relu")(a)
    return tf.keras.Model(inputs, [a, b])


def test_list_of_losses_keeps_its_gradient():
    model = _dream_model()
    img = tf.constant(np.random.default_rng(3).uniform(-1, 1, (6, 7, 3)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(img)
        loss = calc_loss(img, model)
    gradients = tape.gradient(loss, img)
    with tf.GradientTape() as tape:
        tape.watch(img)
        a, b = model(tf.expand_dims(img, 0))
        summed = tf.reduce_mean(a) + tf.reduce_mean(b)
    np.testing.assert_allclose(gradients.numpy(), tape.gradient(summed, img).numpy(),
                               rtol=1e-5, atol=1e-7)
    assert float(tf.reduce_max(tf.abs(gradients))) > 0


class DeepDream(tf.Module):
    def __init__(self, model):
        self.model = model

    @tf.function(input_signature=(
        tf.TensorSpec(shape=[None, None, 3], dtype=tf.float32),
        tf.TensorSpec(shape=[], dtype=tf.int32),
        tf.TensorSpec(shape=[], dtype=tf.float32)))
    def __call__(self, img, steps, step_size):
        loss = tf.constant(0.0)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(img)
                loss = calc_loss(img, self.model)
            gradients = tape.gradient(loss, img)
            gradients /= tf.math.reduce_std(gradients) + 1e-8
            img = img + gradients * step_size
            img = tf.clip_by_value(img, -1, 1)
        return loss, img


def test_deepdream_gradient_ascent_matches_eager():
    model = _dream_model()
    img = tf.constant(np.random.default_rng(4).uniform(-0.5, 0.5, (6, 7, 3)),
                      tf.float32)
    loss, dreamed = DeepDream(model)(img, tf.constant(3), tf.constant(0.01))
    eager = img
    for _ in range(3):
        with tf.GradientTape() as tape:
            tape.watch(eager)
            eager_loss = calc_loss(eager, model)
        g = tape.gradient(eager_loss, eager)
        eager = tf.clip_by_value(eager + g / (tf.math.reduce_std(g) + 1e-8) * 0.01, -1, 1)
    np.testing.assert_allclose(dreamed.numpy(), eager.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(loss), float(eager_loss), rtol=1e-4)
    assert float(calc_loss(dreamed, model)) > float(calc_loss(img, model))


def random_roll(img, maxroll):
    shift = tf.random.uniform(shape=[2], minval=-maxroll, maxval=maxroll, dtype=tf.int32)
    return shift, tf.roll(img, shift=shift, axis=[0, 1])


def test_random_roll_with_a_traced_tile_size():
    @tf.function(input_signature=(tf.TensorSpec(shape=[None, None, 3], dtype=tf.float32),
                                  tf.TensorSpec(shape=[], dtype=tf.int32)))
    def roll_back(img, tile_size):
        shift, rolled = random_roll(img, tile_size)
        return shift, tf.roll(rolled, shift=-shift, axis=[0, 1]), rolled

    img = tf.reshape(tf.range(5 * 6 * 3, dtype=tf.float32), (5, 6, 3))
    for tile in (1, 3, 4):
        shift, back, rolled = roll_back(img, tf.constant(tile))
        assert shift.dtype == tf.int32
        assert np.all(np.abs(shift.numpy()) <= tile)
        np.testing.assert_array_equal(back.numpy(), img.numpy())
        np.testing.assert_array_equal(
            rolled.numpy(), np.roll(img.numpy(), shift.numpy(), axis=(0, 1)))
