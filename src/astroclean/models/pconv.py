"""Partial convolutions (Liu et al. 2018): convolve only valid pixels, renormalise, update the mask.

A partial convolution sees an input ``x`` and a mask ``valid`` (1 = valid,
0 = hole). At every output position it convolves the valid pixels only and
rescales by ``sum(1) / sum(M)`` over the window, so the result does not
depend on the number of valid pixels it saw; the output is valid (mask 1)
where at least one valid pixel was in the window, and exactly 0 elsewhere.
Hole pixels of ``x`` are *selected away* (``torch.where``), not multiplied
by zero, so NaN, inf or 1e30 under the mask cannot leak into the result.
Zero padding at the borders counts as a hole (border renormalisation).

Example
-------
>>> import torch
>>> from astroclean.models.pconv import PartialConv2d
>>> conv = PartialConv2d(1, 4, 3, padding=1)
>>> x, valid = torch.randn(1, 1, 8, 8), torch.ones(1, 1, 8, 8)
>>> valid[..., 3:5, 3:5] = 0
>>> y, new_valid = conv(x, valid)
>>> y.shape, int(new_valid.sum())        # a 2x2 hole closes after one 3x3 layer
(torch.Size([1, 4, 8, 8]), 64)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astroclean.errors import AstrocleanValueError


def _mask_channels(mask: torch.Tensor, in_channels: int) -> int:
    if mask.dim() != 4 or mask.shape[1] not in (1, in_channels):
        raise AstrocleanValueError(f"mask must have shape (N, 1, H, W) or (N, {in_channels}, H, W), "
                                   f"got {tuple(mask.shape)}")
    return mask.shape[1]


def masked_input(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` where ``mask`` > 0, exactly 0 elsewhere (NaN/inf-safe)."""
    return torch.where(mask > 0, x, torch.zeros((), dtype=x.dtype, device=x.device))


