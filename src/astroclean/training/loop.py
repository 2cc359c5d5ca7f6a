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

import copy
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.inference.device import select_device
from astroclean.models.registry import build_architecture
from astroclean.training.losses import detection_loss


@dataclass(frozen=True)
class TrainConfig:
    """Architecture and optimisation settings (recorded in the model card)."""

    depth: int = 3
    width: int = 8
    norm: str = "batch"
    attention: bool = False
    epochs: int = 10
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-5
    loss: str = "bce+dice"
    seed: int = 0

    def architecture(self) -> dict:
        return dict(kind="unet", depth=self.depth, width=self.width, norm=self.norm, attention=self.attention)

    def to_dict(self) -> dict:
        return asdict(self)


def _augment(x: torch.Tensor, *others: torch.Tensor, generator: torch.Generator):
    """Random flips and 90-degree rotations, the same for every tensor of a batch item set."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    flip = bool(torch.randint(0, 2, (1,), generator=generator))
    out = []
    for t in (x, *others):
        t = torch.rot90(t, k, dims=(-2, -1))
        out.append(torch.flip(t, dims=(-1,)) if flip else t)
    return out


def _as_tensor(array, dtype=torch.float32):
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)[:, None]


def _channels_last(t):
    # channels-last convolutions are 2-4x faster on CPU, for training as for inference
    return t.contiguous(memory_format=torch.channels_last) if t.device.type == "cpu" else t


def evaluate_loss(model, x, truth, ignore, *, config: TrainConfig, device) -> tuple[float, np.ndarray]:
    """Mean validation loss and the probability maps of ``x``."""
    model.eval()
    losses, probs = [], []
    with torch.inference_mode():
        for start in range(0, len(x), config.batch_size * 2):
            sl = slice(start, start + config.batch_size * 2)
            xb = _channels_last(_as_tensor(x[sl]).to(device))
            tb = _as_tensor(truth[sl]).to(device)
            ib = None if ignore is None else _as_tensor(ignore[sl], torch.bool).to(device)
            logits = model(xb)
            losses.append(float(detection_loss(logits, tb, ignore=ib, kind=config.loss)) * len(xb))
            probs.append(torch.sigmoid(logits)[:, 0].cpu().numpy())
    return sum(losses) / len(x), np.concatenate(probs)


def train_detector(x_train, truth_train, ignore_train, x_val, truth_val, ignore_val, *,
                   config: TrainConfig = TrainConfig(), device=None, log=print, score_fn=None):
    """Train a UNet on normalised patches; return the best-validation model and the history.

    Parameters
    ----------
    x_train, x_val : ndarray (N, H, W) float32
        Normalised inputs (:func:`astroclean.inference.normalise`).
    truth_train, truth_val : ndarray (N, H, W) bool
    ignore_train, ignore_val : ndarray (N, H, W) bool or None
        Pixels excluded from the loss (bad, NaN, saturated).
    config : TrainConfig
    score_fn : callable, optional
        ``score_fn(probabilities) -> float`` on the validation set (higher =
        better) used to pick the best epoch; default: lowest validation loss.

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
    model = build_architecture(config.architecture()).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, len(x_train) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, epochs=config.epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.15)
    x_t, t_t = _as_tensor(x_train), _as_tensor(truth_train)
    i_t = None if ignore_train is None else _as_tensor(ignore_train, torch.bool)
    best, best_state, history = -np.inf, None, []
    for epoch in range(config.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x_t), generator=generator)
        total = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            tensors = [x_t[idx], t_t[idx]] + ([] if i_t is None else [i_t[idx]])
            tensors = _augment(*tensors, generator=generator)
            xb, tb = _channels_last(tensors[0].to(device)), _channels_last(tensors[1].to(device))
            ib = _channels_last(tensors[2].to(device)) if i_t is not None else None
            loss = detection_loss(model(xb), tb, ignore=ib, kind=config.loss)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach())
        val_loss, probs = evaluate_loss(model, x_val, truth_val, ignore_val, config=config, device=device)
        score = score_fn(probs) if score_fn is not None else -val_loss
        entry = dict(epoch=epoch + 1, train_loss=total / steps_per_epoch, val_loss=val_loss, val_score=score,
                     seconds=time.perf_counter() - start)
        history.append(entry)
        if log is not None:
            log(f"epoch {epoch + 1}/{config.epochs}: train {entry['train_loss']:.4f} val {val_loss:.4f} "
                f"score {score:.4f} ({entry['seconds']:.0f} s)")
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model.cpu().to(memory_format=torch.contiguous_format).eval(), history
