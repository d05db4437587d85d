"""Host-only kernels (strings, lookup tables, Python loops) on a GPU default device.

TF runs such kernels on the CPU and copies numbers across; dlframe's host kernels
(``Primitive.host_kernel``) run on ``cpu:0`` on host copies of their inputs, keep
string outputs there and put numeric outputs on the GPU, so the next numeric op
(Embedding's gather, the tf_idf multiply) finds them beside the model's weights.
Each scenario runs in a subprocess under the strict fake CuPy of
``test_fake_gpu_round19`` and, for the reference, on the CPU: the printed results
must agree.
"""

import os
import subprocess
import sys

from tests.test_fake_gpu_round19 import FAKE, ROOT, _env

_PRELUDE = r"""
import os
if os.environ["DLFRAME_DEVICE"].startswith("gpu"):
    import fake_gpu_plugin  # noqa: F401
import numpy as np
import dlframe as tf
GPU = os.environ["DLFRAME_DEVICE"].startswith("gpu")


def where(t, host):
    '''Checks the device TF's copies give: host for strings, else the GPU.'''
    want = "CPU:0" if host or not GPU else "GPU:0"
    assert t.device.endswith(want), (t.device, want)


def show(name, value):
    print(name, np.round(np.asarray(value, dtype="float64"), 4).tolist())
"""


def _outputs(script, device):
    env = _env() if device == "gpu" else dict(
        os.environ, PYTHONPATH=os.pathsep.join([FAKE, ROOT]), DLFRAME_DEVICE="cpu")
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + script], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    return proc.stdout


def _same_on_gpu_and_cpu(script):
    gpu = _outputs(script, "gpu")
    assert gpu == _outputs(script, "cpu")
    assert gpu.count("\n") > 2, gpu
    return gpu


_STRINGS = r"""
x = tf.constant([1.5, 2.25])
s = tf.strings.as_string(x, precision=2)
where(s, True)
print(s.numpy().tolist(), tf.strings.as_string(tf.constant([3, -4])).numpy().tolist())
h = tf.keras.layers.Hashing(num_bins=5)(tf.constant([[1], [2], [33]]))
where(h, False)
print(h.numpy().tolist(), h.dtype.name)   # TF 2.21: [[4], [4], [4]] int64
hs = tf.keras.layers.Hashing(num_bins=7, mask_value="")(tf.constant(["a", "", "c"]))
where(hs, False)
print(hs.numpy().tolist())
sub = tf.strings.substr(tf.constant(["hello", "world"]), tf.constant([1, 2]),
                        tf.constant([2, 3]))
where(sub, True)
print(sub.numpy().tolist())
n = tf.strings.to_number(tf.constant(["1.5", "-2"]))
where(n, False)
print((n * tf.ones([2])).numpy().tolist())
ln = tf.strings.length(tf.constant(["ab", "cde"]))
print((ln + tf.constant([1, 1])).numpy().tolist())

@tf.function
def fmt(v):
    return tf.strings.as_string(v * 2), tf.strings.to_hash_bucket_fast(
        tf.strings.as_string(v), 10) + 1

for v in ([1, 2], [3]):   # traced once per shape, replayed after
    a, b = fmt(tf.constant(v))
    where(a, True)
    where(b, False)
    print(a.numpy().tolist(), b.numpy().tolist())
"""


def test_string_kernels_on_fake_gpu_equal_cpu():
    out = _same_on_gpu_and_cpu(_STRINGS)
    assert "[b'1.50', b'2.25'] [b'3', b'-4']" in out
    assert "[[4], [4], [4]] int64" in out
    assert "[b'el', b'rld']" in out


_TABLES = r"""
init = tf.lookup.KeyValueTensorInitializer(tf.constant(["a", "b"]),
                                           tf.constant([1, 2], dtype=tf.int64))
table = tf.lookup.StaticHashTable(init, default_value=-1)
ids = table.lookup(tf.constant(["a", "c", "b"]))
where(ids, False)
print(ids.numpy().tolist(), (ids * 2).numpy().tolist(), int(table.size()))
inv = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
    tf.constant([5, 7], dtype=tf.int64), tf.constant(["five", "seven"])), "?")
words = inv.lookup(tf.argmax(tf.constant([[0.0, 1.0]]), axis=1) * 2 + 5)
where(words, True)
print(words.numpy().tolist())
vocab = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=3)
print(vocab.lookup(tf.constant(["a", "zz", "b"])).numpy().tolist())
mut = tf.lookup.experimental.MutableHashTable(tf.string, tf.float32, -1.0)
mut.insert(tf.constant(["x", "y"]), tf.constant([0.5, 1.5]))
got = mut.lookup(tf.constant(["y", "q"]))
where(got, False)
print(got.numpy().tolist(), (got + tf.ones([2])).numpy().tolist())

@tf.function
def find(keys):
    return table.lookup(keys) + 1

for k in (["a"], ["b", "q"], ["b"]):
    print(find(tf.constant(k)).numpy().tolist())
print([b.numpy().tolist() for b in tf.data.Dataset.from_tensor_slices(
    ["b", "a", "zz"]).map(table.lookup).batch(3)])
"""


