"""``tf.lite`` over dlframe's own model bytes: the "Image classification" tutorial's
convert / write .tflite / Interpreter / signature runner steps, and the tensor API
(get_input_details, set_tensor, invoke, get_tensor, resize_tensor_input)."""

import numpy as np
import pytest

import dlframe as tf

layers = tf.keras.layers


def _model():
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([layers.Input((6, 6, 3)), layers.Rescaling(1. / 255),
                                layers.Conv2D(2, 3, activation="relu"),
                                layers.Flatten(), layers.Dense(3, name="outputs")])


def test_tutorial_convert_write_and_run_signature(tmp_path):
    model = _model()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]   # recorded, not applied
    tflite_model = converter.convert()
    assert isinstance(tflite_model, bytes)
    path = tmp_path / "model.tflite"
    with open(path, "wb") as f:
        f.write(tflite_model)
    interpreter = tf.lite.Interpreter(model_path=str(path))
    signatures = interpreter.get_signature_list()
    assert list(signatures) == ["serving_default"]
    assert signatures["serving_default"]["outputs"] == ["outputs"]
    (input_name,) = signatures["serving_default"]["inputs"]
    classify_lite = interpreter.get_signature_runner("serving_default")
    img_array = tf.expand_dims(
        np.random.default_rng(0).uniform(0, 255, (6, 6, 3)).astype("float32"), 0)
    predictions_lite = classify_lite(**{input_name: img_array})["outputs"]
    predictions = model.predict(img_array, verbose=0)
    np.testing.assert_allclose(predictions_lite, predictions, rtol=1e-5, atol=1e-6)
    # Keras 3 spellings: any name for the single input, output_0 for the output
    again = classify_lite(keras_tensor_15=img_array)["output_0"]
    np.testing.assert_allclose(again, predictions, rtol=1e-5, atol=1e-6)
    score_lite = tf.nn.softmax(predictions_lite)
    assert np.argmax(score_lite) == np.argmax(predictions)
    with pytest.raises(ValueError, match="signature_key"):
        interpreter.get_signature_runner("other")


def test_tensor_api_and_resize():
    model = _model()
    interpreter = tf.lite.Interpreter(
        model_content=tf.lite.TFLiteConverter.from_keras_model(model).convert())
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    assert inp["shape"].tolist() == [1, 6, 6, 3]
    assert inp["shape_signature"].tolist() == [-1, 6, 6, 3]
    assert inp["dtype"] is np.float32 and inp["index"] == 0
    # outputs are described before invoke, as TF's allocate_tensors does
    (out,) = interpreter.get_output_details()
    assert out["shape"].tolist() == [1, 3] and out["shape_signature"].tolist() == [-1, 3]
    assert out["dtype"] is np.float32 and out["index"] == 1
    x = np.random.default_rng(1).uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    with pytest.raises(ValueError, match="Dimension mismatch"):
        interpreter.set_tensor(inp["index"], x)
    with pytest.raises(ValueError, match="FLOAT64"):
        interpreter.set_tensor(inp["index"], x[:1].astype("float64"))
    interpreter.resize_tensor_input(inp["index"], [2, 6, 6, 3])
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    (out,) = interpreter.get_output_details()
    result = interpreter.get_tensor(out["index"])
    assert out["shape"].tolist() == [2, 3]
    np.testing.assert_allclose(result, model.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_from_saved_model_and_bad_input(tmp_path):
    model = _model()
    tf.saved_model.save(model, str(tmp_path / "saved"))
    content = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved")).convert()
    runner = tf.lite.Interpreter(model_content=content).get_signature_runner()
    x = np.full((1, 6, 6, 3), 100.0, "float32")
    np.testing.assert_allclose(runner(x=x)["outputs"], model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="not a valid Flatbuffer"):
        tf.lite.Interpreter(model_content=b"TFL3 real flatbuffer bytes")
    with pytest.raises(ValueError, match="Could not open"):
        tf.lite.Interpreter(model_path=str(tmp_path / "missing.tflite"))
    with pytest.raises(NotImplementedError, match="from_concrete_functions"):
        tf.lite.TFLiteConverter.from_concrete_functions([])
