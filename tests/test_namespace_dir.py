"""dir() of dlframe's namespaces lists the names they load on first use, as TF's
dir() lists them (scripts and IDEs discover API through it)."""

import dlframe as tf


def test_lazy_names_are_listed_and_reachable():
    cases = [(tf, ["experimental", "estimator", "test", "profiler", "raw_ops"]),
             (tf.keras, ["ops", "applications"]),
             (tf.keras.utils, ["load_img", "img_to_array", "Progbar", "FeatureSpace",
                               "image_dataset_from_directory"]),
             (tf.keras.layers, ["experimental", "TFSMLayer", "Dense"]),
             (tf.nn, ["experimental", "RNNCellDropoutWrapper", "relu"])]
    for module, names in cases:
        listed = dir(module)
        for name in names:
            assert name in listed, (module.__name__, name)
            assert getattr(module, name) is not None
