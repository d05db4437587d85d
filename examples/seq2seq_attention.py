"""Sequence-to-sequence translation with attention, after TensorFlow's "Neural machine
translation with attention" tutorial, on a tiny offline task: a string of letters is
"translated" into the same letters in reverse order ("abcdef" -> "fedcba").

A GRU encoder reads the source; a GRU decoder starts from the encoder's final state
and, at every step, attends over the encoder outputs with keras.layers.Attention.
Training uses teacher forcing (the decoder sees the true previous character) with
fit; translation is a greedy decoding loop under tf.function that feeds each
predicted character back in, one step at a time, through a step model sharing the
trained layers.

Run: python examples/seq2seq_attention.py
"""

import numpy as np

import dlframe as tf

ALPHABET = "abcdefghij"
PAD, START = 0, 1
VOCAB_SIZE = len(ALPHABET) + 2
SEQ_LEN = 6


def encode(text):
    return [ALPHABET.index(c) + 2 for c in text]


def decode(ids):
    return "".join(ALPHABET[i - 2] if i >= 2 else "?" for i in ids)


def make_pairs(n=3000, seed=0):
    """Returns (source, decoder_input, target) int32 arrays of shape (n, SEQ_LEN):
    the target is the source reversed, the decoder input is the target shifted
    right behind a START token (teacher forcing)."""
    rng = np.random.default_rng(seed)
    source = rng.integers(2, VOCAB_SIZE, size=(n, SEQ_LEN)).astype("int32")
    target = source[:, ::-1].copy()
    decoder_input = np.concatenate(
        [np.full((n, 1), START, "int32"), target[:, :-1]], axis=1)
    return source, decoder_input, target


def make_dataset(source, decoder_input, target, batch_size=64, shuffle=True, seed=0):
    ds = tf.data.Dataset.from_tensor_slices(((source, decoder_input), target))
    if shuffle:
        ds = ds.shuffle(len(source), seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_models(units=64, embedding_dim=16):
    """Returns (training model, encoder model, one-step decoder model); the three
    share the same layers, so training the first trains the other two."""
    layers = tf.keras.layers
    encoder_embedding = layers.Embedding(VOCAB_SIZE, embedding_dim)
    encoder_gru = layers.GRU(units, return_sequences=True, return_state=True)
    decoder_embedding = layers.Embedding(VOCAB_SIZE, embedding_dim)
    decoder_gru = layers.GRU(units, return_sequences=True, return_state=True)
    attention = layers.Attention()
    concat = layers.Concatenate()
    output_layer = layers.Dense(VOCAB_SIZE)

    def decoder(tokens, encoder_outputs, state):
        outputs, state = decoder_gru(decoder_embedding(tokens), initial_state=state)
        context = attention([outputs, encoder_outputs])
        return output_layer(concat([outputs, context])), state

    source = tf.keras.Input(shape=(None,), dtype="int32", name="source")
    target_in = tf.keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    encoder_outputs, encoder_state = encoder_gru(encoder_embedding(source))
    logits, _ = decoder(target_in, encoder_outputs, encoder_state)
    model = tf.keras.Model([source, target_in], logits, name="seq2seq")

    encoder_model = tf.keras.Model(source, [encoder_outputs, encoder_state],
                                   name="encoder")

    token = tf.keras.Input(shape=(1,), dtype="int32", name="token")
    memory = tf.keras.Input(shape=(None, units), name="encoder_outputs")
    state_in = tf.keras.Input(shape=(units,), name="state")
    step_logits, state_out = decoder(token, memory, state_in)
    step_model = tf.keras.Model([token, memory, state_in], [step_logits, state_out],
                                name="decoder_step")
    return model, encoder_model, step_model


def make_translator(encoder_model, step_model, max_length=SEQ_LEN):
    @tf.function
    def translate(source):
        encoder_outputs, state = encoder_model(source)
        batch = tf.shape(source)[0]
        token = tf.fill([batch, 1], START)
        result = tf.TensorArray(tf.int32, size=max_length)
        for t in tf.range(max_length):
            logits, state = step_model([token, encoder_outputs, state])
            token = tf.argmax(logits, axis=-1, output_type=tf.int32)
            result = result.write(t, token[:, 0])
        return tf.transpose(result.stack())

    return translate


def main(epochs=6, n=3000, units=64, seed=0, verbose=2):
    tf.keras.utils.set_random_seed(seed)
    source, decoder_input, target = make_pairs(n=n, seed=seed)
    split = int(0.9 * n)
    train_ds = make_dataset(source[:split], decoder_input[:split], target[:split],
                            seed=seed)
    val_ds = make_dataset(source[split:], decoder_input[split:], target[split:],
                          shuffle=False)

    model, encoder_model, step_model = build_models(units=units)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs,
                        verbose=verbose)

    translate = make_translator(encoder_model, step_model)
    test_source, _, test_target = make_pairs(n=200, seed=seed + 1)
    predicted = translate(tf.constant(test_source)).numpy()
    char_accuracy = float(np.mean(predicted == test_target))
    sequence_accuracy = float(np.mean(np.all(predicted == test_target, axis=1)))
    print(f"greedy decoding: character accuracy {char_accuracy:.3f}, "
          f"whole-string accuracy {sequence_accuracy:.3f}")
    for row in range(3):
        print(decode(test_source[row]), "->", decode(predicted[row]))
    words = ["abcdef", "jihgfe", "aabbcc"]
    examples = decode_batch(translate, words)
    for word, out in zip(words, examples):
        print(word, "->", out)
    return history.history, char_accuracy, sequence_accuracy, examples


def decode_batch(translate, words):
    ids = translate(tf.constant([encode(w) for w in words], dtype=tf.int32))
    return [decode(row) for row in ids.numpy()]


if __name__ == "__main__":
    main()
