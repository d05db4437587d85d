"""``tf.saved_model.save``/``load`` of ``tf.Module`` objects, subclassed models and
their signatures (TF's "Introduction to modules" and "Using the SavedModel format"
guides), saved by value with their variables in a checkpoint file."""

import os
import subprocess
import sys
import textwrap
import threading

import cloudpickle
import numpy as np
import pytest

import dlframe as tf
from dlframe import backends, errors

keras = tf.keras
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CustomModule(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable(1.0)

    @tf.function
    def __call__(self, x):
        print("Tracing with", x)
        return x * self.v

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def mutate(self, new_v):
        self.v.assign(new_v)


def _save_load(obj, path, **kwargs):
    tf.saved_model.save(obj, str(path), **kwargs)
    return tf.saved_model.load(str(path))


def test_guide_module_round_trip(tmp_path, capsys):
    module = CustomModule()
    module(tf.constant(0.0))
    assert capsys.readouterr().out.count("Tracing with") == 1
    path = tmp_path / "module_no_signatures"
    imported = _save_load(module, path)
    assert {"variables", "assets"} <= set(os.listdir(path))
    assert tf.saved_model.contains_saved_model(str(path))
    assert imported(tf.constant(3.0)).numpy() == 3.0
    imported.mutate(tf.constant(2.0))
    assert imported(tf.constant(3.0)).numpy() == 6.0
    assert imported.v.numpy() == 2.0 and module.v.numpy() == 1.0
    assert imported.v.name == "Variable:0"
    # a loaded function runs no trace-time Python print, as in TF
    assert "Tracing with" not in capsys.readouterr().out
    # TF: a single input_signature function returning nothing is no signature
    assert list(imported.signatures.keys()) == []
    with pytest.raises(TypeError):   # TF 2.21: TypeError (dtype cannot be cast)
        imported.mutate(tf.constant(2))
    imported.mutate(5.0)             # Python floats convert, as in TF
    assert imported.v.numpy() == 5.0
    # as TF: a shape no saved trace fits has no concrete function to call
    with pytest.raises(ValueError, match="Could not find matching concrete"):
        imported(tf.constant([1.0, 2.0]))


def test_concrete_function_signature(tmp_path):
    module = CustomModule()
    module(tf.constant(0.0))   # traced for a scalar first: the spec must stay unknown
    concrete = module.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))
    assert concrete.structured_input_signature[0][0].shape.rank is None   # (args, kwargs)
    imported = _save_load(module, tmp_path / "m", signatures=concrete)
    assert list(imported.signatures.keys()) == ["serving_default"]
    serve = imported.signatures["serving_default"]
    assert serve.structured_input_signature[1]["x"].shape.rank is None
    out = serve(x=tf.constant([1.0, 2.0]))
    assert list(out) == ["output_0"]
    np.testing.assert_array_equal(out["output_0"].numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(serve(tf.constant([3.0]))["output_0"].numpy(), [3.0])
    with pytest.raises(TypeError, match="'y'"):
        serve(y=tf.constant([1.0]))
    with pytest.raises(TypeError, match="missing"):
        serve()
    with pytest.raises(errors.InvalidArgumentError):   # TF: InvalidArgumentError
        serve(x=tf.constant([1, 2]))


class TwoInputs(tf.Module):
    def __init__(self):
        super().__init__()
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="inp")])
    def __call__(self, x):
        return {"y": x * self.scale, "z": x + 1.0}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([None], tf.int32, name="cnt")])
    def times(self, x, n):
        return x * tf.cast(n, tf.float32), x


def test_signature_names_outputs_and_dicts(tmp_path):
    module = TwoInputs()
    sigs = {"scaled": module.__call__, "times": module.times}
    imported = _save_load(module, tmp_path / "m", signatures=sigs)
    assert sorted(imported.signatures) == ["scaled", "times"]
    out = imported.signatures["scaled"](inp=tf.constant([1.0, 2.0]))
    assert sorted(out) == ["y", "z"]      # a dict return keeps its keys
    np.testing.assert_array_equal(out["y"].numpy(), [2.0, 4.0])
    times = imported.signatures["times"]
    assert sorted(times.structured_input_signature[1]) == ["cnt", "x"]
    out = times(x=tf.constant([1.0, 2.0]), cnt=tf.constant([3, 4]))
    assert sorted(out) == ["output_0", "output_1"]
    np.testing.assert_array_equal(out["output_0"].numpy(), [3.0, 8.0])
    np.testing.assert_array_equal(times(x=[1.0], cnt=[2])["output_0"].numpy(), [2.0])
    with pytest.raises(errors.InvalidArgumentError):
        times(x=tf.constant([1.0]), cnt=tf.constant([3.0]))
    with pytest.raises(errors.InvalidArgumentError):   # rank 0 for a [None] spec
        times(x=tf.constant(1.0), cnt=tf.constant([3]))


