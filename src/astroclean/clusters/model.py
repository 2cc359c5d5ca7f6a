"""Build and load the cluster network from its card (through the floor's model registry).

The card (``astroclean/weights/wfc3-m83.json``) declares ``architecture`` = ``{"kind": "cluster-resnet",
"module": "astroclean.clusters.resnet", ...}``, ``inputs`` (bands, units, normaliser, cutout size)
and ``outputs`` (parameter names, units, mixture size K, target standardisation, width calibration).
"""

from __future__ import annotations

from astroclean.errors import AstrocleanValueError
from astroclean.models import create_model, get_card
from astroclean.models.registry import build_architecture

MODULE = "astroclean.clusters.resnet"
TINY = {"kind": "cluster-resnet", "module": MODULE, "in_channels": 3, "widths": [8, 16], "blocks": [1, 1],
        "stem_stride": 2, "k": 3}
SMALL = {"kind": "cluster-resnet", "module": MODULE, "in_channels": 3, "widths": [16, 32, 64, 96],
         "blocks": [1, 1, 1, 1], "stem_stride": 2, "k": 3}


def build_network(architecture: dict):
    """An untrained network from a card's architecture dict."""
    if architecture.get("kind") != "cluster-resnet":
        raise AstrocleanValueError(f"the cluster network is a cluster-resnet, got architecture {architecture}")
    return build_architecture({"module": MODULE, **architecture})


def load_cluster_model(model="wfc3-m83"):
    """(network in eval mode, card) for a model name, a card file (``path/name.json`` beside its weights),
    or pass an already built network through."""
    if not isinstance(model, str):
        card = getattr(model, "card", None)
        if card is None:
            raise AstrocleanValueError("a network passed as model= needs a .card (a ModelCard) attribute")
        return model.eval(), card
    if model.endswith(".json"):       # a card file beside its weights (a model trained but not shipped)
        from pathlib import Path

        from astroclean.models.card import ModelCard
        from astroclean.models.registry import load_weights

        path = Path(model)
        if not path.is_file():
            raise AstrocleanValueError(f"model card {path} not found")
        card = ModelCard.read(path)
        if card.task != "clusters":
            raise AstrocleanValueError(f"model {path} is for task {card.task!r}, not clusters")
        net = build_network(card.architecture)
        load_weights(net, card, directory=path.parent)
        net.k = int(card.architecture.get("k", 3))
        return net.eval(), card
    card = get_card(model)
    if card.task != "clusters":
        raise AstrocleanValueError(f"model {model!r} is for task {card.task!r}, not clusters")
    net = create_model(model)
    net.k = int(card.architecture.get("k", 3))
    return net.eval(), card


def sigma_scale(card) -> dict:
    """The card's post-hoc width calibration per parameter ({} when absent)."""
    return dict((card.outputs or {}).get("sigma_scale", {}) or {})
