"""Build a cosmic-ray ensemble model (the mean logit of trained members) with its card.

    python scripts/build_cr_ensemble.py --name cr-any-ens --members cr-any-fs runs/fs_sp/cr-any-fs-sp.json \\
        -o src/astroclean/weights
    python scripts/cr_validation.py --models cr-any-ens --set-threshold 1e-4   # then its default threshold

A member is a shipped model's name or the path of a card written by ``astroclean train cosmic-rays -o DIR``
(its weights beside it; the sha256 is checked). Members must read the same input (channels, normaliser).
The ensemble (:class:`astroclean.models.ensemble.MeanEnsemble`) is stored as one safetensors file and one
card; the card keeps each member's name, sha256, training command, time and threshold, and its own
training command is the members' commands followed by this one. Nothing is trained here.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path


def load_member(spec: str):
    """``(card, network)`` of a shipped model name or a card path."""
    from astroclean.models import create_model
    from astroclean.models.card import ModelCard
    from astroclean.models.registry import build_architecture, get_card, load_weights

    path = Path(spec)
    if path.suffix == ".json":
        card = ModelCard.read(path)
        return card, load_weights(build_architecture(card.architecture), card, directory=path.parent).eval()
    return get_card(spec), create_model(spec, pretrained=True)


def minutes(text: str) -> float:
    match = re.match(r"\s*([0-9.]+) min", text or "")
    if not match:
        raise SystemExit(f"cannot read a training time in minutes from {text!r}")
    return float(match.group(1))


def main(argv=None) -> int:
    from astroclean.models.card import ModelCard
    from astroclean.models.ensemble import MeanEnsemble
    from astroclean.training.export import export_model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True)
    p.add_argument("--members", nargs="+", required=True)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)

    members = [load_member(m) for m in args.members]
    cards = [c for c, _ in members]
    first = cards[0]
    for card in cards[1:]:
        if card.inputs != first.inputs or card.task != first.task:
            raise SystemExit(f"{card.name} reads {card.inputs} ({card.task}), {first.name} reads {first.inputs} "
                             f"({first.task}): an ensemble's members must read the same input")
    net = MeanEnsemble([c.architecture for c in cards])
    for slot, (_, member) in zip(net.members, members):
        slot.load_state_dict(member.state_dict())
    names = " + ".join(c.name for c in cards)
    command = " && ".join([c.training_command for c in cards]
                          + ["python scripts/build_cr_ensemble.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])])
    card = ModelCard(
        name=args.name, task=first.task, architecture={"kind": "mean-ensemble",
                                                       "members": [c.architecture for c in cards]},
        description=f"mean logit of {len(cards)} cosmic-ray UNets ({names})", inputs=dict(first.inputs),
        outputs=dict(first.outputs), instruments=first.instruments,
        training_data="members: " + " | ".join(f"{c.name}: {c.training_data}" for c in cards),
        training_command=command,
        training_time=f"{sum(minutes(c.training_time) for c in cards):.1f} min in all (members: "
                      + "; ".join(f"{c.name} {c.training_time}" for c in cards) + ")",
        default_threshold=0.5,
        metrics={"benchmark": "see docs/benchmark.md (filled in by scripts/update_model_cards.py)"},
        extra={"members": [{"name": c.name, "sha256": c.sha256, "default_threshold": c.default_threshold,
                            "training_command": c.training_command, "training_time": c.training_time,
                            "extra": {k: v for k, v in c.extra.items() if k != "history"}} for c in cards],
               "default_dilate": int(first.extra.get("default_dilate", 0)),
               "default_threshold_rule": "set by scripts/cr_validation.py --set-threshold"},
    )
    card = export_model(net, card, directory=args.output, overwrite=args.overwrite)
    print(f"wrote {args.output / card.weights_file} (sha256 {card.sha256[:12]}...) and its card")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