def test_lookup_tables_on_fake_gpu_equal_cpu():
    out = _same_on_gpu_and_cpu(_TABLES)
    assert "[1, -1, 2] [2, -2, 4] 2" in out
    assert "[b'seven']" in out


_LOOKUP_LAYERS = r"""
for cls, data, query in ((tf.keras.layers.StringLookup, ["a", "b", "a", "c"],
                          [["a", "b"], ["c", "a"]]),
                         (tf.keras.layers.IntegerLookup, [1, 2, 1, 3], [[1, 2], [3, 1]])):
    for mode in ("tf_idf", "count", "multi_hot", "int"):
        layer = cls(output_mode=mode)
        layer.adapt(tf.constant(data))
        got = layer(tf.constant(query))
        where(got, False)
        show(cls.__name__ + mode, got.numpy())
    inv = cls(vocabulary=data[1:3], invert=True)
    back = inv(tf.constant([[1, 2]]))
    where(back, cls is tf.keras.layers.StringLookup)
    print(back.numpy().tolist())
lookup = tf.keras.layers.StringLookup(vocabulary=["a", "b", "c"])
embed = tf.keras.layers.Embedding(5, 2, embeddings_initializer="ones")
embed.build((None,))
with tf.GradientTape() as tape:
    y = tf.reduce_sum(embed(lookup(tf.constant(["a", "b", "a", "z"]))))
grad = tape.gradient(y, embed.trainable_variables)[0]
print(float(y), tf.convert_to_tensor(grad).numpy().tolist())
with tf.GradientTape() as tape:
    ids = lookup(tf.constant(["a"]))
print(tape.gradient(tf.reduce_sum(tf.cast(ids, tf.float32)), embed.embeddings))
ds = tf.data.Dataset.from_tensor_slices(["a", "b", "q"]).map(lookup).batch(3)
print([b.numpy().tolist() for b in ds])
chars = tf.strings.unicode_split(tf.constant(["abc", "ca"]), input_encoding="UTF-8")
char_ids = tf.keras.layers.StringLookup(vocabulary=list("abc"))(chars)
print(embed(char_ids.to_tensor()).shape, char_ids.to_tensor().numpy().tolist())
labels = tf.constant(["pos", "neg", "pos"])
weights = tf.where(labels == "pos", tf.ones([3]), tf.zeros([3]))
where(weights, False)
print(weights.numpy().tolist(), tf.math.not_equal(labels, "neg").numpy().tolist())
"""


def test_lookup_layers_tf_idf_and_embedding_on_fake_gpu_equal_cpu():
    out = _same_on_gpu_and_cpu(_LOOKUP_LAYERS)
    # idf of a (2 of 4 docs), b and c (1 of 4): log(1 + 4 / (1 + df))
    assert "StringLookuptf_idf [[0.0, 0.8473, 0.0, 1.0986]," in out
    # ids a=1, b=2, a=1, z=0 (OOV)
    assert "8.0 [[1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [0.0, 0.0]" in out