class OnlyF(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(self, x):
        return x * 2.0

    @tf.function
    def g(self, x):
        return x


class TwoSigned(OnlyF):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def h(self, x):
        return x


class NestedOutput(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(self, x):
        return [x, {"k": x}]


class Holder(tf.Module):
    def __init__(self):
        super().__init__()
        self.sub = OnlyF()


@pytest.mark.parametrize("cls, keys", [(OnlyF, ["serving_default"]), (TwoSigned, []),
                                       (NestedOutput, []), (Holder, [])])
def test_default_signature_rule(tmp_path, cls, keys):
    """Checked against TF 2.21: serving_default only when exactly one tf.function of
    the root object itself has an input_signature and returns Tensors."""
    imported = _save_load(cls(), tmp_path / "m")
    assert list(imported.signatures) == keys
    if keys:
        out = imported.signatures["serving_default"](x=tf.constant([1.0]))
        np.testing.assert_array_equal(out["output_0"].numpy(), [2.0])


def test_bad_arguments(tmp_path):
    module = OnlyF()
    with pytest.raises(ValueError, match="input signature or concrete"):
        tf.saved_model.save(module, str(tmp_path / "a"), signatures=module.g)
    with pytest.raises(ValueError, match="input signature or concrete"):
        tf.saved_model.save(module, str(tmp_path / "a"), signatures=5)
    with pytest.raises(ValueError, match="must be a single Tensor"):
        tf.saved_model.save(NestedOutput(), str(tmp_path / "a"),
                            signatures=NestedOutput().f)
    with pytest.raises(ValueError, match="returns no Tensor"):
        custom = CustomModule()
        tf.saved_model.save(custom, str(tmp_path / "a"), signatures=custom.mutate)
    with pytest.raises(ValueError, match="Trackable"):
        tf.saved_model.save(5, str(tmp_path / "a"))
    assert not os.path.exists(tmp_path / "a")


class Net(tf.Module):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3, activation="relu")
        self.head = keras.layers.Dense(1)
        self.shared = tf.Variable([1.0, 2.0, 3.0], name="shared")
        self.extras = [self.shared, tf.Variable(0.5, trainable=False, name="frozen")]
        self.table = {"bias": tf.Variable([0.1], name="bias")}
        self.offset = tf.constant([10.0])
        self.tape = tf.GradientTape(persistent=True)
        self.device_handle = backends.get_device("cpu:0")

    @tf.function
    def __call__(self, x):
        h = self.dense(x) * self.shared
        return self.head(h) * self.extras[1] + self.table["bias"]


def test_nested_module_variables_and_training(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    net = Net()
    ref = net(x).numpy()
    imported = _save_load(net, tmp_path / "net")
    np.testing.assert_allclose(imported(x).numpy(), ref, rtol=1e-6)
    assert imported.extras[0] is imported.shared   # one variable, as saved
    assert [v.name for v in imported.variables] == [v.name for v in net.variables]
    for a, b in zip(imported.variables, net.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.trainable == b.trainable and a is not b
    assert len(imported.trainable_variables) == len(net.trainable_variables) == 6
    np.testing.assert_array_equal(imported.offset.numpy(), [10.0])
    assert isinstance(imported.tape, tf.GradientTape)   # a new, empty tape
    assert imported.device_handle is backends.current_device()   # not pickled

    def loss():
        return tf.reduce_mean((imported(x) - y) ** 2)
    before = float(loss())
    opt = keras.optimizers.SGD(0.05)
    for _ in range(20):
        with tf.GradientTape() as tape:
            value = loss()
        grads = tape.gradient(value, imported.trainable_variables)
        opt.apply_gradients(zip(grads, imported.trainable_variables))
    assert float(loss()) < before
    np.testing.assert_allclose(net(x).numpy(), ref)   # the original is untouched


def test_variables_come_from_the_checkpoint_file(tmp_path):
    """The values live in variables/variables (tf.train.Checkpoint's file and paths),
    not in the pickle: TF programs restore a fresh object from that prefix."""
    module = CustomModule()
    module.big = tf.Variable(tf.zeros([100_000]))
    path = tmp_path / "m"
    tf.saved_model.save(module, str(path))
    assert os.path.getsize(path / "saved_object.pkl") < 50_000
    prefix = str(path / "variables" / "variables")
    fresh = CustomModule()
    fresh.v.assign(-1.0)
    tf.train.Checkpoint(fresh).restore(prefix)
    assert fresh.v.numpy() == 1.0
    module.v.assign(7.0)
    tf.train.Checkpoint(module).write(prefix)   # rewrite only the variables file
    assert tf.saved_model.load(str(path)).v.numpy() == 7.0


def test_function_pickles_without_traces():
    @tf.function
    def double(x):
        return x * 2.0
    double(tf.constant(1.0))
    concrete = double.get_concrete_function(tf.TensorSpec([None]))
    restored = cloudpickle.loads(cloudpickle.dumps(double))
    assert restored._cache == {} and restored.experimental_get_tracing_count() == 0
    assert restored(tf.constant(3.0)).numpy() == 6.0
    assert restored.experimental_get_tracing_count() == 1
    again = cloudpickle.loads(cloudpickle.dumps(concrete))
    assert again.graph is None
    np.testing.assert_array_equal(again(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])


def test_print_runs_at_trace_time_only(capsys):
    @tf.function
    def f(x):
        print("Tracing with", x)
        return x
    f(tf.constant(1.0))
    f(tf.constant(2.0))
    out = capsys.readouterr().out
    assert out.count("Tracing with") == 1 and "shape=()" in out


def test_overwrite_is_atomic_and_failures_leave_the_old_save(tmp_path):
    path = tmp_path / "m"
    path.mkdir()                     # guides save into an existing (empty) temp dir
    module = CustomModule()
    tf.saved_model.save(module, str(path))
    module.v.assign(3.0)
    tf.saved_model.save(module, str(path))
    assert tf.saved_model.load(str(path)).v.numpy() == 3.0
    module.lock = threading.Lock()
    module.v.assign(4.0)
    with pytest.raises(ValueError, match=r"object\.lock"):
        tf.saved_model.save(module, str(path))
    assert tf.saved_model.load(str(path)).v.numpy() == 3.0
    assert sorted(os.listdir(tmp_path)) == ["m"]    # no temporary directory left


class Classifier(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32,
                                                name="features")])
    def serve(self, x):
        logits = self(x)
        return {"logits": logits, "probs": tf.nn.softmax(logits)}

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def embed(self, x):
        return self.hidden(x)


def _classifier_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def test_subclassed_model_with_signatures(tmp_path):
    x, y = _classifier_data()
    model = Classifier()
    model.compile(keras.optimizers.Adam(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, verbose=0)
    ref = model.predict(x, verbose=0)
    path = str(tmp_path / "clf")
    imported = _save_load(model, path, signatures={"serving_default": model.serve,
                                                   "embed": model.embed})
    assert sorted(imported.signatures) == ["embed", "serving_default"]
    out = imported.signatures["serving_default"](features=tf.constant(x))
    assert sorted(out) == ["logits", "probs"]
    np.testing.assert_allclose(out["logits"].numpy(), ref, rtol=1e-5, atol=1e-6)
    assert list(imported.signatures["embed"](x=tf.constant(x))) == ["output_0"]
    np.testing.assert_allclose(imported.serve(tf.constant(x))["logits"].numpy(), ref,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError):
        imported.serve(tf.constant(x, dtype=tf.float64))
    # Keras 2's load_model reads it back as the model, compiled, and it keeps training
    again = keras.models.load_model(path)
    assert isinstance(again, Classifier)
    np.testing.assert_allclose(again.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-6)
    first = again.evaluate(x, y, verbose=0)
    again.fit(x, y, epochs=5, verbose=0)
    assert again.evaluate(x, y, verbose=0) < first


def test_subclassed_model_default_signature_and_functional(tmp_path):
    x, _ = _classifier_data()
    model = Classifier()
    ref = model(x).numpy()
    imported = _save_load(model, tmp_path / "sub")
    serve = imported.signatures["serving_default"]   # Keras 3: the model's call
    assert list(serve.structured_input_signature[1]) == ["inputs"]
    np.testing.assert_allclose(serve(inputs=tf.constant(x))["output_0"].numpy(), ref,
                               rtol=1e-6)
    # a functional model without signatures keeps the Keras file layout
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, keras.layers.Dense(2, name="scores")(inputs))
    tf.saved_model.save(functional, str(tmp_path / "fn"))
    assert "keras_model.h5" in os.listdir(tmp_path / "fn")
    # ... and with signatures it is saved by value, still readable by load_model
    sig = tf.function(lambda t: functional(t),
                      input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    tf.saved_model.save(functional, str(tmp_path / "fn2"), signatures=sig)
    loaded = keras.models.load_model(str(tmp_path / "fn2"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               functional.predict(x, verbose=0), rtol=1e-6)
    assert list(tf.saved_model.load(str(tmp_path / "fn2")).signatures) == [
        "serving_default"]
    module_dir = str(tmp_path / "plain_module")
    tf.saved_model.save(CustomModule(), module_dir)
    with pytest.raises(ValueError, match="Keras model"):
        keras.models.load_model(module_dir)


SAVE_SCRIPT = """
import sys
import dlframe as tf

class Scaler(tf.Module):          # defined in __main__: not importable later
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[1.0], [2.0]], name="w")
        self.layer = tf.keras.layers.Dense(1, kernel_initializer="ones")

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def __call__(self, x):
        return tf.matmul(x, self.w) + self.layer(x)

    def describe(self):
        return "scaler with " + str(len(self.trainable_variables)) + " variables"

module = Scaler()
module.w.assign([[3.0], [4.0]])
tf.saved_model.save(module, sys.argv[1])
"""

LOAD_SCRIPT = """
import sys
import dlframe as tf
loaded = tf.saved_model.load(sys.argv[1])
x = tf.constant([[1.0, 1.0], [2.0, 0.5]])
print(loaded(x).numpy().ravel().tolist())
print(loaded.signatures["serving_default"](x=x)["output_0"].numpy().ravel().tolist())
print(loaded.describe())
print(type(loaded).__name__, "Scaler" in dir(sys.modules["__main__"]))
"""


def test_load_in_a_fresh_process_without_the_class(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get(
        "PYTHONPATH", ""), DLFRAME_DEVICE="cpu")
    save_py, load_py = tmp_path / "save_it.py", tmp_path / "load_it.py"
    save_py.write_text(textwrap.dedent(SAVE_SCRIPT))
    load_py.write_text(textwrap.dedent(LOAD_SCRIPT))
    target = str(tmp_path / "exported")
    subprocess.run([sys.executable, str(save_py), target], check=True, env=env,
                   cwd=str(tmp_path), capture_output=True, text=True)
    out = subprocess.run([sys.executable, str(load_py), target], check=True, env=env,
                         cwd=str(tmp_path), capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    # x @ [[3], [4]] + x @ ones(2, 1) (bias 0): [7 + 2, 8 + 2.5]
    assert lines[0] == "[9.0, 10.5]" and lines[1] == "[9.0, 10.5]"
    assert lines[2] == "scaler with 3 variables"
    assert lines[3] == "Scaler False"


class Trainer(tf.Module):
    def __init__(self):
        super().__init__()
        self.model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                       keras.layers.Dense(1)])
        self.opt = keras.optimizers.Adam(0.01)

    @tf.function(input_signature=[tf.TensorSpec([None, 4]), tf.TensorSpec([None, 1])])
    def train(self, x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((self.model(x) - y) ** 2)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss


def test_loaded_optimizer_continues_the_same_trajectory(tmp_path):
    """Adam's slots and step count come back attached to the loaded variables, so the
    loaded trainer takes exactly the steps the original takes."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    trainer = Trainer()
    for _ in range(3):
        trainer.train(x, y)
    loaded = _save_load(trainer, tmp_path / "trainer")
    assert len(loaded.opt.variables) == len(trainer.opt.variables)
    assert list(loaded.signatures) == ["serving_default"]
    for _ in range(3):
        np.testing.assert_allclose(float(loaded.train(x, y)), float(trainer.train(x, y)),
                                   rtol=1e-6)
    assert int(loaded.opt.iterations) == 6
    for a, b in zip(loaded.model.variables, trainer.model.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
