"""Copy the benchmark's measured numbers into the model cards (``astroclean evaluate cirrus --update-cards``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

__all__ = ["update_cards"]


def update_cards(benchmark_json, *, weights_dir=None) -> list[str]:
    """Write the held-out metrics of ``benchmark_json`` into the cards of cirrus-gri and cirrus-mask-gri."""
    from astroclean.models.card import ModelCard
    from astroclean.models.registry import weights_dir as shipped

    data = json.loads(Path(benchmark_json).read_text())
    summary, directory = data["summary"], Path(weights_dir or shipped())
    key = "cirrus-gri (learned mask)"
    r3 = lambda d: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}  # noqa: E731
    written = []
    for name in ("cirrus-gri", "cirrus-mask-gri"):
        path = directory / f"{name}.json"
        if not path.is_file():
            continue
        card = ModelCard.read(path)
        if name == "cirrus-gri":
            bench = {"overall": r3(summary["overall"][key]), "by_part": {k: r3(v) for k, v in summary["by_part"][key].items()},
                     "by_instrument": {k: r3(v) for k, v in summary["by_instrument"][key].items()},
                     "baselines": {m: r3(summary["overall"][m]) for m in summary["overall"] if m != key}}
        else:
            bench = {m: r3(v) for m, v in summary["masking"].items()}
        bench.update(command=data.get("command"), cases=data.get("n_cases"))
        if data.get("timing"):
            bench["timing"] = data["timing"]
        metrics = dict(card.metrics, benchmark=bench)
        dataclasses.replace(card, metrics=metrics).write(path)
        written.append(str(path))
    return written
