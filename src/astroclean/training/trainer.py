"""One optimisation loop for every task: rounds of batches, validation, best state, schedule, time limit.

A task brings what is its own (the batches, the loss, the validation numbers);
the :class:`Trainer` owns the loop every task shares: the optimiser step, the
learning-rate schedule, gradient clipping, the time budget, validation after
each round, keeping the best weights, and a history the model card records.
A *round* is an epoch (``steps_per_round = len(train) // batch_size``) or a
fixed block of steps on an endless sampler (``rounds=None`` with a time limit).

Example
-------
>>> import torch
>>> from astroclean.training.trainer import Trainer, dihedral, shuffled_batches
>>> x = torch.randn(64, 1, 8, 8); y = (x > 1).float()
>>> net = torch.nn.Conv2d(1, 1, 3, padding=1)
>>> g = torch.Generator().manual_seed(0)
>>> loss = lambda model, b: torch.nn.functional.binary_cross_entropy_with_logits(model(b[0]), b[1])
>>> val = lambda model: {"val_loss": float(loss(model, (x, y)))}
>>> trainer = Trainer(net, torch.optim.Adam(net.parameters(), 1e-2), loss=loss, validate=val, log=None)
>>> history = trainer.fit(lambda r: (dihedral(x[i], y[i], generator=g) for i in shuffled_batches(64, 16, g)),
...                       rounds=3, steps_per_round=4)
>>> [h["round"] for h in history], trainer.best_round in (1, 2, 3)
([1, 2, 3], True)
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

from astroclean.errors import AstrocleanValueError

__all__ = ["Trainer", "dihedral", "shuffled_batches", "channels_last", "cosine_schedule"]


def dihedral(*tensors: torch.Tensor, generator: torch.Generator) -> list[torch.Tensor]:
    """The same random 90-degree rotation and flip for every tensor (the last two axes are y, x)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    flip = bool(torch.randint(0, 2, (1,), generator=generator))
    out = []
    for t in tensors:
        t = torch.rot90(t, k, dims=(-2, -1))
        out.append(torch.flip(t, dims=(-1,)) if flip else t)
    return out


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterable[torch.Tensor]:
    """Index tensors of one epoch over ``n`` items in random order (full batches only)."""
    order = torch.randperm(n, generator=generator)
    for step in range(max(1, n // batch_size)):
        yield order[step * batch_size:(step + 1) * batch_size]


def channels_last(t: torch.Tensor) -> torch.Tensor:
    """Channels-last memory for 4-D tensors on CPU (2-4x faster convolutions, training and inference)."""
    return t.contiguous(memory_format=torch.channels_last) if t.device.type == "cpu" and t.dim() == 4 else t


def cosine_schedule(*, warmup: float = 0.0, start: float = 0.1, floor: float = 0.0) -> Callable[[float], float]:
    """Learning-rate factor of the progress p in [0, 1]: linear warm-up from ``start`` over ``warmup``, then cosine to ``floor``."""
    def factor(p: float) -> float:
        if p < warmup:
            return start + (1 - start) * p / warmup
        q = min(1.0, (p - warmup) / max(1e-12, 1 - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * q))
    return factor


class Trainer:
    """Fit ``model`` with ``optimiser`` on the batches a task supplies; keep the best validated state.

    Parameters
    ----------
    loss : callable ``loss(model, batch) -> Tensor`` (a scalar to minimise).
    validate : callable ``validate(model) -> dict`` of floats (the model is put in eval mode first).
    select : the key of the validation dict that picks the best state (``maximise`` for a score).
    schedule : how the learning rate moves:

        * ``None``: constant;
        * a callable ``factor(progress)``: the rate is ``base_lr * factor`` before every step, with
          ``progress = max(steps done / total steps, minutes used / time_limit)`` in [0, 1];
        * a ``torch.optim.lr_scheduler.ReduceLROnPlateau``: stepped after every round on ``select``;
        * any other torch scheduler: stepped after every optimiser step.
    clip_grad : maximum gradient norm, or ``None``.
    time_limit : minutes, or ``None``. ``stop="step"`` ends the round where the time runs out (then
        validates it); ``stop="round"`` does not start a round that would end past the limit.
    log : called with every history entry (``None``: silent).
    """

    def __init__(self, model: torch.nn.Module, optimiser: torch.optim.Optimizer, *,
                 loss: Callable[[torch.nn.Module, Any], torch.Tensor], validate: Callable[[torch.nn.Module], dict],
                 select: str = "val_loss", maximise: bool = False, schedule=None, clip_grad: float | None = None,
                 time_limit: float | None = None, stop: str = "step", log: Callable[[dict], None] | None = print):
        if stop not in ("step", "round"):
            raise AstrocleanValueError(f"stop must be 'step' or 'round', got {stop!r}")
        self.model, self.optimiser, self.loss, self.validate = model, optimiser, loss, validate
        self.select, self.maximise, self.schedule = select, maximise, schedule
        self.clip_grad, self.time_limit, self.stop, self.log = clip_grad, time_limit, stop, log
        self.base_lrs = [g["lr"] for g in optimiser.param_groups]
        self.history: list[dict] = []
        self.best_value: float | None = None
        self.best_round: int | None = None
        self.minutes = 0.0

    def _minutes(self) -> float:
        return (time.perf_counter() - self._t0) / 60

    def _progress(self, step: int, total: int | None) -> float:
        p = step / total if total else 0.0
        if self.time_limit:
            p = max(p, self._minutes() / self.time_limit)
        return min(1.0, p)

    def _better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        return value > self.best_value if self.maximise else value < self.best_value

    def fit(self, batches: Callable[[int], Iterable], *, rounds: int | None, steps_per_round: int) -> list[dict]:
        """Train ``rounds`` rounds (``None``: until ``time_limit``) of at most ``steps_per_round`` batches
        each, drawn from ``batches(round_index)``; load the best validated state into the model and
        return the history (one dict per round: round, steps, train_loss, the validation numbers, lr,
        seconds, minutes)."""
        if rounds is None and not self.time_limit:
            raise AstrocleanValueError("give rounds or a time_limit: without either training never ends")
        plateau = isinstance(self.schedule, torch.optim.lr_scheduler.ReduceLROnPlateau)
        per_step = self.schedule is not None and not plateau and not callable(getattr(self.schedule, "step", None))
        total = None if rounds is None else rounds * steps_per_round
        self._t0 = time.perf_counter()
        best_state, step, r, out_of_time = None, 0, 0, False
        while (rounds is None or r < rounds) and not out_of_time:
            start = time.perf_counter()
            self.model.train()
            running, n = 0.0, 0
            for batch in batches(r):
                if n >= steps_per_round:
                    break
                if per_step:
                    factor = self.schedule(self._progress(step, total))
                    for group, base in zip(self.optimiser.param_groups, self.base_lrs):
                        group["lr"] = base * factor
                loss = self.loss(self.model, batch)
                self.optimiser.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip_grad is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
                self.optimiser.step()
                if self.schedule is not None and not per_step and not plateau:
                    self.schedule.step()
                running += float(loss.detach())
                n, step = n + 1, step + 1
                if self.time_limit and self.stop == "step" and self._minutes() > self.time_limit:
                    out_of_time = True
                    break
            r += 1
            self.model.eval()
            with torch.inference_mode():
                validation = dict(self.validate(self.model))
            if self.select not in validation:
                raise AstrocleanValueError(f"validate() returned {sorted(validation)}, without {self.select!r}")
            if plateau:
                self.schedule.step(validation[self.select])
            seconds = time.perf_counter() - start
            entry = dict(round=r, steps=step, train_loss=running / max(n, 1), **validation,
                         lr=self.optimiser.param_groups[0]["lr"], seconds=round(seconds, 2),
                         minutes=round(self._minutes(), 3))
            self.history.append(entry)
            if self.log is not None:
                self.log(entry)
            if self._better(float(validation[self.select])):
                self.best_value, self.best_round = float(validation[self.select]), r
                best_state = copy.deepcopy(self.model.state_dict())
            if self.time_limit and self.stop == "round" and self._minutes() + seconds / 60 > self.time_limit:
                out_of_time = True
        self.minutes = self._minutes()
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return self.history
