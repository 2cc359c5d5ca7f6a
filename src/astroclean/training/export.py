"""Export trained weights as safetensors with a model card (sha256, command, metrics).

Example
-------
>>> from astroclean.training.export import export_model     # doctest: +SKIP
>>> export_model(net, card, directory="src/astroclean/weights")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from safetensors.torch import save_file

from astroclean.io.write import atomic_write
from astroclean.models.card import ModelCard
from astroclean.io.paths import file_sha256


def export_model(model, card: ModelCard, *, directory, overwrite: bool = False) -> ModelCard:
    """Write ``<name>.safetensors`` and ``<name>.json`` into ``directory``; return the final card."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{card.name}.safetensors"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(weights, lambda tmp: save_file(state, tmp), overwrite=overwrite)
    final = dataclasses.replace(card, weights_file=weights.name, sha256=file_sha256(weights))
    atomic_write(directory / f"{card.name}.json", final.write, overwrite=overwrite)
    return final


def training_time_text(minutes: float, device) -> str:
    """``"19.6 min on cpu (2 threads)"``: the card's ``training_time``."""
    import torch

    from astroclean.inference.device import select_device

    dev = select_device(device)
    where = f"{dev.type} ({torch.get_num_threads()} threads)" if dev.type == "cpu" else str(dev)
    return f"{minutes:.1f} min on {where}"


def config_from_args(config_class, args):
    """A training-config dataclass from parsed CLI ``args``: the fields given (not None), defaults for the rest."""
    fields = {f.name for f in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
