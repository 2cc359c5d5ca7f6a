"""Build and load the cluster ResNet from its card.

The card lives with the shipped weights (``astroclean/weights/wfc3-m83.json``); ``extra`` holds the
input contract (bands, units, normaliser, cutout size) and the output contract (parameter names,
units, mixture size K, target standardisation).

# TODO(floor): once the floor's ``@register_model`` and card ``inputs``/``outputs`` fields land,
# ``create_model("wfc3-m83")`` replaces :func:`load_cluster_model`.
"""

from __future__ import annotations

from ..errors import AstrocleanValueError
from ..models import get_card, load_weights
from ..models.resnet import ResNet
from .network import n_outputs

TINY = {"kind": "resnet", "in_channels": 3, "widths": [8, 16], "blocks": [1, 1], "stem_stride": 2, "k": 3}
SMALL = {"kind": "resnet", "in_channels": 3, "widths": [16, 32, 64, 96], "blocks": [1, 1, 1, 1], "stem_stride": 2,
         "k": 3}


def build_network(architecture: dict) -> ResNet:
    arch = dict(architecture)
    if arch.pop("kind", "resnet") != "resnet":
        raise AstrocleanValueError(f"the cluster network is a ResNet, got architecture {architecture}")
    k = arch.pop("k", 3)
    net = ResNet(arch.pop("in_channels", 3), n_outputs(k), widths=tuple(arch.pop("widths")),
                 blocks=tuple(arch.pop("blocks")), stem_stride=arch.pop("stem_stride", 2))
    net.k = k
    return net


def load_cluster_model(model="wfc3-m83"):
    """(network in eval mode, card) for a model name, or pass an already built network through."""
    if not isinstance(model, str):
        card = getattr(model, "card", None)
        if card is None:
            raise AstrocleanValueError("a network passed as model= needs a .card (a ModelCard) attribute")
        return model.eval(), card
    card = get_card(model)
    if card.task != "clusters":
        raise AstrocleanValueError(f"model {model!r} is for task {card.task!r}, not clusters")
    net = build_network(card.architecture)
    load_weights(net, card)
    net.card = card
    return net.eval(), card


def sigma_scale(card) -> dict:
    """The card's post-hoc width calibration per parameter ({} when absent)."""
    return dict((card.extra or {}).get("outputs", {}).get("sigma_scale", {}) or {})
