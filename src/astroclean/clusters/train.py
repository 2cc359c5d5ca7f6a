"""Train the cluster ResNet on mock sets and export safetensors + card.

    python -m astroclean.clusters.sets -o runs/clusters                 # mocks (train/val/test)
    nice -n 10 python -m astroclean.clusters.train --sets runs/clusters --name wfc3-m83 \
        --epochs 8 --time-limit 38 --threads 1 -o src/astroclean/weights
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from astroclean.models.card import ModelCard
from astroclean.io.paths import file_sha256
from astroclean.clusters.model import SMALL, TINY, build_network
from astroclean.clusters.network import NOISE_E_PER_S, NORMALISER, PARAMETERS, TARGET_CENTRE, TARGET_SCALE, UNITS, fit_sigma_scale, \
    loss_terms, normalise_cutouts, standardise
from astroclean.clusters.sets import read_set
from astroclean.clusters.tables import BANDS
from astroclean.training.trainer import Trainer, cosine_schedule, dihedral, shuffled_batches


def _targets(truth):
    t = {name: standardise(name, np.nan_to_num(truth[name])) for name in (*PARAMETERS, "log_snr")}
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in t.items()}


def _epoch_entry(entry):
    """A Trainer history entry in the card's terms (epoch, losses rounded, minutes)."""
    out = {"epoch": entry["round"], "train_loss": round(entry["train_loss"], 4)}
    out.update({a: round(b, 4) for a, b in entry.items() if a.startswith("val_")})
    out.update(lr=float(f"{entry['lr']:.3g}"), minutes=round(entry["minutes"], 2))
    return out


def evaluate_loss(net, x, targets, is_cluster, k, batch=512):
    net.eval()
    sums, n = {}, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            sl = slice(i, i + batch)
            terms = loss_terms(net(x[sl]), {a: b[sl] for a, b in targets.items()}, is_cluster[sl], k)
            for a, b in terms.items():
                sums[a] = sums.get(a, 0.0) + float(b) * len(x[sl])
            n += len(x[sl])
    return {a: b / n for a, b in sums.items()}


def train(sets_dir, *, name="wfc3-m83", output="src/astroclean/weights", epochs=8, batch_size=64, lr=2e-3,
          time_limit_min=38.0, threads=1, seed=0, tiny=False, n_train=None, command="", extra_train=None, init=None):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    sets_dir = Path(sets_dir)
    xtr, ttr = read_set(sets_dir / "train.npz")
    xva, tva = read_set(sets_dir / "val.npz")
    if n_train:
        xtr, ttr = xtr[:n_train], {k: v[:n_train] for k, v in ttr.items()}
    for path in extra_train or ():
        xe, te = read_set(path)
        xtr = np.concatenate([xtr, xe])
        ttr = {k: np.concatenate([ttr[k], te[k]]) for k in ttr}
    xtr = torch.from_numpy(normalise_cutouts(xtr))
    xva = torch.from_numpy(normalise_cutouts(xva))
    ytr, yva = _targets(ttr), _targets(tva)
    ctr = torch.tensor(ttr["is_cluster"], dtype=torch.float32)
    cva = torch.tensor(tva["is_cluster"], dtype=torch.float32)
    arch = dict(TINY if tiny else SMALL)
    net = build_network(arch)
    if init:
        from safetensors.torch import load_file
        net.load_state_dict(load_file(str(init)))
    k = arch["k"]
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)

    def batches(_round):
        for idx in shuffled_batches(len(xtr), batch_size, gen):
            yield dihedral(xtr[idx], generator=gen)[0], idx

    def loss(model, batch):
        xb, idx = batch
        return sum(loss_terms(model(xb), {a: b[idx] for a, b in ytr.items()}, ctr[idx], k).values())

    def validate(model):
        val = evaluate_loss(model, xva, yva, cva, k)
        return {"val_loss": sum(val.values()), **{f"val_{a}": b for a, b in val.items()}}

    def report(entry):
        print(json.dumps(_epoch_entry(entry)), flush=True)

    # warm-up (5 %, from 0.1 lr) then cosine, over the steps or the time budget, whichever runs out first
    trainer = Trainer(net, opt, loss=loss, validate=validate, schedule=cosine_schedule(warmup=0.05, start=0.1),
                      clip_grad=5.0, time_limit=time_limit_min, stop="step", log=report)
    steps_per_epoch = len(xtr) // batch_size
    trainer.fit(batches, rounds=epochs, steps_per_round=steps_per_epoch)
    history = [_epoch_entry(h) for h in trainer.history]
    if trainer.history and trainer.history[-1]["steps"] < len(trainer.history) * steps_per_epoch:
        print(f"time limit {time_limit_min} min reached in epoch {len(history)}", flush=True)
    minutes = trainer.minutes
    net.eval()      # the Trainer has loaded the state of the best validation loss
    pos = tva["is_cluster"] == 1
    with torch.no_grad():
        raw = torch.cat([net(xva[i:i + 512]) for i in range(0, len(xva), 512)])[torch.from_numpy(pos)]
    scale = fit_sigma_scale(raw, k, {p: tva[p][pos] for p in PARAMETERS})
    print(f"sigma scale (validation coverage 0.68): {scale}", flush=True)
    return export(net, arch, name=name, output=output, history=history, minutes=minutes, threads=threads,
                  n_train=len(xtr), n_val=len(xva), command=command, sigma_scale=scale,
                  extra_train=[str(p) for p in extra_train or ()], init=str(init) if init else None)


