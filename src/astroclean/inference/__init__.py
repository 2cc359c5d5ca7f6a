"""Inference machinery shared by every task: normalisation, tiling, device.

>>> from astroclean.inference import Predictor, normalise   # doctest: +SKIP
"""

from astroclean.inference.device import select_device, set_threads
from astroclean.inference.normalise import Normalisation, normalise
from astroclean.inference.predictor import Predictor, fold_batchnorm
from astroclean.inference.tiling import predict_tiled, predict_whole

__all__ = ["Predictor", "Normalisation", "normalise", "predict_tiled", "predict_whole", "select_device",
           "set_threads", "fold_batchnorm"]
