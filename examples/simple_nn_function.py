"""The seed `simple_nn` built from `linear_layer`, compiled with @tf.function."""

import dlframe as tf


def linear_layer(x, w, b):
    return tf.matmul(x, w) + b


@tf.function
def simple_nn(x, w1, b1, w2, b2):
    x = tf.nn.relu(linear_layer(x, w1, b1))
    return linear_layer(x, w2, b2)


def main():
    tf.random.set_seed(0)
    x = tf.random.uniform((3, 2))
    w1, b1 = tf.Variable(tf.random.uniform((2, 4))), tf.Variable(tf.zeros(4))
    w2, b2 = tf.Variable(tf.random.uniform((4, 1))), tf.Variable(tf.zeros(1))
    out = simple_nn(x, w1, b1, w2, b2)
    print(out)
    return out, (x, w1, b1, w2, b2)


if __name__ == "__main__":
    main()
