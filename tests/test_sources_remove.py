"""remove_compact_sources with an untrained tiny partial-convolution network (mechanics, not accuracy)."""

import numpy as np
import pytest
from astropy.table import Table

from astroclean.errors import AstrocleanValueError
from astroclean.models import create_model
from astroclean.models.card import ModelCard
from astroclean.sources.remove import remove_compact_sources


@pytest.fixture(scope="module")
def tiny_net():
    net = create_model("pconv-unet", pretrained=False, width=4)
    net.card = ModelCard(name="tiny", task="sources", architecture=net.card.architecture,
                         extra={"band": "blue", "mode": "scan"})
    return net


def gaussian_sources(shape, xy, amplitude, rng, noise=1e-3):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = rng.normal(0, noise, shape)
    for x, y in xy:
        image += amplitude * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    return image.astype(np.float32)


def test_only_holes_change_and_nan_stays_nan(tiny_net, rng):
    xy = [(60.0, 50.0), (66.0, 52.0), (3.0, 140.0)]  # an overlapping pair and an edge source
    image = gaussian_sources((160, 200), xy, 0.1, rng)
    image[100:104, 150:160] = np.nan
    before = image.copy()
    result = remove_compact_sources(image, np.array(xy), model=tiny_net, photometry=False)
    np.testing.assert_array_equal(image, before)  # input untouched
    outside = ~result.hole & np.isfinite(image)
    np.testing.assert_array_equal(result.background[outside], image[outside])
    assert np.isnan(result.background[100:104, 150:160]).all()
    for x, y in xy:  # every source, the edge one included, has its centre replaced
        assert result.hole[int(y), int(x)]
    np.testing.assert_allclose(result.sources + result.background, image, rtol=1e-6, atol=1e-7)
    assert (result.sources[~result.hole & np.isfinite(image)] == 0).all()
    assert list(result.table["status"]) == ["ok"] * 3


def test_bad_positions_are_listed_not_fatal(tiny_net, rng):
    image = gaussian_sources((120, 120), [(50.0, 50.0)], 0.05, rng)
    positions = Table({"x": [50.0, np.nan, 50.0, 500.0], "y": [50.0, 10.0, 50.0, 10.0]})
    result = remove_compact_sources(image, positions, model=tiny_net, photometry=False)
    status = list(result.table["status"])
    assert status[0] == "ok" and status[1].startswith("skipped: NaN")
    assert status[2].startswith("skipped: duplicate") and status[3].startswith("skipped: outside")
    assert result.meta["n_sources"] == 1


def test_snr_sets_the_hole_radius(tiny_net, rng):
    image = gaussian_sources((200, 200), [(50.0, 50.0)], 5.0, rng) + gaussian_sources((200, 200), [(150.0, 150.0)],
                                                                                        0.006, rng, noise=0)
    result = remove_compact_sources(image, [(50.0, 50.0), (150.0, 150.0)], model=tiny_net, photometry=False)
    bright, faint = result.table["mask_radius"]
    assert bright == 12 and faint in (5, 6)
    assert result.table["snr"][0] > 300


def test_world_coordinates_need_a_wcs(tiny_net, rng):
    image = gaussian_sources((64, 64), [], 0.0, rng)
    with pytest.raises(AstrocleanValueError, match="WCS"):
        remove_compact_sources(image, Table({"ra": [1.0], "dec": [2.0]}), model=tiny_net)


def test_refuses_a_model_of_another_task():
    with pytest.raises(AstrocleanValueError, match="compact-source"):
        remove_compact_sources(np.zeros((64, 64)), [(10.0, 10.0)], model="ground")
