"""Model registry and factory (timm's ``create_model`` habit).

A name selects the architecture, the weights and the card. Pretrained models
are discovered from the cards shipped in ``astroclean/weights``; architecture
variants without weights (``unet-bn``, ``unet-gn-attn``, ...) are registered
in code so tests and training can build them by name.

Example
-------
>>> from astroclean.models import create_model, list_models
>>> "unet-bn" in list_models() and "resnet-tiny" in list_models(pretrained=False)
True
>>> net = create_model("unet-bn", pretrained=False, depth=2, width=4)
>>> net.depth
2
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.models.card import ModelCard

WEIGHTS_PACKAGE = "astroclean.weights"

_ARCHITECTURES: dict = {}  # kind -> factory(**options) -> nn.Module
_VARIANTS: dict = {}  # name -> (architecture dict, task, description): registered, untrained architectures


def register_model(kind: str, *, variants: dict | None = None, task: str = "any", description: str = ""):
    """Decorator: register ``factory(**options) -> nn.Module`` as architecture ``kind``.

    Place it beside the architecture (timm's habit). ``variants`` names untrained
    configurations that tests and training can build by name, e.g.
    ``{"resnet-tiny": {"widths": (8, 16), "blocks": (1, 1)}}``. A card's
    ``architecture`` dict is ``{"kind": kind, **options}``; an architecture
    defined in a task's slice adds ``"module": "astroclean.<task>.<module>"`` so
    that the registry imports it on demand (the floor never imports a slice).

    Example
    -------
    >>> from torch import nn
    >>> @register_model("demo-linear", variants={"demo-linear-2": {"n": 2}})
    ... def demo_linear(n=1):
    ...     return nn.Linear(n, 1)
    >>> create_model("demo-linear-2", pretrained=False).in_features
    2
    """
    def wrap(factory):
        if kind in _ARCHITECTURES and _ARCHITECTURES[kind] is not factory:
            raise AstrocleanValueError(f"architecture kind {kind!r} is already registered")
        _ARCHITECTURES[kind] = factory
        for name, options in (variants or {}).items():
            _VARIANTS[name] = ({"kind": kind, **options}, task, description or (factory.__doc__ or "").strip()
                               .split("\n")[0])
        return factory
    return wrap


def _variant_card(name: str) -> ModelCard:
    architecture, task, description = _VARIANTS[name]
    return ModelCard(name=name, task=task, architecture=dict(architecture),
                     description=f"{description}; untrained architecture")


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


def list_models(task: str | None = None, *, pretrained: bool | None = None) -> list[str]:
    """Names of registered models, shipped (pretrained) ones first.

    ``task`` keeps one task's models (architecture-only variants count for every
    task); ``pretrained=True`` keeps the shipped ones, ``False`` the variants.
    """
    _import_architectures()
    shipped = [n for n, c in _shipped_cards().items() if task is None or c.task == task]
    variants = [n for n, (_, t, _) in _VARIANTS.items() if task is None or t in ("any", task)]
    if pretrained is True:
        return shipped
    if pretrained is False:
        return variants
    return shipped + variants


def check_model_task(name: str, task: str, *, what: str | None = None) -> ModelCard:
    """The card of ``name`` after checking that it serves ``task`` (the one place this is decided).

    Raises
    ------
    AstrocleanValueError
        A model of another task; the message lists this task's shipped models.
    """
    card = get_card(name)
    if card.task not in (task, "any"):
        raise AstrocleanValueError(f"model {name!r} is a {card.task} model, not a {what or task} one; pick one of "
                                   f"{', '.join(list_models(task, pretrained=True)) or '(none shipped)'} "
                                   "(astroclean models)")
    return card


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
    _import_architectures()
    if name in _VARIANTS:
        return _variant_card(name)
    raise AstrocleanKeyError(f"unknown model {name!r}; known models: {', '.join(list_models())} "
                             "(see `astroclean models`)")


def _import_architectures() -> None:
    """Import the floor's architecture modules (each registers itself)."""
    import astroclean.models.ensemble  # noqa: F401
    import astroclean.models.pconv_unet  # noqa: F401
    import astroclean.models.resnet  # noqa: F401
    import astroclean.models.unet  # noqa: F401


def build_architecture(architecture: dict):
    """Instantiate the network described by a card's ``architecture`` dict (``kind`` + options)."""
    import importlib

    arch = dict(architecture)
    kind = arch.pop("kind", "unet")
    module = arch.pop("module", None)
    _import_architectures()
    if module:
        importlib.import_module(module)
    if kind not in _ARCHITECTURES:
        raise AstrocleanValueError(f"unknown architecture kind {kind!r}; known: {', '.join(sorted(_ARCHITECTURES))}")
    return _ARCHITECTURES[kind](**arch)


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
    from astroclean.io.paths import file_sha256

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
