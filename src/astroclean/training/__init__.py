"""Training (an optional part: only the CLI imports it).

One loop for every task, :class:`~astroclean.training.trainer.Trainer`; the
per-pixel detector recipe on top of it; export with a model card.

>>> from astroclean.training import Trainer, TrainConfig, train_detector   # doctest: +SKIP
"""

from astroclean.training.export import export_model
from astroclean.training.loop import TrainConfig, train_detector
from astroclean.training.losses import detection_loss
from astroclean.training.trainer import Trainer

__all__ = ["Trainer", "TrainConfig", "train_detector", "detection_loss", "export_model"]
