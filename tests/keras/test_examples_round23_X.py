"""The round-23 tutorial examples in examples/ run as written with dlframe as tf and
learn: the outcomes asserted here are the ones the same programs reach under
TensorFlow 2.21 (Keras 3), printed beside each test."""

import os

import numpy as np
import pytest

import dlframe as tf
from dlframe import keras
from tests.helpers import load_example as load


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def test_text_classification_from_raw_strings(tmp_path):
    # TF 2.21, same seed: loss 0.6873 -> 0.5309 -> 0.2186 -> 0.0209, val accuracy
    # 0.545 -> 1.0, raw-string test accuracy 1.000, predictions 1.000 / 0.007 /
    # 0.999 / 0.996 (the last one is "not boring": word order was learned).
    ex = load("text_classification_vectorize")
    history, accuracy, probs = ex.main(epochs=4, verbose=0, workdir=str(tmp_path))
    assert sorted(os.listdir(tmp_path / "train")) == ["neg", "pos"]
    assert len(list((tmp_path / "test").rglob("*.txt"))) == 200
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert history["val_binary_accuracy"][-1] >= 0.9
    assert accuracy >= 0.9
    assert probs.shape == (4,)
    assert probs[0] > 0.9 and probs[1] < 0.1 and probs[2] > 0.9 and probs[3] > 0.5


def test_text_vectorization_standardizes_like_tf(tmp_path):
    ex = load("text_classification_vectorize")
    out = ex.custom_standardization(tf.constant(["The PLOT<br />was, Great!"]))
    assert out.numpy()[0] == b"the plot was great"
    layer = keras.layers.TextVectorization(
        standardize=ex.custom_standardization, max_tokens=ex.MAX_TOKENS,
        output_sequence_length=ex.SEQUENCE_LENGTH)
    text, _ = ex.make_corpus(n=800)
    layer.adapt(text)
    # TF 2.21's vocabulary of the same 800 sentences (ties in frequency included).
    assert layer.get_vocabulary() == [
        "", "[UNK]", "not", "was", "scenes", "movie", "the", "story", "ending", "very",
        "and", "cast", "really", "plot", "director", "a", "film", "quite", "acting",
        "moving", "terrible", "funny", "great", "charming", "wonderful", "delightful",
        "brilliant", "boring", "dull", "weak", "clumsy", "tedious", "superb",
        "dreadful", "awful"]
    ids = layer(tf.constant([["The movie was great and charming!"],
                             ["xyz Boring, PLOT... not"]])).numpy()
    np.testing.assert_array_equal(ids, [[6, 5, 3, 22, 10, 23, 0, 0, 0, 0, 0, 0],
                                        [1, 27, 13, 2, 0, 0, 0, 0, 0, 0, 0, 0]])


def test_dcgan_generator_learns_the_image_statistics(tmp_path):
    # TF 2.21, same seed: mean-image error 0.7414 before training, 0.1546 after 20
    # epochs (0.08-0.11 with seeds 1-3).
    ex = load("dcgan_custom_loop")
    images = ex.make_images()
    assert images.shape == (512, 8, 8, 1) and images.min() >= -1 and images.max() <= 1
    errors, generator, checkpoint_dir = ex.main(epochs=20, verbose=False,
                                                checkpoint_dir=str(tmp_path))
    assert errors[0] > 0.5
    assert errors[-1] < 0.35 * errors[0]
    assert tf.train.latest_checkpoint(checkpoint_dir).endswith("ckpt-2")
    restored = ex.restore_generator(checkpoint_dir)
    noise = tf.random.normal([4, ex.NOISE_DIM])
    np.testing.assert_allclose(restored(noise, training=False).numpy(),
                               generator(noise, training=False).numpy(), atol=1e-6)


def test_vae_custom_train_step_reconstructs():
    # TF 2.21, same seed: reconstruction MSE 0.2048 before training, 0.0195 after 15
    # epochs (0.019-0.022 with seeds 1-3); reconstruction_loss 14.7, kl_loss 3.3 in
    # the last epoch.
    ex = load("vae_subclassed")
    history, before, after = ex.main(epochs=15, verbose=0)
    assert sorted(history) == ["kl_loss", "reconstruction_loss", "total_loss"]
    assert history["reconstruction_loss"][-1] < 0.5 * history["reconstruction_loss"][0]
    assert history["kl_loss"][-1] > 0.5  # the latent code carries information
    np.testing.assert_allclose(
        history["total_loss"],
        np.add(history["reconstruction_loss"], history["kl_loss"]), rtol=1e-4)
    assert before > 0.15 and after < 0.2 * before


def test_timeseries_window_checkpoint_keeps_best_epoch(tmp_path):
    # TF 2.21, same seed: test MSE 0.5171 untrained, 0.0056 from the best checkpoint
    # (epoch 5 of 6); the repeat-last-value baseline is 0.0291.
    ex = load("timeseries_window")
    series = ex.make_series()
    windows = list(ex.windowed_dataset(series[:40], batch_size=100))
    inputs, target = windows[0]
    assert inputs.shape == (40 - ex.WINDOW_SIZE, ex.WINDOW_SIZE, 1)
    np.testing.assert_array_equal(inputs.numpy()[3], series[3:3 + ex.WINDOW_SIZE])
    np.testing.assert_array_equal(target.numpy()[3], series[3 + ex.WINDOW_SIZE])

    history, untrained, test_mse, naive, best, path = ex.main(
        epochs=6, verbose=0, workdir=str(tmp_path))
    assert os.path.exists(path) and path.endswith(".keras")
    assert test_mse < 0.5 * naive and test_mse < 0.05 * untrained
    # The reloaded file is the epoch with the lowest val_loss.
    valid_ds = ex.windowed_dataset(series[800:1000])
    np.testing.assert_allclose(best.evaluate(valid_ds, verbose=0)[0],
                               min(history["val_loss"]), rtol=1e-4)


