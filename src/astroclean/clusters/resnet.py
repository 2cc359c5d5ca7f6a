"""The cluster network: the floor's ResNet with a stride-2 stem and the cluster heads.

Registered as ``cluster-resnet`` (``module: astroclean.clusters.resnet`` in the card, so the floor's
registry imports it on demand): :class:`astroclean.models.resnet.ResNet` whose output size follows
the K-component mixture heads of :mod:`astroclean.clusters.network`.

Example
-------
>>> import torch
>>> from astroclean.clusters.resnet import cluster_resnet
>>> net = cluster_resnet(widths=(8, 16), blocks=(1, 1))
>>> net(torch.zeros(2, 3, 48, 48)).shape[0], net.k
(2, 3)
"""

from __future__ import annotations

from astroclean.models.registry import register_model
from astroclean.models.resnet import ResNet


@register_model("cluster-resnet", task="clusters")
def cluster_resnet(in_channels=3, widths=(16, 32, 64, 96), blocks=(1, 1, 1, 1), stem_stride=2, k=3,
                   n_outputs=None) -> ResNet:
    """Cluster ResNet: K-component mixture heads per parameter + cluster logit + S/N"""
    from astroclean.clusters.network import n_outputs as count
    net = ResNet(in_channels, n_outputs or count(k), widths=tuple(widths), blocks=tuple(blocks),
                 stem_stride=stem_stride)
    net.k = k
    return net
