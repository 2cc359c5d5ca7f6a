"""Train the cirrus segmenter (``cirrus-gri``) and the source masker (``cirrus-mask-gri``) on mock cases.

    astroclean train cirrus segment --arch cirrus-unet-resnet --minutes 30 --name cirrus-gri
    astroclean train cirrus mask --arch cirrus-mask-unet --minutes 7 --name cirrus-mask-gri
    astroclean train cirrus calibrate --name cirrus-gri --threads 2
    (the same with ``python -m astroclean.cirrus.train ...``)

Training cases: mocks from the TRAIN generator setting on the train regions of
the SDSS, Legacy Survey and DES frames (never the benchmark regions); random
64x64 windows at the working scale, the 8 dihedral transforms, BCE with a
positive-class weight plus soft Dice, pixels under the source truth ignored
(segmenter). The loop is the shared :class:`astroclean.training.trainer.Trainer`
(AdamW, cosine schedule over the time budget, validation every 100 steps, best
validation loss kept). One thread by default (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["segmenter_inputs", "masker_inputs", "train"]


def segmenter_inputs(x, noise, source_mask, *, normaliser: str = "cirrus-asinh") -> np.ndarray:
    """(3+1, y, x): normalised bands with source pixels set to 0, and the source mask as 4th channel."""
    from astroclean.cirrus.preprocess import NORMALISERS

    z = NORMALISERS[normaliser](x, noise)
    z = np.where(source_mask[None], 0.0, z)
    return np.concatenate([z, source_mask[None].astype(np.float32)]).astype(np.float32)


def masker_inputs(x, noise) -> np.ndarray:
    from astroclean.cirrus.preprocess import normalise_asinh

    return normalise_asinh(x, noise)


def _pad_case(case, size):
    h, w = case["truth"].shape
    py, px = max(0, size - h), max(0, size - w)
    if not (py or px):
        return case
    out = dict(case)
    for key in ("inputs", "target", "weight"):
        a = case[key]
        pad = [(0, 0)] * (a.ndim - 2) + [(0, py), (0, px)]
        out[key] = np.pad(a, pad, mode="constant" if key == "weight" else "symmetric")
    return out


def _resize(a: np.ndarray, size: int) -> np.ndarray:
    """(..., s, s) -> (..., size, size): block average when shrinking, bilinear when enlarging."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    t = t.reshape(-1, 1, *t.shape[-2:])
    mode = "area" if a.shape[-1] > size else "bilinear"
    out = F.interpolate(t, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
    return out.reshape(*a.shape[:-2], size, size).numpy()


def _windows(cases, size, batch, rng, scale=None):
    """``batch`` random windows of ``size`` px with a random dihedral transform; with ``scale=(lo, hi)`` each
    window first spans ``f * size`` px of the case (f uniform in [lo, hi], at most the case) and is resized
    to ``size`` (the reference's 224-896 px windows at SDSS sampling are about 0.7-2.8 x 64 px at 2"/px)."""
    xs, ys, ws = [], [], []
    for _ in range(batch):
        c = cases[rng.integers(len(cases))]
        h, w = c["target"].shape
        side = size if scale is None else int(np.clip(round(size * rng.uniform(*scale)), 8, min(h, w)))
        y0, x0 = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        sl = (slice(y0, y0 + side), slice(x0, x0 + side))
        x, y, wt = c["inputs"][(slice(None),) + sl], c["target"][sl], c["weight"][sl]
        if side != size:
            x, y, wt = (_resize(a, size) for a in (x, y, wt))
        k, flip = rng.integers(4), rng.integers(2)
        x, y, wt = (np.rot90(a, k, axes=(-2, -1)) for a in (x, y, wt))
        if flip:
            x, y, wt = (a[..., ::-1] for a in (x, y, wt))
        xs.append(np.ascontiguousarray(x, dtype=np.float32))
        ys.append(np.ascontiguousarray(y, dtype=np.float32))
        ws.append(np.ascontiguousarray(wt, dtype=np.float32))
    return np.stack(xs), np.stack(ys)[:, None], np.stack(ws)[:, None]


def _loss(logits, target, weight, pos_weight):
    import torch
    import torch.nn.functional as F

    w = weight * (1 + (pos_weight - 1) * target)
    bce = (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * w).sum() / w.sum().clamp(min=1)
    # soft Dice on weighted maps; with weights in {0, 1} (the default) the usual masked Dice. With
    # --faint-weight the weights exceed 1 and multiply both maps, so this term can go below 0.
    p = torch.sigmoid(logits) * weight
    t = target * weight
    dice = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    return bce + 0.5 * dice


def _raw_cases(*, n_per_frame, seed, data_dir, cache_dir):
    import pickle

    from astroclean.cirrus.simulate.cases import make_cases

    path = None if cache_dir is None else Path(cache_dir) / f"cirrus_train_cases_n{n_per_frame}_s{seed}.pkl"
    if path is not None and path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    raw = make_cases(split="train", n_per_frame=n_per_frame, rng=np.random.default_rng(seed), data_dir=data_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(raw, fh)
    return raw


def _faint_weight(case, faint_weight: float) -> np.ndarray:
    """Pixel weights that grow from 1 (truth at 26.5 mag/arcsec^2 or brighter) to ``1 + faint_weight`` (truth at the
    frame's depth): the faint edges of the clouds, which the alert rate counts, weigh more."""
    w = (~case["ignore"]).astype(np.float32)
    if faint_weight <= 0:
        return w
    depth = float(case["depth"])
    frac = np.clip((case["sb_r"] - 26.5) / max(depth - 26.5, 0.1), 0.0, 1.0)
    return w * (1.0 + faint_weight * frac * case["truth"]).astype(np.float32)


def patch_discriminator(in_channels: int, width: int = 16):
    """A small PatchGAN critic (Isola et al. 2017): (image channels + mask) -> a logit per 8x8-pixel patch."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(in_channels + 1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                         nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width),
                         nn.LeakyReLU(0.2), nn.Conv2d(2 * width, 4 * width, 4, stride=2, padding=1),
                         nn.BatchNorm2d(4 * width), nn.LeakyReLU(0.2), nn.Conv2d(4 * width, 1, 3, padding=1))


def adversarial_loss(supervised, in_channels: int, *, weight: float, lr: float):
    """Wrap ``supervised(logits, target, weight)`` with the conditional-adversarial term of the reference masker.

    Each call first updates the critic on (input, true mask) vs (input, predicted mask), then returns the
    supervised loss plus ``weight`` times the generator's adversarial loss (the critic fooled).
    """
    import torch
    import torch.nn.functional as F

    critic = patch_discriminator(in_channels)
    opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))

    def loss(model, b):
        x, y, w = b
        logits = model(x)
        fake = torch.sigmoid(logits)
        critic.train()
        real_out, fake_out = critic(torch.cat([x, y], 1)), critic(torch.cat([x, fake.detach()], 1))
        d_loss = (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out))) / 2
        opt.zero_grad(set_to_none=True)
        d_loss.backward()
        opt.step()
        gen_out = critic(torch.cat([x, fake], 1))
        g_adv = F.binary_cross_entropy_with_logits(gen_out, torch.ones_like(gen_out))
        return supervised(logits, y, w) + weight * g_adv

    return loss


def build_training_cases(kind: str, *, n_per_frame: int, seed: int, data_dir=None, normaliser="cirrus-asinh",
                         cache_dir=None, faint_weight: float = 0.0):
    from astroclean.cirrus.masking import grow

    rng = np.random.default_rng(seed)
    raw = _raw_cases(n_per_frame=n_per_frame, seed=seed, data_dir=data_dir, cache_dir=cache_dir)
    cases = []
    for c in raw:
        if kind == "mask":
            inputs = masker_inputs(c["x"], c["noise"])
            target = c["source_truth"].astype(np.float32)
            weight = np.ones_like(target)
        else:
            m = grow(c["source_truth"], int(rng.integers(0, 2)))
            inputs = segmenter_inputs(c["x"], c["noise"], m, normaliser=normaliser)
            target = c["truth"].astype(np.float32)
            weight = _faint_weight(c, faint_weight)
        cases.append(dict(inputs=inputs, target=target, weight=weight, truth=target))
    return cases


def train(kind: str, *, arch: str, name: str, minutes: float, seed: int = 0, n_per_frame: int = 60,
          batch: int = 8, size: int = 64, lr: float = 3e-3, threads: int = 1, data_dir=None,
          normaliser: str = "cirrus-asinh", outdir="src/astroclean/weights", command: str = "", cache_dir=None,
          faint_weight: float = 0.0, adversarial: float = 0.0, window_scale=None):
    import torch

    from astroclean.cirrus.nets import ARCHITECTURES
    from astroclean.inference.normalisers import get_normaliser
    from astroclean.models.registry import build_architecture
    from astroclean.training.trainer import Trainer, cosine_schedule

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    t0 = time.time()
    cases = build_training_cases(kind, n_per_frame=n_per_frame, seed=seed, data_dir=data_dir, normaliser=normaliser,
                                 cache_dir=cache_dir, faint_weight=faint_weight)
    cases = [_pad_case(c, size) for c in cases]
    n_val = max(3, len(cases) // 10)
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(cases))
    val, trn = [cases[i] for i in order[:n_val]], [cases[i] for i in order[n_val:]]
    vx, vy, vw = _windows(val, size, 64, np.random.default_rng(seed + 2))
    pos = sum(float((c["target"] * c["weight"]).sum()) for c in trn)
    tot = sum(float(c["weight"].sum()) for c in trn)
    pos_weight = float(np.clip((tot - pos) / max(pos, 1.0), 1.0, 10.0))
    arch_dict = dict(ARCHITECTURES[arch])
    arch_dict["in_channels"] = 4 if kind == "segment" else 3
    net = build_architecture(arch_dict)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    budget = minutes - (time.time() - t0) / 60
    vxt, vyt, vwt = (torch.from_numpy(a) for a in (vx, vy, vw))

    def loss(model, b):
        return _loss(model(b[0]), b[1], b[2], pos_weight)

    if adversarial > 0:
        loss = adversarial_loss(lambda logits, y, w: _loss(logits, y, w, pos_weight), arch_dict["in_channels"],
                                weight=adversarial, lr=lr / 10)

    def validate(model):
        logits = model(vxt)
        pred = (logits > 0).float()
        inter = float((pred * vyt * vwt).sum())
        union = float((((pred + vyt) > 0).float() * vwt).sum())
        return {"val_loss": round(float(_loss(logits, vyt, vwt, pos_weight)), 4), "val_iou": round(inter / max(union, 1), 4)}

    def batches(_round):
        while True:
            yield tuple(torch.from_numpy(a) for a in _windows(trn, size, batch, rng, scale=window_scale))

    trainer = Trainer(net, opt, loss=loss, validate=validate, schedule=cosine_schedule(), time_limit=budget,
                      log=lambda entry: print(json.dumps(entry), flush=True))
    history = trainer.fit(batches, rounds=None, steps_per_round=100)
    log = [dict(step=h["steps"], minutes=round(h["minutes"] + minutes - budget, 2), val_loss=h["val_loss"],
                val_iou=h["val_iou"]) for h in history]
    step = history[-1]["steps"] if history else 0
    minutes_used = (time.time() - t0) / 60
    from astroclean.models.card import ModelCard
    from astroclean.training.export import export_model

    inputs = {"bands": ["g", "r", "i"], "channels": arch_dict["in_channels"],
              "units": "any linear flux unit, sky-subtracted (normalised by the noise)", "normaliser": normaliser,
              "working_scale_arcsec": 2.0,
              "band_mapping": "SDSS g,r,i; Legacy Survey/DECam g,r,z -> g,r,i; a single band copied into all three",
              "preprocessing": (get_normaliser(normaliser).description + (
                  ", source pixels 0, source mask as 4th channel" if kind == "segment" else ""))}
    outputs = {"kind": "mask", "names": ["cirrus" if kind == "segment" else "source"], "units": ["probability"],
               "activation": "sigmoid"}
    extra = dict(training_log=log[-5:], steps=step, pos_weight=round(pos_weight, 3), window=size, batch=batch,
                 faint_weight=faint_weight, adversarial=adversarial,
                 window_scale=None if window_scale is None else list(window_scale))
    desc = ("cirrus segmentation U-Net (" if kind == "segment" else "source/artefact masking U-Net (") + \
        f"shared unet, {arch_dict['encoder']} encoder, widths {list(arch_dict['widths'])}), trained from scratch " \
        "on mock cirrus"
    card = ModelCard(name=name, task="cirrus", architecture=arch_dict, description=desc, inputs=inputs,
                     outputs=outputs, instruments=("SDSS", "Legacy Survey", "DES", "DECam"),
                     training_data=(f"{n_per_frame} mock clouds (TRAIN setting: slopes 2.5-3.3, anisotropy 1.5-4) per "
                                    "train region (first 60 % of the columns) of the SDSS gri, Legacy Survey grz and "
                                    f"DES r frames; seed {seed}; {size} px windows"
                                    + ("" if window_scale is None else
                                       f" cut at {window_scale[0]}-{window_scale[1]} x {size} px and resized")
                                    + ", 8 dihedral transforms"),
                     training_command=command, training_time=f"{minutes_used:.1f} min on cpu ({threads} thread)",
                     metrics={"validation_iou": log[-1]["val_iou"] if log else None}, extra=extra)
    Path(outdir).mkdir(parents=True, exist_ok=True)
    final = export_model(net, card, directory=outdir, overwrite=True)
    print(f"saved {name} after {step} steps, {minutes_used:.1f} min", flush=True)
    return net, final


def calibrate_threshold(name: str, *, n_per_frame: int = 8, seed: int = 500, data_dir=None, weights_dir=None,
                        threads: int = 1, criterion: str = "lowest-near-best", tolerance: float = 0.005) -> float:
    """Pick the probability threshold on fresh TRAIN-region mocks; write it and the curve in the card.

    Only training regions and the training generator setting are used (never the benchmark).
    ``criterion``: ``"best-iou"`` (the threshold of the best pooled IoU) or ``"lowest-near-best"`` (the
    lowest threshold whose IoU is within ``tolerance`` of the best: more faint cirrus found, which is what
    the alert rate counts, for an IoU loss below ``tolerance`` on these mocks).
    """
    import dataclasses

    import torch

    from astroclean.cirrus.evaluate.metrics import alerts
    from astroclean.cirrus.segment import load_cirrus_model
    from astroclean.cirrus.simulate.cases import make_cases
    from astroclean.models.card import ModelCard
    from astroclean.models.registry import weights_dir as shipped

    if criterion not in ("best-iou", "lowest-near-best"):
        raise ValueError(f"criterion must be 'best-iou' or 'lowest-near-best', got {criterion!r}")
    torch.set_num_threads(threads)
    runner = load_cirrus_model(name, directory=weights_dir)
    normaliser = runner.card.normaliser or "cirrus-asinh"
    cases = make_cases(split="train", n_per_frame=n_per_frame, rng=seed, data_dir=data_dir)
    levels = np.round(np.arange(0.1, 0.81, 0.05), 2)
    tp, fp, fn = np.zeros(len(levels)), np.zeros(len(levels)), np.zeros(len(levels))
    hit, regions = np.zeros(len(levels)), np.zeros(len(levels))
    for c in cases:
        prob = runner(segmenter_inputs(c["x"], c["noise"], c["source_truth"], normaliser=normaliser))
        valid = ~c["ignore"]
        for i, t in enumerate(levels):
            p = (prob >= t) & valid
            tp[i] += (p & c["truth"]).sum()
            fp[i] += (p & ~c["truth"]).sum()
            fn[i] += (~p & c["truth"] & valid).sum()
            h, n = alerts(p, c["truth"], c["sb_r"], pixel_scale=c["pixel_scale"])
            hit[i] += h
            regions[i] += n
    iou = tp / np.maximum(tp + fp + fn, 1)
    alert = hit / np.maximum(regions, 1)
    if criterion == "best-iou":
        best = float(levels[int(np.argmax(iou))])
    else:
        best = float(levels[int(np.flatnonzero(iou >= iou.max() - tolerance)[0])])
    path = Path(weights_dir or shipped()) / f"{name}.json"
    card = ModelCard.read(path)
    metrics = dict(card.metrics, threshold_calibration={
        "train-region mocks": len(cases), "seed": seed, "criterion": criterion, "tolerance": tolerance,
        "iou_by_threshold": dict(zip(map(str, levels), np.round(iou, 4).tolist())),
        "alert_rate_by_threshold": dict(zip(map(str, levels), np.round(alert, 4).tolist()))})
    dataclasses.replace(card, default_threshold=best, metrics=metrics).write(path)
    k = int(np.flatnonzero(levels == best)[0])
    print(f"{name}: threshold {best} ({criterion}; IoU {iou[k]:.4f}, best {iou.max():.4f}; alert rate {alert[k]:.4f} "
          f"on {len(cases)} train-region mocks)")
    return best


def add_train_arguments(p) -> None:
    """The options of ``astroclean train cirrus`` (and ``python -m astroclean.cirrus.train``)."""
    p.add_argument("kind", choices=["segment", "mask", "calibrate"])
    p.add_argument("--arch", default=None)
    p.add_argument("--name", required=True)
    p.add_argument("--minutes", type=float, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-per-frame", type=int, default=60)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--normaliser", default="cirrus-asinh", choices=["cirrus-asinh", "cirrus-reference"])
    p.add_argument("--data-dir", default=None, help="real data folder (default: $ASTROCLEAN_DATA_DIR)")
    p.add_argument("-o", "--outdir", default="src/astroclean/weights")
    p.add_argument("--cache-dir", default=None, help="keep the simulated training cases here between runs")
    p.add_argument("--criterion", default="lowest-near-best", choices=["lowest-near-best", "best-iou"],
                   help="calibrate: how the threshold is picked on train-region mocks")
    p.add_argument("--adversarial", type=float, default=0.0,
                   help="weight of the conditional-adversarial (PatchGAN critic) term; 0: supervised loss only")
    p.add_argument("--window-scale", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="segment/mask: cut each training window at LO-HI times --size and resize it to --size "
                        "(0.7 2.8 = the reference's 224-896 px windows at SDSS sampling)")
    p.add_argument("--faint-weight", type=float, default=0.0,
                   help="extra loss weight of faint truth pixels (0 at 26.5 mag/arcsec^2, this much at the depth)")


def run(args, *, command: str = "") -> int:
    """Train (or calibrate) from parsed ``args``."""
    import warnings

    warnings.filterwarnings("ignore", module="astropy")
    if args.kind == "calibrate":
        calibrate_threshold(args.name, data_dir=args.data_dir, threads=args.threads, criterion=args.criterion,
                            weights_dir=None if args.outdir == "src/astroclean/weights" else args.outdir)
        return 0
    arch = args.arch or ("cirrus-unet-resnet" if args.kind == "segment" else "cirrus-mask-unet")
    train(args.kind, arch=arch, name=args.name, minutes=args.minutes, seed=args.seed, n_per_frame=args.n_per_frame,
          batch=args.batch, size=args.size, lr=args.lr, threads=args.threads, data_dir=args.data_dir,
          normaliser=args.normaliser, outdir=args.outdir, command=command, cache_dir=args.cache_dir,
          faint_weight=args.faint_weight, adversarial=args.adversarial, window_scale=args.window_scale)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m astroclean.cirrus.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(p)
    args = p.parse_args(argv)
    command = "python -m astroclean.cirrus.train " + " ".join(argv if argv is not None else sys.argv[1:])
    return run(args, command=command)


if __name__ == "__main__":
    sys.exit(main())
