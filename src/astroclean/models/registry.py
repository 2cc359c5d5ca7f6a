"""Model registry and factory (timm's ``create_model`` habit).

A name selects the architecture, the weights and the card. Pretrained models
are discovered from the cards shipped in ``astroclean/weights``; architecture
variants without weights (``unet-bn``, ``unet-gn-attn``, ...) are registered
in code so tests and training can build them by name.

Example
-------
>>> from astroclean.models import create_model, list_models
>>> "unet-bn" in list_models()
True
>>> net = create_model("unet-bn", pretrained=False, depth=2, width=4)
>>> net.depth
2
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import AstrocleanKeyError, AstrocleanValueError
from .card import ModelCard

WEIGHTS_PACKAGE = "astroclean.weights"

_VARIANTS = {
    "unet-bn": dict(kind="unet", depth=3, width=8, norm="batch", attention=False),
    "unet-bn-attn": dict(kind="unet", depth=3, width=8, norm="batch", attention=True),
    "unet-gn": dict(kind="unet", depth=3, width=8, norm="group", attention=False),
    "unet-gn-attn": dict(kind="unet", depth=3, width=8, norm="group", attention=True),
    "pconv-unet": dict(kind="pconv-unet", depth=6, width=8),
}


def _variant_card(name: str) -> ModelCard:
    if _VARIANTS[name]["kind"] == "pconv-unet":
        return ModelCard(name=name, task="any", architecture=_VARIANTS[name],
                         description="partial-convolution UNet (Liu et al. 2018) filling masked holes; "
                                     "untrained architecture")
    style = "Cosmic-CoNN style (GroupNorm)" if "gn" in name else "deepCR style (BatchNorm)"
    gates = " with attention gates" if name.endswith("attn") else ""
    return ModelCard(name=name, task="any", architecture=_VARIANTS[name],
                     description=f"UNet, {style}{gates}; untrained architecture")


def weights_dir() -> Path:
    """The folder of shipped weights and cards."""
    return Path(str(resources.files(WEIGHTS_PACKAGE)))


@lru_cache(maxsize=None)
def _shipped_cards() -> dict:
    cards = {}
    for path in sorted(weights_dir().glob("*.json")):
        card = ModelCard.read(path)
        cards[card.name] = card
    return cards


def list_models(task: str | None = None) -> list[str]:
    """Names of every registered model, pretrained ones first, optionally for one ``task``."""
    shipped = [n for n, c in _shipped_cards().items() if task is None or c.task == task]
    variants = [] if task not in (None, "any") else list(_VARIANTS)
    return shipped + variants


def get_card(name: str) -> ModelCard:
    """The card of model ``name``.

    Raises
    ------
    AstrocleanKeyError
        Unknown name; the message lists the known ones.
    """
    cards = _shipped_cards()
    if name in cards:
        return cards[name]
    if name in _VARIANTS:
        return _variant_card(name)
    raise AstrocleanKeyError(f"unknown model {name!r}; known models: {', '.join(list_models())} "
                             "(see `astroclean models`)")


def build_architecture(architecture: dict):
    """Instantiate the network described by a card's ``architecture`` dict."""
    from .unet import UNet

    arch = dict(architecture)
    kind = arch.pop("kind", "unet")
    if kind == "unet":
        return UNet(**arch)
    if kind == "pconv-unet":
        from .pconv_unet import PConvUNet

        return PConvUNet(**arch)
    raise AstrocleanValueError(f"unknown architecture kind {kind!r}; known: 'unet', 'pconv-unet'")


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_weights(model, card: ModelCard, *, directory=None):
    """Load the card's safetensors weights into ``model`` after checking their sha256.

    Raises
    ------
    AstrocleanValueError
        The weights file is missing or its hash differs from the card's.
    """
    from safetensors.torch import load_file

    path = Path(directory or weights_dir()) / card.weights_file
    if not path.is_file():
        raise AstrocleanValueError(f"weights {path} of model {card.name!r} are missing; reinstall astroclean")
    digest = file_sha256(path)
    if card.sha256 and digest != card.sha256:
        raise AstrocleanValueError(f"weights {path} have sha256 {digest}, but the card of {card.name!r} says "
                                   f"{card.sha256}; the file is corrupt or was replaced: reinstall astroclean")
    model.load_state_dict(load_file(str(path)))
    return model


def create_model(name: str, *, pretrained: bool = True, **overrides):
    """Build model ``name``, with its shipped weights when ``pretrained``.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.
    pretrained : bool
        Load the shipped weights (an error for architecture-only variants).
    **overrides
        Architecture options (``depth``, ``width``, ``norm``, ``attention``)
        replacing the card's; only allowed without pretrained weights.

    Returns
    -------
    torch.nn.Module in eval mode, with the card as ``model.card``.
    """
    card = get_card(name)
    if pretrained and card.weights_file is None:
        raise AstrocleanValueError(f"model {name!r} has no pretrained weights; pass pretrained=False or "
                                   f"pick one of {', '.join(n for n in list_models() if get_card(n).weights_file)}")
    if pretrained and overrides:
        raise AstrocleanValueError(f"architecture overrides {sorted(overrides)} cannot be used with pretrained weights")
    arch = {**card.architecture, **overrides}
    model = build_architecture(arch)
    if pretrained:
        load_weights(model, card)
    model.card = card if not overrides else ModelCard.from_dict({**card.to_dict(), "architecture": arch})
    return model.eval()