class PartialConv2d(nn.Conv2d):
    """A ``Conv2d`` that convolves valid pixels only and returns ``(output, new_mask)``.

    Parameters are those of :class:`torch.nn.Conv2d` (``groups`` and
    ``dilation`` > 1 are not supported). The mask may have one channel
    (shared by all input channels) or one per input channel; the new mask
    always has one channel.

    Notes
    -----
    ``out = W^T (X * M) * sum(1) / sum(M) + b`` where ``sum(M) > 0``, else 0;
    ``new_mask = sum(M) > 0`` (Liu et al. 2018, eq. 1-2). ``sum(1)`` is
    ``in_channels * k * k``; ``sum(M)`` counts valid (pixel, channel) pairs
    in the window.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.groups != 1 or self.dilation != (1, 1) or self.padding_mode != "zeros":
            raise AstrocleanValueError("PartialConv2d supports groups=1, dilation=1 and zero padding only")
        self.register_buffer("_ones", torch.ones(1, 1, *self.kernel_size), persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, *, premasked: bool = False):
        """``(output, new_mask)``; ``premasked=True`` promises ``x`` is already exactly 0 under the mask."""
        n_mask = _mask_channels(mask, self.in_channels)
        mask = mask.to(x.dtype)
        with torch.no_grad():
            ones = self._ones.to(x.dtype).expand(1, n_mask, *self.kernel_size)
            count = F.conv2d(mask, ones, stride=self.stride, padding=self.padding)
            count = count * (self.in_channels / n_mask)
            new_mask = (count > 0).to(x.dtype)
            full = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            ratio = full / count.clamp(min=1.0) * new_mask
        raw = F.conv2d(x if premasked else masked_input(x, mask), self.weight, None, self.stride, self.padding)
        out = raw * ratio
        if self.bias is not None:
            out = (out + self.bias.view(1, -1, 1, 1)) * new_mask
        return out, new_mask


class PartialConvTranspose2d(nn.ConvTranspose2d):
    """A transposed partial convolution (upsampling) returning ``(output, new_mask)``.

    An output pixel is valid when at least one valid input pixel reaches it
    through the kernel; its value uses valid inputs only, rescaled by
    ``(k / stride)**2 / n_valid_taps`` (the taps a pixel receives from a
    fully valid input, over those it received), so a hole in the input
    cannot change any output. ``kernel_size`` must be a multiple of
    ``stride``. Pass ``output_size`` to :meth:`forward` to match a skip
    connection's shape.

    Example
    -------
    >>> import torch
    >>> up = PartialConvTranspose2d(2, 1, 4, stride=2, padding=1)
    >>> y, m = up(torch.randn(1, 2, 3, 3), torch.ones(1, 1, 3, 3), output_size=(7, 7))
    >>> tuple(y.shape), tuple(m.shape)
    ((1, 1, 7, 7), (1, 1, 7, 7))
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        k, s = self.kernel_size, self.stride
        if self.groups != 1 or self.dilation != (1, 1) or k[0] % s[0] or k[1] % s[1]:
            raise AstrocleanValueError(f"PartialConvTranspose2d needs groups=1, dilation=1 and kernel_size a "
                                       f"multiple of stride, got kernel {k}, stride {s}")
        self.register_buffer("_ones", torch.ones(1, 1, *self.kernel_size), persistent=False)
        self._full_taps = (k[0] // s[0]) * (k[1] // s[1])

    def forward(self, x: torch.Tensor, mask: torch.Tensor, output_size=None, *, premasked: bool = False):
        """``(output, new_mask)``; ``premasked=True`` promises ``x`` is already exactly 0 under the mask."""
        n_mask = _mask_channels(mask, self.in_channels)
        mask = mask.to(x.dtype)
        out_pad = self._output_padding(x, output_size, self.stride, self.padding, self.kernel_size,
                                       2, self.dilation) if output_size is not None else self.output_padding
        with torch.no_grad():
            ones = self._ones.to(x.dtype).expand(n_mask, 1, *self.kernel_size)
            count = F.conv_transpose2d(mask, ones, stride=self.stride, padding=self.padding,
                                       output_padding=out_pad)
            count = count * (self.in_channels / n_mask)
            new_mask = (count > 0).to(x.dtype)
            ratio = (self.in_channels * self._full_taps) / count.clamp(min=1.0) * new_mask
        x = x if premasked else masked_input(x, mask)
        raw = F.conv_transpose2d(x, self.weight, None, self.stride, self.padding, out_pad)
        out = raw * ratio
        if self.bias is not None:
            out = (out + self.bias.view(1, -1, 1, 1)) * new_mask
        return out, new_mask


class PConvBlock(nn.Module):
    """Partial convolution, optional BatchNorm, activation; holes are re-zeroed after every step.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride : int
    norm : bool
        BatchNorm after the convolution.
    activation : {"relu", "leaky", None}
        ReLU (encoder), LeakyReLU(0.2) (decoder) or none (output layer).
    transpose : bool
        Upsample with :class:`PartialConvTranspose2d` instead.

    The output is exactly 0 wherever the new mask is 0, so a following block
    may be called with ``premasked=True`` (skips one full-size select).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, *,
                 norm: bool = True, activation: str | None = "relu", transpose: bool = False):
        super().__init__()
        padding = (kernel_size - 1) // 2 if stride == 1 else (kernel_size - stride) // 2
        cls = PartialConvTranspose2d if transpose else PartialConv2d
        self.conv = cls(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=not norm)
        self.norm = nn.BatchNorm2d(out_channels) if norm else nn.Identity()
        if activation not in ("relu", "leaky", None):
            raise AstrocleanValueError(f"activation must be 'relu', 'leaky' or None, got {activation!r}")
        self.activation = {"relu": nn.ReLU(), "leaky": nn.LeakyReLU(0.2), None: nn.Identity()}[activation]

    def forward(self, x, mask, output_size=None, *, premasked: bool = False):
        if isinstance(self.conv, PartialConvTranspose2d):
            x, mask = self.conv(x, mask, output_size=output_size, premasked=premasked)
        else:
            x, mask = self.conv(x, mask, premasked=premasked)
        # BatchNorm statistics include the zeroed holes (their values never depend on the input);
        # holes are zeroed again so that nothing but exact zeros ever sits under a mask.
        x = self.activation(self.norm(x))
        return x * mask, mask
