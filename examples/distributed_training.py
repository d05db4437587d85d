"""Synchronous data-parallel training, written as in TF's "Custom training with
tf.distribute.Strategy" tutorial: two replicas (two GPUs if present, else two logical
CPU devices), a custom loop with compute_average_loss, then Keras fit in the same scope.

Run: python examples/distributed_training.py
"""

import numpy as np

import dlframe as tf

GLOBAL_BATCH = 64


def make_strategy():
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= 2:
        return tf.distribute.MirroredStrategy()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    return tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])


def make_data(n=1024, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 8).astype("float32")
    y = (x[:, :4].sum(axis=1) > x[:, 4:].sum(axis=1)).astype("int64")
    return x, y


def main():
    strategy = make_strategy()
    print("replicas:", strategy.num_replicas_in_sync)
    x, y = make_data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1024).batch(GLOBAL_BATCH)
    dist_dataset = strategy.experimental_distribute_dataset(dataset)
    with strategy.scope():
        model = tf.keras.Sequential([
            tf.keras.layers.Dense(32, activation="relu", input_shape=(8,)),
            tf.keras.layers.Dense(2)])
        loss_object = tf.keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=tf.keras.losses.Reduction.NONE)
        optimizer = tf.keras.optimizers.Adam(0.01)
        train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy()

    def train_step(inputs):
        features, labels = inputs
        with tf.GradientTape() as tape:
            logits = model(features, training=True)
            loss = tf.nn.compute_average_loss(loss_object(labels, logits),
                                              global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_accuracy.update_state(labels, logits)
        return loss

    @tf.function
    def distributed_train_step(inputs):
        per_replica = strategy.run(train_step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    for epoch in range(3):
        total, batches = 0.0, 0
        for batch in dist_dataset:
            total += float(distributed_train_step(batch))
            batches += 1
        print(f"epoch {epoch + 1}: loss {total / batches:.4f}, "
              f"accuracy {float(train_accuracy.result()):.3f}")
        train_accuracy.reset_state()

    with strategy.scope():
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    model.fit(dataset, epochs=2, verbose=0)
    _, accuracy = model.evaluate(x, y, verbose=0)
    print(f"fit accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
