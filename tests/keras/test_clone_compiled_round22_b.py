"""``clone_model`` of a compiled Sequential or functional model returns a compiled
clone, as TF 2.21 (Keras 3) does: a new optimizer of the same configuration, the
same losses and metrics, no shared state. Where the compile config cannot be
rebuilt (an unregistered custom loss) the clone stays uncompiled, as Keras 2 left
every clone (TF 2.21 raises TypeError there)."""

import numpy as np
import pytest

from dlframe import keras


def _data():
    rng = np.random.RandomState(0)
    x = rng.rand(16, 4).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)


def _functional():
    inp = keras.Input((4,), name="in")
    out = keras.layers.Dense(1, name="out")(keras.layers.Dense(5, name="h")(inp))
    return keras.Model(inp, out)


def _sequential():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])


@pytest.mark.parametrize("build", [_functional, _sequential])
def test_clone_of_compiled_model_is_compiled(build):
    x, y = _data()
    model = build()
    model.compile(keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, verbose=0)
    clone = keras.models.clone_model(model)
    assert clone.compiled                        # TF 2.21: True
    assert clone.optimizer is not model.optimizer
    assert type(clone.optimizer).__name__ == "Adam"
    assert float(clone.optimizer.learning_rate) == pytest.approx(0.05)
    assert int(clone.optimizer.iterations) == 0
    clone.set_weights(model.get_weights())
    before = [w.copy() for w in model.get_weights()]
    history = clone.fit(x, y, epochs=3, verbose=0)   # trains without compile()
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    for a, b in zip(before, model.get_weights()):   # the original is untouched
        np.testing.assert_array_equal(a, b)
    result = clone.evaluate(x, y, verbose=0, return_dict=True)
    pred = clone.predict(x, verbose=0)
    assert result["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)


def test_clone_of_uncompiled_model_is_not_compiled():
    clone = keras.models.clone_model(_functional())
    assert not clone.compiled
    with pytest.raises(RuntimeError, match="compile"):
        clone.fit(*_data(), verbose=0)


def test_clone_with_unregistered_custom_loss_stays_uncompiled():
    def half_mse(y_true, y_pred):
        return 0.5 * keras.ops.mean(keras.ops.square(y_true - y_pred))

    model = _functional()
    model.compile("sgd", loss=half_mse)
    clone = keras.models.clone_model(model)
    assert not clone.compiled                  # Keras 2's clone; compile it again
    clone.compile("sgd", loss=half_mse)
    x, y = _data()
    clone.set_weights(model.get_weights())
    assert clone.evaluate(x, y, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-6)


def test_load_model_without_custom_loss_raises_type_and_value_error(tmp_path):
    """TF 2.21 raises TypeError ("Could not locate function"), Keras 2 ValueError
    ("Unknown loss function"): one error class that both ``except`` clauses catch."""
    def my_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    model = _sequential()
    model.compile("sgd", loss=my_loss)
    path = str(tmp_path / "m.keras")
    model.save(path)
    for cls in (TypeError, ValueError):
        with pytest.raises(cls, match="my_loss"):
            keras.models.load_model(path)
    restored = keras.models.load_model(path, custom_objects={"my_loss": my_loss})
    x, y = _data()
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-6)
