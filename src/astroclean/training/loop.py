"""Train a per-pixel detector: normalised patches in, best-validation weights out.

Example
-------
>>> import numpy as np
>>> from astroclean.training.loop import TrainConfig, train_detector
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((8, 32, 32)).astype("f4"); truth = x > 2.5
>>> net, history = train_detector(x, truth, None, x, truth, None,
...                               config=TrainConfig(epochs=1, depth=1, width=4, batch_size=4), log=None)
>>> len(history)
1
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.inference.device import select_device
from astroclean.models.registry import build_architecture
from astroclean.training.losses import detection_loss
from astroclean.training.trainer import Trainer, channels_last, dihedral, shuffled_batches


@dataclass(frozen=True)
class TrainConfig:
    """Architecture and optimisation settings (recorded in the model card)."""

    depth: int = 3
    width: int = 8
    in_channels: int = 1
    norm: str = "batch"
    attention: bool = False
    epochs: int = 10
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-5
    loss: str = "bce+dice"
    seed: int = 0

    def architecture(self) -> dict:
        arch = dict(kind="unet", depth=self.depth, width=self.width, norm=self.norm, attention=self.attention)
        if self.in_channels != 1:
            arch["in_channels"] = self.in_channels
        return arch

    def to_dict(self) -> dict:
        return asdict(self)


def _as_tensor(array, dtype=torch.float32):
    """(N, H, W) -> (N, 1, H, W); (N, C, H, W) stays."""
    t = torch.from_numpy(np.ascontiguousarray(array)).to(dtype)
    return t[:, None] if t.dim() == 3 else t


def evaluate_loss(model, x, truth, ignore, *, config: TrainConfig, device) -> tuple[float, np.ndarray]:
    """Mean validation loss and the logit maps of ``x`` (monotonic in the probability, never saturated)."""
    model.eval()
    losses, probs = [], []
    with torch.inference_mode():
        for start in range(0, len(x), config.batch_size * 2):
            sl = slice(start, start + config.batch_size * 2)
            xb = channels_last(_as_tensor(x[sl]).to(device))
            tb = _as_tensor(truth[sl]).to(device)
            ib = None if ignore is None else _as_tensor(ignore[sl], torch.bool).to(device)
            logits = model(xb)
            losses.append(float(detection_loss(logits, tb, ignore=ib, kind=config.loss)) * len(xb))
            probs.append(logits[:, 0].float().cpu().numpy())   # logits: the ranking, without float32 saturation
    return sum(losses) / len(x), np.concatenate(probs)


def adapt_state(state: dict, model) -> dict:
    """``state`` (another model's weights) fitted to ``model``: same-shape tensors copied; a convolution
    with more input channels gets the old weights on its first channels and zeros on the new ones
    (so the warm-started network starts out computing what the old one did)."""
    own = model.state_dict()
    out = {}
    for key, value in own.items():
        old = state.get(key)
        if old is None:
            out[key] = value
        elif old.shape == value.shape:
            out[key] = old
        elif old.dim() == 4 and old.shape[0] == value.shape[0] and old.shape[2:] == value.shape[2:] \
                and old.shape[1] < value.shape[1]:
            new = torch.zeros_like(value)
            new[:, :old.shape[1]] = old
            out[key] = new
        else:
            out[key] = value
    return out


def train_detector(x_train, truth_train, ignore_train, x_val, truth_val, ignore_val, *,
                   config: TrainConfig = TrainConfig(), device=None, log=print, score_fn=None, init_state=None):
    """Train a UNet on normalised patches; return the best-validation model and the history.

    Parameters
    ----------
    x_train, x_val : ndarray (N, H, W) or (N, C, H, W) float32
        Normalised inputs (:func:`astroclean.inference.normalise`, or several channels).
    truth_train, truth_val : ndarray (N, H, W) bool
    ignore_train, ignore_val : ndarray (N, H, W) bool or None
        Pixels excluded from the loss (bad, NaN, saturated).
    config : TrainConfig
    score_fn : callable, optional
        ``score_fn(logits) -> float`` on the validation set (higher =
        better) used to pick the best epoch; default: lowest validation loss.
    init_state : dict, optional
        Weights to start from (warm start; see :func:`adapt_state`).

    Returns
    -------
    model : torch.nn.Module (eval mode, on CPU)
    history : list of dict (epoch, train_loss, val_loss, val_score, seconds)
    """
    if len(x_train) == 0 or len(x_val) == 0:
        raise AstrocleanValueError("training and validation sets must not be empty")
    device = select_device(device)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = build_architecture(config.architecture())
    if init_state is not None:
        model.load_state_dict(adapt_state(init_state, model))
    model = model.to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, len(x_train) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, epochs=config.epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.15)
    x_t, t_t = _as_tensor(x_train), _as_tensor(truth_train)
    i_t = None if ignore_train is None else _as_tensor(ignore_train, torch.bool)

    def batches(_round):
        for idx in shuffled_batches(len(x_t), config.batch_size, generator):
            tensors = dihedral(*([x_t[idx], t_t[idx]] + ([] if i_t is None else [i_t[idx]])), generator=generator)
            yield [channels_last(t.to(device)) for t in tensors]

    def loss(net, batch):
        return detection_loss(net(batch[0]), batch[1], ignore=batch[2] if len(batch) > 2 else None, kind=config.loss)

    def validate(net):
        val_loss, logits = evaluate_loss(net, x_val, truth_val, ignore_val, config=config, device=device)
        return dict(val_loss=val_loss, val_score=score_fn(logits) if score_fn is not None else -val_loss)

    def report(entry):
        log(f"epoch {entry['round']}/{config.epochs}: train {entry['train_loss']:.4f} val {entry['val_loss']:.4f} "
            f"score {entry['val_score']:.4f} ({entry['seconds']:.0f} s)")

    trainer = Trainer(model, optimiser, loss=loss, validate=validate, select="val_score", maximise=True,
                      schedule=scheduler, log=None if log is None else report)
    trainer.fit(batches, rounds=config.epochs, steps_per_round=steps_per_epoch)
    history = [dict(epoch=h["round"], train_loss=h["train_loss"], val_loss=h["val_loss"], val_score=h["val_score"],
                    seconds=h["seconds"]) for h in trainer.history]
    return model.cpu().to(memory_format=torch.contiguous_format).eval(), history
