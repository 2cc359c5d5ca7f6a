"""Architectures, the model registry and weight loading.

>>> from astroclean.models import list_models, create_model, get_card   # doctest: +SKIP
"""

from astroclean.models.card import ModelCard
from astroclean.models.registry import check_model_task, register_model, create_model, get_card, list_models, load_weights, weights_dir
from astroclean.models.pconv import PartialConv2d, PartialConvTranspose2d
from astroclean.models.pconv_unet import PConvUNet
from astroclean.models.unet import UNet

__all__ = ["ModelCard", "UNet", "create_model", "get_card", "list_models", "load_weights", "weights_dir",
           "check_model_task", "register_model", "PConvUNet", "PartialConv2d", "PartialConvTranspose2d"]