# Fixed-weight oracle checks: the same weights, inputs and steps run under
# TensorFlow 2.21 printed the figures below.

def _fill(model, seed, scale=0.3):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape).astype("float32")
                       for w in model.weights])


def _abs_sums(tensors):
    return [float(tf.reduce_sum(tf.abs(t))) for t in tensors]


def test_dcgan_two_tape_step_matches_tf():
    ex = load("dcgan_custom_loop")
    rng = np.random.default_rng(0)
    gen, disc = ex.make_generator_model(), ex.make_discriminator_model()
    for model in (gen, disc):
        model.set_weights([np.ones(w.shape, "float32") if "variance" in w.name else
                           rng.normal(scale=0.3, size=w.shape).astype("float32")
                           for w in model.weights])
    noise = tf.constant(rng.normal(size=(8, ex.NOISE_DIM)).astype("float32"))
    images = tf.constant(ex.make_images(n=8))
    gen_opt = keras.optimizers.Adam(2e-3, beta_1=0.5)
    disc_opt = keras.optimizers.Adam(2e-3, beta_1=0.5)

    @tf.function
    def step(images, noise):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            fake = gen(noise, training=True)
            real_out = disc(images, training=False)
            fake_out = disc(fake, training=False)
            gen_loss = ex.generator_loss(fake_out)
            disc_loss = ex.discriminator_loss(real_out, fake_out)
        gen_grads = gen_tape.gradient(gen_loss, gen.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, disc.trainable_variables)
        gen_opt.apply_gradients(zip(gen_grads, gen.trainable_variables))
        disc_opt.apply_gradients(zip(disc_grads, disc.trainable_variables))
        return gen_loss, disc_loss, gen_grads, disc_grads

    tf_losses = [(0.2051035463809967, 1.8350169658660889),
                 (0.24953612685203552, 1.6343045234680176),
                 (0.30375736951828003, 1.4452431201934814)]
    for want in tf_losses:
        gen_loss, disc_loss, gen_grads, disc_grads = step(images, noise)
        np.testing.assert_allclose([float(gen_loss), float(disc_loss)], want, rtol=2e-5)
    np.testing.assert_allclose(_abs_sums(gen_grads)[:4],
                               [3.6928, 1.3605, 3.1739, 16.0272], rtol=1e-4)
    np.testing.assert_allclose(_abs_sums(disc_grads)[:3],
                               [18.2395, 7.9087, 135.2313], rtol=1e-4)
    np.testing.assert_allclose(gen.get_weights()[2][:4],
                               [-0.06684, 0.08953, -0.05501, -0.1808], atol=1e-5)


def test_vae_losses_and_gradients_match_tf():
    ex = load("vae_subclassed")
    encoder, decoder = ex.build_encoder(), ex.build_decoder()
    _fill(encoder, 1)
    _fill(decoder, 2)
    images = tf.constant(ex.make_images(n=16))
    with tf.GradientTape() as tape:
        z_mean, z_log_var, _ = encoder(images)
        reconstruction = decoder(z_mean)
        reconstruction_loss = tf.reduce_mean(tf.reduce_sum(
            keras.losses.binary_crossentropy(images, reconstruction), axis=(1, 2)))
        kl_loss = tf.reduce_mean(tf.reduce_sum(
            -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)), axis=1))
        total = reconstruction_loss + kl_loss
    grads = tape.gradient(total, encoder.trainable_weights + decoder.trainable_weights)
    np.testing.assert_allclose(float(reconstruction_loss), 140.34840393066406,
                               rtol=2e-6)
    np.testing.assert_allclose(float(kl_loss), 2.848001480102539, rtol=2e-6)
    np.testing.assert_allclose(
        _abs_sums(grads)[:6],
        [681.7224, 277.547, 4589.5156, 205.1156, 662.9545, 49.0691], rtol=1e-5)


def test_timeseries_lstm_forecast_matches_tf():
    ex = load("timeseries_window")
    model = ex.build_model()
    _fill(model, 3)
    dataset = ex.windowed_dataset(ex.make_series()[:60], batch_size=4)
    inputs, target = next(iter(dataset))
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0)[:, 0],
        [-0.30730101466178894, -0.3091999888420105, -0.3122459948062897,
         -0.31666499376296997], rtol=1e-5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(inputs) - target))
    grads = tape.gradient(loss, model.trainable_variables)
    np.testing.assert_allclose(float(loss), 1.4710426330566406, rtol=1e-6)
    np.testing.assert_allclose(_abs_sums(grads),
                               [8.8707, 42.50276, 12.85373, 8.37833, 2.40808],
                               rtol=1e-5)
