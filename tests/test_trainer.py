"""The one training loop (astroclean.training.trainer)."""

import time

import pytest
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.training.trainer import Trainer, cosine_schedule, dihedral, shuffled_batches


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 1, 8, 8, generator=g)
    y = (x > 0.5).float()
    torch.manual_seed(seed)
    net = torch.nn.Conv2d(1, 1, 3, padding=1)
    loss = lambda model, b: torch.nn.functional.binary_cross_entropy_with_logits(model(b[0]), b[1])  # noqa: E731
    return x, y, net, loss, g


def test_fit_learns_and_keeps_the_best_state():
    x, y, net, loss, g = _problem()
    scores = iter([0.3, 0.9, 0.1])          # round 2 is "best" by a score that is maximised

    def validate(model):
        return {"val_loss": float(loss(model, (x, y))), "score": next(scores)}

    states = []
    trainer = Trainer(net, torch.optim.Adam(net.parameters(), 5e-2), loss=loss, validate=validate,
                      select="score", maximise=True, log=lambda e: states.append({k: v.clone() for k, v in net.state_dict().items()}))
    history = trainer.fit(lambda r: ((x[i], y[i]) for i in shuffled_batches(64, 16, g)), rounds=3, steps_per_round=4)
    assert [h["round"] for h in history] == [1, 2, 3] and [h["steps"] for h in history] == [4, 8, 12]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert trainer.best_round == 2
    for k, v in net.state_dict().items():   # the weights of round 2 were restored
        assert torch.equal(v, states[1][k])
    assert not net.training


def test_callable_schedule_and_clipping():
    x, y, net, loss, g = _problem()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    seen = []
    sched = cosine_schedule(warmup=0.25, start=0.1)

    def loss_spy(model, b):
        seen.append(opt.param_groups[0]["lr"])
        return loss(model, b)

    trainer = Trainer(net, opt, loss=loss_spy, validate=lambda m: {"val_loss": 0.0}, schedule=sched, clip_grad=1e-3,
                      log=None)
    trainer.fit(lambda r: ((x[i], y[i]) for i in shuffled_batches(64, 8, g)), rounds=2, steps_per_round=8)
    assert seen[0] == pytest.approx(0.1) and max(seen) == pytest.approx(1.0, abs=0.05) and seen[-1] < 0.05
    assert sched(0.0) == pytest.approx(0.1) and sched(1.0) == pytest.approx(0.0)


def test_plateau_and_time_limits():
    x, y, net, loss, g = _problem()
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    trainer = Trainer(net, opt, loss=loss, validate=lambda m: {"val_loss": 1.0}, schedule=plateau, log=None)
    history = trainer.fit(lambda r: ((x[i], y[i]) for i in shuffled_batches(64, 16, g)), rounds=3, steps_per_round=4)
    assert [h["lr"] for h in history] == pytest.approx([1e-2, 5e-3, 2.5e-3])

    def slow(model, b):
        time.sleep(0.05)
        return loss(model, b)

    def endless(r):
        while True:
            yield x[:8], y[:8]

    by_step = Trainer(net, torch.optim.Adam(net.parameters()), loss=slow, validate=lambda m: {"val_loss": 0.0},
                      time_limit=0.3 / 60, log=None)
    h = by_step.fit(endless, rounds=None, steps_per_round=100)
    assert len(h) == 1 and 1 <= h[0]["steps"] < 100     # stopped inside the round, then validated
    by_round = Trainer(net, torch.optim.Adam(net.parameters()), loss=slow, validate=lambda m: {"val_loss": 0.0},
                       time_limit=1.0 / 60, stop="round", log=None)
    h = by_round.fit(endless, rounds=20, steps_per_round=4)     # >= 0.2 s a round, whole rounds only
    assert 1 <= len(h) <= 5 and all(e["steps"] == 4 * e["round"] for e in h)
    assert h[-1]["minutes"] * 60 <= 1.0 + h[-1]["seconds"]


def test_bad_setups_are_refused():
    x, y, net, loss, g = _problem()
    with pytest.raises(AstrocleanValueError, match="rounds or a time_limit"):
        Trainer(net, torch.optim.Adam(net.parameters()), loss=loss, validate=lambda m: {}, log=None).fit(
            lambda r: iter(()), rounds=None, steps_per_round=1)
    with pytest.raises(AstrocleanValueError, match="without 'val_loss'"):
        Trainer(net, torch.optim.Adam(net.parameters()), loss=loss, validate=lambda m: {"loss": 1.0}, log=None).fit(
            lambda r: iter([(x, y)]), rounds=1, steps_per_round=1)
    with pytest.raises(AstrocleanValueError, match="stop must be"):
        Trainer(net, torch.optim.Adam(net.parameters()), loss=loss, validate=lambda m: {}, stop="epoch")


def test_dihedral_is_the_same_for_every_tensor():
    g = torch.Generator().manual_seed(3)
    a = torch.arange(16.).reshape(1, 4, 4)
    for _ in range(8):
        p, q = dihedral(a, a.clone(), generator=g)
        assert torch.equal(p, q) and sorted(p.flatten().tolist()) == a.flatten().tolist()