_MODEL = r"""
tf.keras.utils.set_random_seed(3)
words = np.array([["good"], ["bad"], ["fun"], ["sad"]] * 8, dtype=object)
labels = np.array([1, 0, 1, 0] * 8, dtype="float32")
inp = tf.keras.Input(shape=(1,), dtype="string")
x = tf.keras.layers.StringLookup(vocabulary=["good", "bad", "fun", "sad"])(inp)
x = tf.keras.layers.Embedding(6, 3)(x)
x = tf.keras.layers.Flatten()(x)
out = tf.keras.layers.Dense(1, activation="sigmoid")(x)
model = tf.keras.Model(inp, out)
model.compile(tf.keras.optimizers.SGD(0.5), "binary_crossentropy")
hist = model.fit(words, labels, epochs=15, batch_size=8, shuffle=False, verbose=0)
loss = hist.history["loss"]
assert loss[-1] < 0.5 * loss[0], loss
pred = model.predict(words[:4], verbose=0)
where(tf.constant(pred), False)
show("loss", loss[::5])
show("pred", pred)
texts = np.array(["good fun", "bad sad", "fun good good", "sad bad"] * 4)
vec = tf.keras.layers.TextVectorization(max_tokens=8, output_sequence_length=3)
vec.adapt(texts)
clf = tf.keras.Sequential([vec, tf.keras.layers.Embedding(8, 4),
                           tf.keras.layers.GlobalAveragePooling1D(),
                           tf.keras.layers.Dense(1, activation="sigmoid")])
clf.compile("adam", "binary_crossentropy")
clf.fit(tf.constant(texts), np.array([1, 0, 1, 0] * 4, "float32"), epochs=2,
        verbose=0)
show("clf", clf.predict(tf.constant(texts[:2]), verbose=0))
tfidf = tf.keras.layers.TextVectorization(max_tokens=8, output_mode="tf_idf")
tfidf.adapt(texts)
bow = tf.keras.Sequential([tf.keras.Input(shape=(), dtype="string"), tfidf,
                           tf.keras.layers.Dense(1)])
bow.compile("adam", tf.keras.losses.BinaryCrossentropy(from_logits=True))
bow.fit(tf.constant(texts), labels[:16], epochs=2, verbose=0)
show("bow", bow.predict(tf.constant(texts[:2]), verbose=0))
ds = tf.data.Dataset.from_tensor_slices((texts, labels[:16])).batch(8).map(
    lambda t, y: (vec(t), y))   # the text tutorials' pipeline (runs on the host)
seq = tf.keras.Sequential([tf.keras.layers.Embedding(8, 4),
                           tf.keras.layers.GlobalAveragePooling1D(),
                           tf.keras.layers.Dense(1)])
seq.compile("adam", tf.keras.losses.BinaryCrossentropy(from_logits=True))
show("seq", seq.fit(ds, epochs=2, verbose=0).history["loss"])
"""


def test_string_lookup_embedding_model_fits_on_fake_gpu_like_cpu():
    out = _same_on_gpu_and_cpu(_MODEL)
    assert out.startswith("loss ")


_RECORDS = r"""
ex = tf.train.Example(features=tf.train.Features(feature={
    "ids": tf.train.Feature(int64_list=tf.train.Int64List(value=[4, 2])),
    "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"p", b"q"])),
    "f": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5]))})).SerializeToString()
spec = {"ids": tf.io.VarLenFeature(tf.int64), "tags": tf.io.VarLenFeature(tf.string),
        "f": tf.io.FixedLenFeature([1], tf.float32),
        "miss": tf.io.FixedLenFeature([2], tf.int64, default_value=[7, 8])}
one = tf.io.parse_single_example(ex, spec)
print(tf.sparse.to_dense(one["ids"]).numpy().tolist(),
      tf.sparse.to_dense(one["tags"]).numpy().tolist(), one["miss"].numpy().tolist())
many = tf.io.parse_example(tf.constant([ex, ex]), spec)
print(tf.sparse.to_dense(many["tags"]).numpy().tolist(),
      tf.sparse.to_dense(many["ids"]).numpy().tolist())
ds = tf.data.Dataset.from_tensor_slices([ex, ex]).map(
    lambda s: tf.sparse.to_dense(tf.io.parse_single_example(s, spec)["tags"]))
print([b.numpy().tolist() for b in ds])
rag = tf.ragged.constant([["a", "b"], ["c"]])
dense = rag.to_tensor(default_value="-")
where(dense, True)
print(dense.numpy().tolist(), tf.strings.split(tf.constant(["a b", "c"])).to_tensor(
    ).numpy().tolist())
vocab = tf.constant(["zero", "one", "two"])
print(tf.gather(vocab, tf.argmax(tf.constant([[0.1, 0.9, 0.0], [0.0, 0.0, 2.0]]),
                                 axis=1)).numpy().tolist())
hyp = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant(["a", "b", "c"]), [2, 2])
truth = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], tf.constant(["a", "c", "d"]), [2, 2])
dist = tf.edit_distance(hyp, truth)
where(dist, False)
print(dist.numpy().tolist(), tf.edit_distance(
    hyp, truth, normalize=False).numpy().tolist())
ihyp = tf.SparseTensor([[0, 0], [0, 1]], tf.constant([1, 2], tf.int64), [1, 2])
itruth = tf.SparseTensor([[0, 0]], tf.constant([1], tf.int64), [1, 1])
print(tf.function(lambda a, b: tf.edit_distance(a, b, normalize=False))(
    ihyp, itruth).numpy().tolist())
"""


def test_records_ragged_strings_and_edit_distance_on_fake_gpu_equal_cpu():
    out = _same_on_gpu_and_cpu(_RECORDS)
    assert "[4, 2] [b'p', b'q'] [7, 8]" in out
    assert "[b'one', b'two']" in out
    # TF 2.21: hypothesis [a, b] vs truth [a]: 1 edit / 1; [c] vs [c, d]: 1 / 2
    assert "[1.0, 0.5] [1.0, 1.0]" in out
