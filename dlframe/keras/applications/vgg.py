"""VGG16 and VGG19 (Simonyan & Zisserman, 2014): one builder over five blocks of
3x3 convolutions. Layer names and parameter counts equal Keras'."""

from dlframe.keras import layers
from dlframe.keras.applications import builder as _builder
from dlframe.keras.applications import imagenet_utils as _utils
from dlframe.keras.applications import pretrained as _pretrained

ARG_DOCS = {
    "include_top": "whether to add the Flatten + 3 Dense classifier (then the input\n"
    "        must have a static shape, default ``(224, 224, 3)``).",
    "input_shape": "optional ``(rows, cols, 3)`` (at least 32x32).",
}


def _classifier(x, classes, classifier_activation):
    """Flatten and two 4096-unit Dense layers before the predictions."""
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc1")(x)
    x = layers.Dense(4096, activation="relu", name="fc2")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(
        x
    )


def build_vgg(convs_per_block, **arguments):
    """The VGG graph with ``convs_per_block`` convolutions in each of 5 blocks."""

    def body(image):
        x = image
        for block, (filters, convs) in enumerate(
            zip((64, 128, 256, 512, 512), convs_per_block), start=1
        ):
            for conv in range(1, convs + 1):
                x = layers.Conv2D(
                    filters,
                    (3, 3),
                    activation="relu",
                    padding="same",
                    name=f"block{block}_conv{conv}",
                )(x)
            x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(
                x
            )
        return x

    return _builder.build_application(body, classifier=_classifier, **arguments)


def family_member(convs_per_block, model_name, title, module):
    """The public constructor (``VGG16``/``VGG19``) of one VGG depth."""
    return _builder.family_member(
        build_vgg,
        convs_per_block,
        model_name,
        title,
        module,
        imagenet=_pretrained.tf_kernels(model_name),
        **ARG_DOCS,
    )


preprocess_input = _builder.preprocessor(
    "caffe", "Converts RGB to BGR and subtracts the ImageNet mean.", __name__
)
decode_predictions = _utils.decode_predictions
