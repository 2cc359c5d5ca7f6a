"""An ensemble of networks that reads as one network: the mean of its members' outputs.

A member's output is its logit (cosmic-ray models), so the ensemble's output is the mean logit: one score
map with the members' averaged ranking. The ensemble is stored like any model: one safetensors file holding
every member's weights (``members.<i>.<parameter>``) and one card whose ``architecture`` lists the members'
architectures, so loading, sha256 checks, BatchNorm folding and tiling need nothing new. Members read the
same input (the same channels and normaliser).

Example
-------
>>> import torch
>>> from astroclean.models.registry import build_architecture
>>> net = build_architecture({"kind": "mean-ensemble",
...                           "members": [{"kind": "unet", "depth": 2, "width": 4}, {"kind": "unet", "depth": 3, "width": 4}]})
>>> net(torch.zeros(1, 1, 20, 20)).shape, net.multiple
(torch.Size([1, 1, 20, 20]), 8)
"""

from __future__ import annotations

import torch
from torch import nn

from astroclean.models.registry import build_architecture, register_model


class MeanEnsemble(nn.Module):
    """The mean of ``members``' outputs; ``members`` are architecture dicts (``kind`` + options)."""

    def __init__(self, members):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member architecture")
        self.member_architectures = [dict(m) for m in members]
        self.members = nn.ModuleList(build_architecture(m) for m in self.member_architectures)

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this (the largest of the members')."""
        return max(getattr(m, "multiple", 1) for m in self.members)

    def receptive_radius(self) -> int:
        """Pixels of context each side that can influence an output pixel (the widest member's)."""
        return max(m.receptive_radius() if hasattr(m, "receptive_radius") else 32 for m in self.members)

    def split_concatenations(self, *args, **kwargs):
        """Passed on to the members that have it (UNets; see :meth:`astroclean.models.unet.UNet.split_concatenations`)."""
        for m in self.members:
            if hasattr(m, "split_concatenations"):
                m.split_concatenations(*args, **kwargs)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out / len(self.members)


@register_model("mean-ensemble", task="any")
def mean_ensemble(members) -> MeanEnsemble:
    """The mean of several networks' outputs (an ensemble stored as one model)"""
    return MeanEnsemble(members)
