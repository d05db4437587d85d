"""Read-back of session 23's Keras changes, against TF 2.21 (Keras 3.15): optimizers
bound to their variables in the programs that must keep working (two optimizers,
compile twice, fine-tuning, checkpoint restore, MirroredStrategy, loss scaling),
``build`` called again keeping the slots, the ``jit_compile`` setter and
``keras.tree``'s integer keys."""

import collections

import numpy as np
import pytest

import dlframe as tf

keras = tf.keras

X = np.linspace(-1, 1, 64).reshape(16, 4).astype("float32")
Y = np.linspace(0, 1, 32).reshape(16, 2).astype("float32")


def _model(seed=1):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1"),
                             keras.layers.Dense(2, name="d2")])


def _step(model, optimizer, variables=None):
    variables = model.trainable_variables if variables is None else variables
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(X) - Y) ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))


# -- build again: a no-op for known variables (Keras 3), slots kept ---------------
def test_build_again_keeps_momentum():
    v = tf.Variable([1.0, 2.0])
    opt = keras.optimizers.SGD(0.1, momentum=0.9)
    opt.build([v])
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    opt.build([v, v])
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.71, 1.71], rtol=1e-6)   # TF 2.21
    assert len(opt.variables) == 3   # iterations, learning rate, one momentum


def test_build_after_fit_keeps_adam_state():
    m = _model()
    m.compile(keras.optimizers.Adam(0.05), "mse")
    m.fit(X, Y, epochs=2, verbose=0)
    count = len(m.optimizer.variables)
    moments = [w.numpy().copy() for w in m.optimizer.variables[2:]]
    m.optimizer.build(m.trainable_variables)
    assert len(m.optimizer.variables) == count == 10
    for w, before in zip(m.optimizer.variables[2:], moments):
        np.testing.assert_array_equal(w.numpy(), before)
    assert np.abs(moments[0]).max() > 0


# -- programs the "Unknown variable" error must not break (TF 2.21 runs them) ------
def test_gan_with_two_optimizers_trains_both():
    g, d = _model(1), _model(2)
    og, od = keras.optimizers.Adam(0.01), keras.optimizers.Adam(0.01)
    g0, d0 = g.layers[0].kernel.numpy().copy(), d.layers[0].kernel.numpy().copy()
    for _ in range(2):
        _step(g, og)
        _step(d, od)
    assert int(og.iterations.numpy()) == int(od.iterations.numpy()) == 2
    assert not np.allclose(g0, g.layers[0].kernel.numpy())
    assert not np.allclose(d0, d.layers[0].kernel.numpy())


def test_compile_twice_with_the_same_optimizer_keeps_training():
    m, opt = _model(), keras.optimizers.Adam()
    m.compile(opt, "mse")
    m.fit(X, Y, verbose=0, batch_size=16)
    m.compile(opt, "mse")
    m.fit(X, Y, verbose=0, batch_size=16)
    assert int(opt.iterations.numpy()) == 2


def test_fine_tuning_unfrozen_layers_needs_a_new_optimizer():
    m, opt = _model(), keras.optimizers.Adam()
    m.layers[0].trainable = False
    m.compile(opt, "mse")
    m.fit(X, Y, verbose=0)
    m.layers[0].trainable = True
    m.compile(opt, "mse")   # TF 2.21 raises too: the optimizer never saw d1
    with pytest.raises(ValueError, match=r"Unknown variable: .*d1/kernel.*recreate"):
        m.fit(X, Y, verbose=0)
    m.compile(keras.optimizers.Adam(), "mse")
    before = m.layers[0].kernel.numpy().copy()
    m.fit(X, Y, verbose=0)
    assert not np.allclose(before, m.layers[0].kernel.numpy())