def export(net, arch, *, name, output, history, minutes, threads, n_train, n_val, command, sigma_scale=None,
           extra_train=(), init=None):
    from safetensors.torch import save_file

    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}.safetensors"
    save_file({a: b.contiguous() for a, b in net.state_dict().items()}, str(weights))
    card = ModelCard(
        name=name, task="clusters", architecture=arch,
        description="star-cluster parameters (log age, log mass, log r_eff, A_V as K=3 Gaussian-mixture marginals), "
                    "P(cluster) and S/N from 48x48 WFC3/UVIS F336W/F438W/F814W cutouts; ResNet",
        inputs={"bands": list(BANDS), "channels": 3, "units": "electron / s", "normaliser": NORMALISER,
                "description": f"asinh(x / noise_b) / 3 per band, noise_b = {[round(v, 5) for v in NOISE_E_PER_S]} "
                               "e-/s (sky + read noise of one pixel at the mocks' exposures); NaN -> 0; inputs on "
                               "other Vega zero points are rescaled to the card's",
                "cutout": 48, "pixel_scale": 0.04, "distance_mpc": 4.5},
        outputs={"kind": "regression", "names": [*PARAMETERS, "p_cluster", "log_snr"],
                 "units": [*UNITS, "", "dex"], "activation": "none", "mixture_k": arch["k"],
                 "sigma_scale": sigma_scale or {}, "target_centre": TARGET_CENTRE, "target_scale": TARGET_SCALE},
        instruments=("HST WFC3/UVIS F336W, F438W, F814W at 0.04\"/px, M83-like distance (4.5 Mpc)",),
        training_data=f"{n_train} train + {n_val} validation mocks from astroclean.clusters.simulate.make_set "
                      "(train halves of the real UVIS/COSMOS backgrounds + synthetic discs; seeds 0 and 1); "
                      "60 % clusters, 40 % negatives (empty, chance groups of field stars, galaxies); "
                      "rot90/flip augmentation"
                      + (f"; extra training sets {', '.join(extra_train)} (see their sets.log)" if extra_train else "")
                      + (f"; fine-tuned from {init}" if init else ""),
        training_command=command, training_time=f"{minutes:.1f} min on cpu ({threads} thread(s))",
        metrics={"validation_loss_best": min((h["val_loss"] for h in history), default=None),
                 "epochs_run": len(history)},
        weights_file=weights.name, sha256=file_sha256(weights),
        extra={"training_history": history})
    card.write(out / f"{name}.json")
    print(f"wrote {weights} and {out / (name + '.json')}", flush=True)
    return card


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default="runs/clusters")
    p.add_argument("--name", default="wfc3-m83")
    p.add_argument("-o", "--output", default="src/astroclean/weights")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--time-limit", type=float, default=38.0, help="minutes")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--extra-train", nargs="*", default=None, help="more training sets (npz) to append")
    p.add_argument("--init", default=None, help="safetensors weights to start from (fine-tuning)")
    args = p.parse_args(argv)
    command = "python -m astroclean.clusters.train " + " ".join(argv if argv is not None else sys.argv[1:])
    train(args.sets, name=args.name, output=args.output, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
          time_limit_min=args.time_limit, threads=args.threads, seed=args.seed, tiny=args.tiny,
          n_train=args.n_train, command=command, extra_train=args.extra_train, init=args.init)
    return 0


if __name__ == "__main__":
    sys.exit(main())
