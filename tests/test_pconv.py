import numpy as np
import pytest
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.models import create_model
from astroclean.models.pconv import PartialConv2d, PartialConvTranspose2d
from astroclean.models.pconv_unet import PConvUNet


def _hole(shape, centre, radius):
    yy, xx = np.mgrid[:shape[-2], :shape[-1]]
    return torch.from_numpy(((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2).astype("f4"))


def _valid(n, size=32, radius=5):
    valid = torch.ones(n, 1, size, size)
    valid[:, 0] -= _hole((size, size), (size // 2, size // 2), radius)
    return valid


def _scramble(x, valid, value):
    y = x.clone()
    hole = valid.expand_as(x) == 0
    y[hole] = value if value is not None else torch.randn(int(hole.sum())) * 1e4
    return y


@pytest.mark.parametrize("value", [1e6, -3e5, None, float("nan"), float("inf")])
def test_partial_conv_ignores_hole_pixels(value):
    torch.manual_seed(0)
    conv = PartialConv2d(3, 5, 3, padding=1)
    x, valid = torch.randn(2, 3, 32, 32), _valid(2)
    ref, ref_mask = conv(x, valid)
    out, mask = conv(_scramble(x, valid, value), valid)
    assert torch.equal(out, ref) and torch.equal(mask, ref_mask)
    assert torch.isfinite(out).all()


def test_partial_conv_renormalises_by_valid_fraction():
    conv = PartialConv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x, valid = torch.full((1, 1, 8, 8), 2.0), torch.ones(1, 1, 8, 8)
    valid[0, 0, 3, 3] = 0
    out, _ = conv(x, valid)
    # a constant stays constant everywhere: sum(W * X * M) * 9 / sum(M) = 2 * 9, borders included
    torch.testing.assert_close(out, torch.full_like(out, 18.0))
    # without a hole, the interior equals an ordinary convolution
    plain = torch.nn.functional.conv2d(x, conv.weight, padding=1)
    out, _ = conv(x, torch.ones_like(valid))
    torch.testing.assert_close(out[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])


def test_mask_update_fills_a_small_hole_after_enough_layers():
    from scipy.ndimage import binary_erosion

    radius = 4
    valid = _valid(1, 24, radius)
    hole = valid[0, 0].numpy() == 0
    x = torch.randn(1, 1, 24, 24)
    n_holes = []
    for layer in range(1, radius + 1):
        x, valid = PartialConv2d(1, 1, 3, padding=1)(x, valid)
        # the hole shrinks by one pixel (3x3 erosion) per layer
        expected = binary_erosion(hole, np.ones((3, 3), bool), iterations=layer)
        assert np.array_equal(valid[0, 0].numpy() == 0, expected)
        n_holes.append(int((valid == 0).sum()))
    assert n_holes[0] > 0 and n_holes[-1] == 0        # smaller than the receptive field: filled
    # hole pixels of the output are exactly zero
    out, m = PartialConv2d(1, 2, 3, padding=1)(torch.randn(1, 1, 24, 24), _valid(1, 24, radius))
    assert (out[m.expand_as(out) == 0] == 0).all() and int((m == 0).sum()) > 0


def test_transposed_partial_conv_mask_semantics():
    torch.manual_seed(1)
    up = PartialConvTranspose2d(2, 3, 4, stride=2, padding=1)
    x = torch.randn(1, 2, 6, 6)
    valid = torch.ones(1, 1, 6, 6)
    valid[..., 2:4, 2:4] = 0              # 2x2 hole -> the 4x4 block it maps to has no valid tap at its centre
    out, mask = up(x, valid, output_size=(12, 12))
    assert out.shape == (1, 3, 12, 12) and mask.shape == (1, 1, 12, 12)
    expected = torch.ones(12, 12)
    expected[5:7, 5:7] = 0                # only outputs fed exclusively by hole inputs stay holes
    torch.testing.assert_close(mask[0, 0], expected)
    assert (out[mask.expand_as(out) == 0] == 0).all()
    scrambled, _ = up(_scramble(x, valid, 1e6), valid, output_size=(12, 12))
    assert torch.equal(scrambled, out)
    # fully valid: the interior equals an ordinary transposed convolution
    full, full_mask = up(x, torch.ones_like(valid), output_size=(12, 12))
    plain = torch.nn.functional.conv_transpose2d(x, up.weight, up.bias, stride=2, padding=1)
    torch.testing.assert_close(full[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])
    assert bool(full_mask.all())
    # odd skip shapes are reached with output_size
    assert up(torch.randn(1, 2, 1, 1), torch.ones(1, 1, 1, 1), output_size=(3, 3))[0].shape[-2:] == (3, 3)


@pytest.mark.parametrize("train_steps", [0, 3])
def test_whole_network_ignores_hole_pixels_in_eval_mode(train_steps):
    torch.manual_seed(2)
    net = PConvUNet(depth=6, width=4)
    x, valid = torch.randn(3, 1, 96, 96), torch.ones(3, 1, 96, 96)
    valid[:, 0] -= _hole((96, 96), (48, 48), 12)
    valid[1, 0, 10:20, 70:90] = 0          # a neighbour's hole
    if train_steps:                         # non-trivial BatchNorm running statistics
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        for _ in range(train_steps):
            loss = net(torch.randn(3, 1, 96, 96), valid).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        ref = net(x, valid)
        for value in (1e6, None, float("nan")):
            assert torch.equal(net(_scramble(x, valid, value), valid), ref)
    assert torch.isfinite(ref).all()


def test_network_shapes_and_bottleneck():
    net = PConvUNet(depth=6, width=4).eval()
    assert net.bottleneck_shape((96, 96)) == (1, 1)
    seen = []
    net.enc[-1].register_forward_hook(lambda mod, inp, out: seen.append(out[0].shape))
    with torch.no_grad():
        out = net(torch.randn(2, 1, 96, 96), torch.ones(2, 1, 96, 96))
    assert out.shape == (2, 1, 96, 96) and seen[0][-2:] == (1, 1)
    assert net(torch.zeros(1, 1, 97, 95)).shape == (1, 1, 97, 95)   # odd sizes, default mask
    with pytest.raises(AstrocleanValueError, match="too small"):
        net(torch.zeros(1, 1, 30, 30))
    with pytest.raises(AstrocleanValueError, match="valid must have shape"):
        net(torch.zeros(1, 1, 96, 96), torch.ones(1, 1, 90, 96))


def test_registry_builds_the_pconv_unet():
    net = create_model("pconv-unet", pretrained=False, depth=2, width=4)
    assert isinstance(net, PConvUNet) and net.depth == 2 and not net.training
    assert net(torch.zeros(2, 1, 21, 34), torch.ones(2, 1, 21, 34)).shape == (2, 1, 21, 34)
