"""A small ResNet for cutout regression/classification (He et al. 2016, basic blocks).

``ResNet(in_channels, n_outputs, widths=(32, 64, 128), blocks=(1, 1, 1), stem_stride=2)``:
a 3x3 stem (stride ``stem_stride``), one stage per width (basic residual blocks, BatchNorm, ReLU;
stride 2 from the second stage on), global average pooling and a linear head with
``n_outputs`` raw outputs (the task decides their meaning: Gaussian/mixture parameters, logits).

# TODO(floor): the lead's floor registers ``resnet-tiny``/``resnet-small`` here with
# ``@register_model``; until that lands, the clusters slice builds this class from its card.

Example
-------
>>> import torch
>>> from astroclean.models.resnet import ResNet
>>> net = ResNet(3, 5, widths=(8, 16), blocks=(1, 1))
>>> net(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True)
        self.skip = None
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + (x if self.skip is None else self.skip(x)))


class ResNet(nn.Module):
    """Basic-block ResNet ending in global average pooling and a linear layer."""

    def __init__(self, in_channels: int, n_outputs: int, widths=(32, 64, 128), blocks=(1, 1, 1),
                 stem_stride: int = 2):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise ValueError(f"widths and blocks must be non-empty and of equal length, got {widths}, {blocks}")
        self.in_channels, self.n_outputs = in_channels, n_outputs
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers, c = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c, w, stride=2 if (i > 0 and j == 0) else 1))
                c = w
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))