def test_checkpoint_restore_before_the_first_step(tmp_path):
    m, opt = _model(), keras.optimizers.Adam(0.01)
    m.compile(opt, "mse")
    m.fit(X, Y, verbose=0, batch_size=16, epochs=2)
    path = tf.train.Checkpoint(model=m, optimizer=opt).save(str(tmp_path / "c"))
    m2, opt2 = _model(5), keras.optimizers.Adam(0.01)
    tf.train.Checkpoint(model=m2, optimizer=opt2).restore(path)
    _step(m2, opt2)
    _step(m, opt)
    assert int(opt2.iterations.numpy()) == 3
    for a, b in zip(m.trainable_variables, m2.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_mirrored_strategy_unbuilt_subclassed_model_fits():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = keras.layers.Dense(3), keras.layers.Dense(2)

        def call(self, x):
            return self.b(self.a(x))

    with tf.distribute.MirroredStrategy().scope():
        keras.utils.set_random_seed(2)
        m = Net()
        m.compile(keras.optimizers.Adam(0.01), "mse")
    losses = m.fit(X, Y, epochs=3, batch_size=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    assert len(m.optimizer.variables) == 10   # TF 2.21: 2 + 2 * 4 slots


def test_loss_scale_optimizer_refuses_a_new_variable():
    v, w = tf.Variable(2.0), tf.Variable(3.0)
    opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.Adam())
    opt.apply_gradients([(tf.constant(1.0), v)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(tf.constant(1.0), w)])
    assert float(w.numpy()) == 3.0


# -- jit_compile: Keras 3's setter ignores run_eagerly --------------------------
def test_jit_compile_setter_with_run_eagerly():
    m = _model()
    m.compile("sgd", "mse", run_eagerly=True)
    m.jit_compile = True
    assert m.jit_compile is True   # TF 2.21: True, no warning
    with pytest.warns(UserWarning, match="run_eagerly"):
        m.compile("sgd", "mse", run_eagerly=True, jit_compile=True)
    assert m.jit_compile is False


# -- keras.tree: integer keys in numeric order (optree) -----------------------------
def test_tree_integer_keys_sort_numerically():
    tree = keras.tree
    assert tree.flatten({10: "a", 9: "b", 1: "c"}) == ["c", "b", "a"]   # TF 2.21
    assert tree.flatten({"a": 1, 2: 3}) == [3, 1]
    packed = tree.pack_sequence_as({10: 0, 9: 0}, [1, 2])
    assert packed == {10: 2, 9: 1} and list(packed) == [10, 9]
    od = collections.OrderedDict([(10, 1), (9, 2)])
    assert tree.flatten(od) == [1, 2]
    assert tree.map_structure(lambda a, b: a - b, {10: 5, 2: 1}, {2: 1, 10: 1}) == \
        {10: 4, 2: 0}


# -- Keras 2 OptimizerV2 subclasses stay lazy (TF 2.15's legacy.Optimizer) ---------
def _momentum_v2(base):
    class MomentumV2(base):
        def __init__(self, learning_rate=0.1, name="MomentumV2", **kwargs):
            super().__init__(name, **kwargs)
            self._set_hyper("learning_rate", learning_rate)

        def _create_slots(self, var_list):
            for var in var_list:
                self.add_slot(var, "m")

        def _resource_apply_dense(self, grad, var, apply_state=None):
            m = self.get_slot(var, "m")
            m.assign(0.9 * m + grad)
            return var.assign_sub(self._get_hyper("learning_rate") * m)
    return MomentumV2()


@pytest.mark.parametrize("base", ["legacy", "plain"])
def test_keras2_optimizer_v2_subclass_takes_new_variables(base):
    opt = _momentum_v2(keras.optimizers.legacy.Optimizer if base == "legacy"
                       else keras.optimizers.Optimizer)
    v, w = tf.Variable(1.0), tf.Variable(2.0)
    for _ in range(2):
        opt.apply_gradients([(tf.constant(1.0), v)])
    opt.apply_gradients([(tf.constant(1.0), w), (tf.constant(1.0), v)])
    # OptimizerV2: w gets a fresh slot, v keeps its momentum (1.9 -> 2.71)
    np.testing.assert_allclose([w.numpy(), v.numpy()], [1.9, 0.439], rtol=1e-6)


def test_legacy_classes_are_legacy_optimizers():
    legacy = keras.optimizers.legacy
    assert isinstance(legacy.Adam(), legacy.Optimizer)
    assert isinstance(legacy.Adam(), keras.optimizers.Adam)
    assert not isinstance(keras.optimizers.Adam(), legacy.Optimizer)   # Keras 2.11+
