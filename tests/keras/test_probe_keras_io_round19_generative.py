"""keras.io generative / RL examples (round 19) on tiny synthetic data.

WGAN-GP's gradient penalty (a tape nested in a tape), DDPG's soft target update in
a ``tf.function``, DQN's one-hot masked Huber loss, the conditional GAN's label
planes, CycleGAN's reflection padding, PPO's log-probabilities; and the two
differences the probes found: max pooling and ``hard_sigmoid`` give zero (not None)
second-order gradients and relu6 rounding, as TF does.
"""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
layers = keras.layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def _penalty_grads(model, images):
    """WGAN-GP: mean((||d D / d x|| - 1)^2) and its gradient w.r.t. D's weights."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(images)
            pred = model(images, training=True)
        grads = inner.gradient(pred, [images])[0]
        norm = tf.norm(tf.reshape(grads, [images.shape[0], -1]), axis=1)
        penalty = tf.reduce_mean((norm - 1.0) ** 2)
    return penalty, outer.gradient(penalty, model.trainable_variables)


def _critic(pool):
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(3, 3, padding="same")(inputs)
    x = layers.LeakyReLU(0.2)(x)
    x = pool(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(1)(x))


@pytest.fixture
def _float64():
    # layers follow floatx only under the default policy: a global policy that an
    # earlier test in this process left set (the GPU run got float32 weights) goes
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(None)
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")
    keras.mixed_precision.set_global_policy(policy)


def test_gradient_penalty_second_order_matches_finite_differences(_float64):
    model = _critic(layers.AveragePooling2D(2))
    rs = np.random.RandomState(3)
    model.set_weights([rs.randn(*w.shape) * 0.5 for w in model.get_weights()])
    images = tf.constant(np.random.RandomState(1).rand(2, 6, 6, 1))
    penalty, grads = _penalty_grads(model, images)
    # The critic's last bias never reaches d D / d x: no gradient, as in TF.
    assert grads[-1] is None
    kernel = model.trainable_variables[0]
    base = kernel.numpy().copy()
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (1, 2, 0, 1), (2, 1, 0, 2)]:
        shifted = []
        for sign in (1, -1):
            trial = base.copy()
            trial[idx] += sign * eps
            kernel.assign(trial)
            shifted.append(float(_penalty_grads(model, images)[0]))
        kernel.assign(base)
        numeric = (shifted[0] - shifted[1]) / (2 * eps)
        np.testing.assert_allclose(grads[0].numpy()[idx], numeric, rtol=1e-5,
                                   atol=1e-8)
    assert np.isfinite(float(penalty))


@pytest.mark.parametrize("pool", [
    lambda: layers.MaxPooling2D(2),
    lambda: layers.MaxPooling2D(3, strides=2, padding="same"),
])
def test_max_pool_second_order_gradient_is_zero_not_none(pool):
    # A bias before max pooling reaches d D / d x only through the (piecewise
    # constant) routing: TF 2.21 returns zeros for it, so a GP critic's gradient list
    # has no None a user's clip/norm loop would trip on.
    keras.utils.set_random_seed(0)
    model = _critic(pool())
    images = tf.constant(np.random.RandomState(2).rand(2, 6, 6, 1).astype("float32"))
    _, grads = _penalty_grads(model, images)
    conv_bias = grads[1]
    assert conv_bias is not None
    assert conv_bias.shape == (3,)
    assert grads[-1] is None


@pytest.mark.parametrize("pool", [
    lambda z: tf.nn.max_pool2d(z, 2, 2, "VALID"),
    lambda z: tf.nn.max_pool1d(tf.reshape(z, (1, 16, 2)), 2, 2, "VALID"),
    lambda z: tf.nn.max_pool3d(tf.reshape(z, (1, 2, 4, 2, 2)), 2, 2, "VALID"),
])
def test_max_pool_double_backward_eager_equals_function(pool):
    x = tf.constant(np.random.RandomState(0).randn(1, 4, 4, 2).astype("float32"))
    shift = tf.Variable(0.3)
    scale = tf.Variable(1.5)

    def step():
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(pool(x * scale + shift) ** 2)
            g = inner.gradient(y, x)
            total = tf.reduce_sum(g * g)
        return outer.gradient(total, [shift, scale])

    eager = step()
    compiled = tf.function(step)()
    assert eager[0] is not None and compiled[0] is not None
    # d/d shift of sum((2 * scale * pooled)^2), pooled = scale * x_max + shift
    pooled = pool(x * 1.5 + 0.3).numpy()
    np.testing.assert_allclose(float(eager[0]), (8 * 1.5**2 * pooled).sum(), rtol=1e-5)
    np.testing.assert_allclose([float(v) for v in compiled],
                               [float(v) for v in eager], rtol=1e-6)


def test_hard_sigmoid_is_relu6_based():
    x = tf.constant([-4.0, -3.0, -1.0, 0.0, 0.7, 3.0, 5.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = keras.activations.hard_sigmoid(x)
    grad = tape.gradient(y, x).numpy()
    # relu6(x + 3) / 6 to the bit (TF 2.21: hard_sigmoid(-1.0) = 0.33333334)
    np.testing.assert_array_equal(y.numpy(), (tf.nn.relu6(x + 3.0) / 6.0).numpy())
    assert y.numpy()[2] == np.float32(2.0) / np.float32(6.0)
    # zero slope at the kinks, as relu6's gradient has (TF 2.21)
    np.testing.assert_allclose(grad, [0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0], rtol=1e-6)
    layer_out = layers.Activation("hard_sigmoid")(x)
    np.testing.assert_array_equal(layer_out.numpy(), y.numpy())
    with tf.GradientTape() as tape:
        tape.watch(x)
        swish = keras.activations.hard_silu(x)
    np.testing.assert_allclose(tape.gradient(swish, x).numpy(),
                               [0, 0, 1 / 6, 0.5, 0.7333333, 1, 1], rtol=1e-5)
    shift = tf.Variable(0.2)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            z = tf.reduce_sum(keras.activations.hard_sigmoid(x + shift))
        g = inner.gradient(z, x)
        total = tf.reduce_sum(g * g)
    assert float(outer.gradient(total, shift)) == 0.0


class _WGAN(keras.Model):
    def __init__(self, critic, generator, latent_dim, critic_steps=2):
        super().__init__()
        self.critic = critic
        self.generator = generator
        self.latent_dim = latent_dim
        self.critic_steps = critic_steps

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        for _ in range(self.critic_steps):
            noise = tf.random.normal(shape=(batch_size, self.latent_dim))
            with tf.GradientTape() as tape:
                fake = self.generator(noise, training=True)
                d_cost = self.d_loss_fn(self.critic(real_images, training=True),
                                        self.critic(fake, training=True))
                alpha = tf.random.normal([batch_size, 1, 1, 1], 0.0, 1.0)
                mixed = real_images + alpha * (fake - real_images)
                with tf.GradientTape() as gp_tape:
                    gp_tape.watch(mixed)
                    pred = self.critic(mixed, training=True)
                grads = gp_tape.gradient(pred, [mixed])[0]
                norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
                d_loss = d_cost + 10.0 * tf.reduce_mean((norm - 1.0) ** 2)
            d_grads = tape.gradient(d_loss, self.critic.trainable_variables)
            self.d_optimizer.apply_gradients(zip(d_grads,
                                                 self.critic.trainable_variables))
        noise = tf.random.normal(shape=(batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            g_loss = self.g_loss_fn(self.critic(self.generator(noise, training=True),
                                                training=True))
        g_grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(g_grads,
                                             self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


def test_wgan_gp_fit_with_overridden_compile():
    keras.utils.set_random_seed(1)
    critic = _critic(layers.MaxPooling2D(2))
    generator = keras.Sequential([
        keras.Input((4,)), layers.Dense(9 * 2), layers.BatchNormalization(),
        layers.LeakyReLU(0.2), layers.Reshape((3, 3, 2)), layers.UpSampling2D(2),
        layers.Conv2D(1, 3, padding="same", activation="tanh")])
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)
    gan = _WGAN(critic, generator, latent_dim=4, critic_steps=2)
    gan.compile(d_optimizer=d_opt, g_optimizer=g_opt,
                d_loss_fn=lambda real, fake: tf.reduce_mean(fake) - tf.reduce_mean(real),
                g_loss_fn=lambda fake: -tf.reduce_mean(fake))
    seen = []

    class Monitor(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            images = self.model.generator(tf.random.normal((2, 4)))
            seen.append((epoch, tuple(images.shape), sorted(logs)))

    before = [w.copy() for w in critic.get_weights()]
    images = np.random.RandomState(0).rand(8, 6, 6, 1).astype("float32") * 2 - 1
    history = gan.fit(images, batch_size=4, epochs=2, callbacks=[Monitor()],
                      verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert np.isfinite(history.history["d_loss"]).all()
    assert int(g_opt.iterations) == 4 and int(d_opt.iterations) == 8
    assert seen == [(0, (2, 6, 6, 1), ["d_loss", "g_loss"]),
                    (1, (2, 6, 6, 1), ["d_loss", "g_loss"])]
    assert any(not np.allclose(a, b) for a, b in zip(before, critic.get_weights()))


def test_ddpg_soft_target_update_in_function():
    @tf.function
    def update_target(target_weights, weights, tau):
        for (a, b) in zip(target_weights, weights):
            a.assign(b * tau + a * (1 - tau))

    actor = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              layers.Dense(1, activation="tanh")])
    target = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                               layers.Dense(1, activation="tanh")])
    start = [w.copy() for w in target.get_weights()]
    source = actor.get_weights()
    update_target(target.variables, actor.variables, 0.005)
    update_target(target.variables, actor.variables, 0.005)
    for got, old, new in zip(target.get_weights(), start, source):
        expect = old
        for _ in range(2):
            expect = new * 0.005 + expect * (1 - 0.005)
        np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-7)
    a = tf.Variable([1.0, 2.0])
    update_target([a], [tf.Variable([3.0, 5.0])], tf.constant(0.5))
    np.testing.assert_allclose(a.numpy(), [2.0, 3.5])


def test_dqn_masked_q_value_huber_loss():
    q_values = np.array([[0.5, 2.0, -1.0], [1.5, 0.0, 3.0]], "float32")
    actions = [1, 2]
    target_q = np.array([[0.2, 0.1, 0.3], [0.0, 4.0, 1.0]], "float32")
    rewards = [1.0, 0.5]
    done = tf.convert_to_tensor([0.0, 1.0])
    updated = rewards + 0.99 * tf.reduce_max(target_q, axis=1)
    updated = updated * (1 - done) - done
    masks = tf.one_hot(actions, 3)
    q_action = tf.reduce_sum(tf.multiply(q_values, masks), axis=1)
    loss = keras.losses.Huber()(updated, q_action)
    want_target = np.array([1.0 + 0.99 * 0.3, -1.0])
    err = np.abs(want_target - np.array([2.0, 3.0]))
    huber = np.where(err <= 1.0, 0.5 * err ** 2, err - 0.5)
    assert masks.dtype == tf.float32 and updated.dtype == tf.float32
    np.testing.assert_allclose(updated.numpy(), want_target, rtol=1e-6)
    np.testing.assert_allclose(float(loss), huber.mean(), rtol=1e-6)


def test_conditional_gan_label_planes():
    num_classes, size = 3, 2
    one_hot = tf.constant(np.eye(num_classes, dtype="float32")[[0, 2]])
    planes = tf.repeat(one_hot[:, :, None, None], repeats=[size * size])
    planes = tf.reshape(planes, (-1, size, size, num_classes))
    expect = np.broadcast_to(one_hot.numpy()[:, None, None, :], (2, size, size, 3))
    # the keras.io reshape scrambles the planes exactly this way
    flat = np.repeat(one_hot.numpy().reshape(-1), size * size)
    np.testing.assert_array_equal(planes.numpy(), flat.reshape(2, size, size, 3))
    assert planes.shape == expect.shape
    images = tf.zeros((2, size, size, 1))
    assert tf.concat([images, planes], -1).shape == (2, size, size, 4)


class _ReflectionPadding2D(layers.Layer):
    def __init__(self, padding=(1, 1), **kwargs):
        self.padding = tuple(padding)
        super().__init__(**kwargs)

    def call(self, input_tensor, mask=None):
        pw, ph = self.padding
        return tf.pad(input_tensor, [[0, 0], [ph, ph], [pw, pw], [0, 0]],
                      mode="REFLECT")


def test_cyclegan_reflection_padding_and_instance_norm():
    x = np.arange(24, dtype="float32").reshape(1, 3, 4, 2)
    out = _ReflectionPadding2D(padding=(2, 1))(tf.constant(x))
    np.testing.assert_array_equal(
        out.numpy(), np.pad(x, [(0, 0), (1, 1), (2, 2), (0, 0)], mode="reflect"))
    weights = np.random.RandomState(0).randn(1, 5, 8, 2).astype("float32")
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(_ReflectionPadding2D(padding=(2, 1))(v) * weights)
    # the padded copies send their gradient back to the rows/columns they mirror
    ref = np.zeros_like(x)
    rows = [1, 0, 1, 2, 1]
    cols = [2, 1, 0, 1, 2, 3, 2, 1]
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ref[0, r, c] += weights[0, i, j]
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), ref, rtol=1e-5)
    norm = layers.GroupNormalization(groups=-1, epsilon=1e-3)
    normed = norm(tf.constant(x)).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(normed, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4,
                               atol=1e-5)


def test_ppo_log_probabilities_and_clipped_ratio():
    logits = tf.constant([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    actions = tf.constant([1, 2], dtype=tf.int64)
    logp = tf.reduce_sum(tf.one_hot(actions, 3) * tf.nn.log_softmax(logits), axis=1)
    raw = logits.numpy()
    ref = raw - np.log(np.exp(raw).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(logp.numpy(), ref[[0, 1], [1, 2]], rtol=1e-6)
    ratio = tf.clip_by_value(tf.exp(logp - tf.constant([-0.1, -0.5])), 0.8, 1.2)
    np.testing.assert_allclose(
        ratio.numpy(), np.clip(np.exp(ref[[0, 1], [1, 2]] - [-0.1, -0.5]), 0.8, 1.2),
        rtol=1e-6)
    samples = tf.random.categorical(tf.math.log([[0.1, 0.9], [0.7, 0.3]]), 4000,
                                    seed=1)
    assert samples.dtype == tf.int64 and samples.shape == (2, 4000)
    np.testing.assert_allclose(samples.numpy().mean(axis=1), [0.9, 0.3], atol=0.04)
