"""Training (an optional part: only the CLI imports it).

>>> from astroclean.training import TrainConfig, train_detector   # doctest: +SKIP
"""

from astroclean.training.export import export_model
from astroclean.training.loop import TrainConfig, train_detector
from astroclean.training.losses import detection_loss

__all__ = ["TrainConfig", "train_detector", "detection_loss", "export_model"]
