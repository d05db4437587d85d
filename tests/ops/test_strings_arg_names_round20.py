"""TF2 and TF1 argument names of the string-to-number/hash ops (values from TF 2.21)."""

import pytest

import dlframe as tf


def test_to_number_takes_tf2_input_and_tf1_string_tensor():
    assert tf.strings.to_number(input=["1.5"]).numpy().tolist() == [1.5]
    assert tf.strings.to_number(["3"], tf.int32).numpy().tolist() == [3]
    assert tf.compat.v1.string_to_number(string_tensor=["2"]).numpy().tolist() == [2.0]


def test_to_hash_bucket_names_and_tf1_aliases():
    assert tf.strings.to_hash_bucket(input=["a"], num_buckets=10).numpy().tolist() == [8]
    assert tf.strings.to_hash_bucket(["a"], 10).numpy().tolist() == [8]
    assert tf.compat.v1.string_to_hash_bucket_fast(["a"], 10).numpy().tolist() == [9]


def test_strings_missing_or_given_twice_is_a_clear_type_error():
    with pytest.raises(TypeError, match="input"):
        tf.strings.to_number()
    with pytest.raises(TypeError, match="once"):
        tf.strings.to_number(input=["1"], string_tensor=["2"])
