"""The tensorflow.org actor-critic tutorial, shrunk (round 16 probe): a Keras model
plays episodes of a NumPy environment called through ``tf.numpy_function`` inside a
compiled ``train_step`` whose episodes have different lengths. Before the fixes the
first trace indexed the rewards of an episode it had not played (out of range),
and later calls kept the first episode's length."""

import collections
import statistics

import numpy as np

import dlframe as tf

EPS = np.finfo(np.float32).eps.item()


class _LengthEnv:
    """Ends episode k after ``lengths[k]`` steps, whatever the actions."""

    def __init__(self, lengths):
        self.lengths = list(lengths)
        self.episode = -1
        self.t = 0
        self.steps = []

    def reset(self):
        self.episode += 1
        self.t = 0
        return np.full(4, 0.01 * self.episode, np.float32)

    def step(self, action):
        self.t += 1
        self.steps.append(int(action))
        state = np.full(4, 0.1 * self.t, np.float32)
        done = self.t >= self.lengths[self.episode]
        return state, np.array(1, np.int32), np.array(done, np.int32)


class _ActorCritic(tf.keras.Model):
    def __init__(self, num_actions, num_hidden_units):
        super().__init__()
        self.common = tf.keras.layers.Dense(num_hidden_units, activation="relu")
        self.actor = tf.keras.layers.Dense(num_actions)
        self.critic = tf.keras.layers.Dense(1)

    def call(self, inputs):
        x = self.common(inputs)
        return self.actor(x), self.critic(x)


def _make_train_step(env, model, optimizer):
    huber_loss = tf.keras.losses.Huber(reduction=tf.keras.losses.Reduction.SUM)

    def env_step(action):
        return env.step(action)

    def run_episode(initial_state, max_steps):
        action_probs = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
        values = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
        rewards = tf.TensorArray(dtype=tf.int32, size=0, dynamic_size=True)
        initial_state_shape = initial_state.shape
        state = initial_state
        for t in tf.range(max_steps):
            state = tf.expand_dims(state, 0)
            action_logits_t, value = model(state)
            action = tf.random.categorical(action_logits_t, 1)[0, 0]
            action_probs_t = tf.nn.softmax(action_logits_t)
            values = values.write(t, tf.squeeze(value))
            action_probs = action_probs.write(t, action_probs_t[0, action])
            state, reward, done = tf.numpy_function(
                env_step, [action], [tf.float32, tf.int32, tf.int32])
            state.set_shape(initial_state_shape)
            rewards = rewards.write(t, reward)
            if tf.cast(done, tf.bool):
                break
        return action_probs.stack(), values.stack(), rewards.stack()

    def get_expected_return(rewards, gamma):
        n = tf.shape(rewards)[0]
        returns = tf.TensorArray(dtype=tf.float32, size=n)
        rewards = tf.cast(rewards[::-1], dtype=tf.float32)
        discounted_sum = tf.constant(0.0)
        discounted_sum_shape = discounted_sum.shape
        for i in tf.range(n):
            discounted_sum = rewards[i] + gamma * discounted_sum
            discounted_sum.set_shape(discounted_sum_shape)
            returns = returns.write(i, discounted_sum)
        returns = returns.stack()[::-1]
        return ((returns - tf.math.reduce_mean(returns)) /
                (tf.math.reduce_std(returns) + EPS))

    @tf.function
    def train_step(initial_state, gamma, max_steps):
        with tf.GradientTape() as tape:
            action_probs, values, rewards = run_episode(initial_state, max_steps)
            returns = get_expected_return(rewards, gamma)
            action_probs, values, returns = [
                tf.expand_dims(x, 1) for x in [action_probs, values, returns]]
            advantage = returns - values
            actor_loss = -tf.math.reduce_sum(tf.math.log(action_probs) * advantage)
            loss = actor_loss + huber_loss(values, returns)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return tf.math.reduce_sum(rewards), loss

    return train_step


def test_actor_critic_episodes_of_varying_length_train():
    tf.random.set_seed(42)
    lengths = [5, 9, 3, 7, 1, 6]
    env = _LengthEnv(lengths)
    model = _ActorCritic(2, 16)
    model(tf.zeros([1, 4]))
    before = [w.numpy().copy() for w in model.trainable_variables]
    train_step = _make_train_step(env, model, tf.keras.optimizers.Adam(0.01))
    episodes_reward = collections.deque(maxlen=3)
    seen = []
    for length in lengths:
        initial_state = tf.constant(env.reset(), dtype=tf.float32)
        steps_before = len(env.steps)
        episode_reward, loss = train_step(initial_state, 0.99, 30)
        seen.append(int(episode_reward))
        episodes_reward.append(int(episode_reward))
        assert np.isfinite(float(loss))
        if len(seen) > 1:
            # once traced, the environment steps once per played step (the first
            # trace steps it to shape the unshaped reward/done results: with a
            # sampled action the run's first step cannot be the probe's)
            assert len(env.steps) - steps_before == length
    assert seen[1:] == lengths[1:]
    assert statistics.mean(episodes_reward) == np.mean(lengths[-3:])
    assert set(env.steps) <= {0, 1}
    assert all(not np.allclose(a, w.numpy())
               for a, w in zip(before, model.trainable_variables))
