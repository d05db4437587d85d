"""``keras.applications``: ImageNet architectures with Keras' layer names.

``weights=None`` builds a randomly initialized model; ``weights='imagenet'`` loads
the file Keras publishes for the model from Keras' cache (``~/.keras/models`` or
``$KERAS_HOME/models``), downloading it only when missing; a local weights file
path is loaded with ``load_weights``.
"""

from dlframe.keras.applications import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from dlframe.keras.applications.convnext import (
    ConvNeXtBase,
    ConvNeXtLarge,
    ConvNeXtSmall,
    ConvNeXtTiny,
    ConvNeXtXLarge,
    LayerScale,
)
from dlframe.keras.applications.densenet import (
    DenseNet121,
    DenseNet169,
    DenseNet201,
)
from dlframe.keras.applications.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from dlframe.keras.applications.efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from dlframe.keras.applications.inception_resnet_v2 import InceptionResNetV2
from dlframe.keras.applications.inception_v3 import InceptionV3
from dlframe.keras.applications.mobilenet import MobileNet
from dlframe.keras.applications.mobilenet_v2 import MobileNetV2
from dlframe.keras.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from dlframe.keras.applications.nasnet import NASNetLarge, NASNetMobile
from dlframe.keras.applications.resnet import (
    ResNet50,
    ResNet101,
    ResNet152,
)
from dlframe.keras.applications.resnet_v2 import (
    ResNet50V2,
    ResNet101V2,
    ResNet152V2,
)
from dlframe.keras.applications.vgg16 import VGG16
from dlframe.keras.applications.vgg19 import VGG19
from dlframe.keras.applications.xception import Xception

__all__ = [
    "VGG16",
    "VGG19",
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "InceptionResNetV2",
    "InceptionV3",
    "LayerScale",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "NASNetLarge",
    "NASNetMobile",
    "ResNet50",
    "ResNet50V2",
    "ResNet101",
    "ResNet101V2",
    "ResNet152",
    "ResNet152V2",
    "Xception",
    "convnext",
    "densenet",
    "efficientnet",
    "efficientnet_v2",
    "imagenet_utils",
    "inception_resnet_v2",
    "inception_v3",
    "mobilenet",
    "mobilenet_v2",
    "mobilenet_v3",
    "nasnet",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
    "xception",
]
