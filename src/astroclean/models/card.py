"""Model cards: what a pretrained model is, how it was trained, how good it is.

A card is a JSON file beside the weights in ``astroclean/weights``: a contract
the code reads, not prose. It holds the architecture (enough to rebuild the
network), ``inputs`` (bands, channels, units and the name of a registered
normaliser, :mod:`astroclean.inference.normalisers`), ``outputs`` (``kind``:
mask, classes, regression or image; ``names``, ``units``, ``activation``),
intended instruments, training data and command, benchmark metrics and the
sha256 of the weights file.

Example
-------
>>> from astroclean.models.card import ModelCard
>>> card = ModelCard(name="demo", task="cosmicrays", architecture={"kind": "unet", "depth": 2, "width": 8})
>>> ModelCard.from_dict(card.to_dict()) == card
True
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from astroclean.errors import AstrocleanValueError


@dataclass(frozen=True)
class ModelCard:
    """Everything a user needs to trust (or distrust) a model."""

    name: str
    task: str
    architecture: dict
    description: str = ""
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    instruments: tuple = ()
    training_data: str = ""
    training_command: str = ""
    training_time: str = ""
    metrics: dict = field(default_factory=dict)
    weights_file: str | None = None
    sha256: str | None = None
    default_threshold: float = 0.5
    extra: dict = field(default_factory=dict)

    @property
    def activation(self) -> str:
        """The output activation the Predictor applies: ``sigmoid``, ``softmax`` or ``none``."""
        return self.outputs.get("activation", "sigmoid" if self.outputs.get("kind", "mask") == "mask" else "none")

    @property
    def normaliser(self) -> str | None:
        """Registered name of the input normaliser, or None."""
        return self.inputs.get("normaliser")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["instruments"] = list(self.instruments)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "ModelCard":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise AstrocleanValueError(f"model card has unknown fields {sorted(unknown)}; known: {sorted(known)}")
        data = dict(data)
        data["instruments"] = tuple(data.get("instruments", ()))
        return cls(**data)

    @classmethod
    def read(cls, path) -> "ModelCard":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def write(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n")

    def summary(self) -> str:
        """A few human-readable lines for ``astroclean models``."""
        arch = ", ".join(f"{k}={v}" for k, v in self.architecture.items())
        lines = [f"{self.name}  [{self.task}]  {self.description}", f"  architecture: {arch}"]
        if self.instruments:
            lines.append(f"  instruments: {', '.join(self.instruments)}")
        if self.inputs:
            lines.append("  inputs: " + ", ".join(f"{k}={v}" for k, v in self.inputs.items()))
        if self.outputs:
            lines.append("  outputs: " + ", ".join(f"{k}={v}" for k, v in self.outputs.items()))
        if self.weights_file:
            lines.append(f"  weights: {self.weights_file} sha256={self.sha256}")
        else:
            lines.append("  weights: none (architecture only; train it with `astroclean train`)")
        for key, value in self.metrics.items():
            if isinstance(value, dict) and "by_flavour" in value:
                for flavour, numbers in value["by_flavour"].items():
                    text = ", ".join(f"{k} {v}" for k, v in numbers.items() if k.startswith(("TPR at FPR 1e-4",
                                                                                           "precision")))
                    lines.append(f"  benchmark[{flavour}]: {text}")
            elif isinstance(value, dict) and "targets" in value:
                for target in value["targets"]:
                    lines.append(f"  benchmark: {target['verdict']} {target['target']}: {target['measured']}")
            elif isinstance(value, dict) and len(str(value)) > 160:
                lines.append(f"  {key}: {', '.join(value)}")
            else:
                lines.append(f"  {key}: {value}")
        if self.training_command:
            lines.append(f"  retrain: {self.training_command}")
        return "\n".join(lines)
