"""Keras 3 optimizer options inside compiled ``fit``: gradient accumulation and EMA
(with overwrite), against the losses and weights TensorFlow 2.21 prints for the same
program."""

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras
RNG = np.random.default_rng(0)
X = RNG.random((64, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3

# (optimizer, epoch losses, optimizer.iterations, first kernel column) from TF 2.21
CASES = [
    (lambda o: o.Adam(0.1, gradient_accumulation_steps=2),
     [3.01331, 1.6382], 4, [0.60985, 0.60684, 0.61139]),
    (lambda o: o.SGD(0.1, gradient_accumulation_steps=2),
     [2.53094, 0.7936], 4, [0.67054, 0.4229, 0.6023]),
    (lambda o: o.Nadam(0.1, gradient_accumulation_steps=3),
     [3.21553, 2.29898], 2, [0.82152, 0.82354, 0.82397]),
    (lambda o: o.RMSprop(0.1, gradient_accumulation_steps=2, momentum=0.5),
     [2.36851, 0.57764], 4, [0.34734, 0.05859, 0.2408]),
    (lambda o: o.SGD(0.1, use_ema=True, ema_overwrite_frequency=3),
     [1.88419, 1.07884], 8, [0.83456, 0.77694, 0.81863]),
    (lambda o: o.Adam(0.1, use_ema=True, ema_momentum=0.5),
     [2.32196, 0.69222], 8, [0.37999, 0.34372, 0.36825]),
]


@pytest.mark.parametrize("make_opt,losses,iterations,kernel", CASES)
@pytest.mark.parametrize("eager", [False, True])
def test_accumulation_and_ema_match_tensorflow(make_opt, losses, iterations, kernel,
                                               eager):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_initializer="ones")])
    opt = make_opt(keras.optimizers)
    model.compile(opt, "mse", run_eagerly=eager)
    hist = model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], losses, atol=2e-5)
    assert int(opt.iterations.numpy()) == iterations
    np.testing.assert_allclose(model.get_weights()[0].ravel(), kernel, atol=2e-5)
