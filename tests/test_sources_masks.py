import tracemalloc

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.sources.masks import (
    DEFAULT_MASK_TABLES, MaskTable, find_neighbours, hole_masks, measure_snr,
)


def gaussian(shape, y0, x0, amp, sigma=1.5):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return amp * np.exp(-((yy - y0) ** 2 + (xx - x0) ** 2) / (2 * sigma ** 2))


def test_snr_of_a_gaussian_with_known_noise(rng):
    noise = 2.0
    snrs = []
    for k in range(20):
        img = 5.0 + gaussian((80, 80), 40.0, 41.0, 100 * noise) + rng.normal(0, noise, (80, 80))
        m = measure_snr(img, [41.0], [40.0])
        snrs.append(m.snr[0])
        assert abs(m.mean[0] - 5.0) < 0.5 and abs(m.std[0] / noise - 1) < 0.15
    # the peak is the maximum of ~13 pixels: biased up by ~1 sigma at most
    assert 99 < np.mean(snrs) < 103


def test_snr_vectorised_over_sources_and_stacks(rng):
    img = rng.normal(0, 1, (200, 200)) + gaussian((200, 200), 50, 60, 30) + gaussian((200, 200), 150, 140, 300)
    m = measure_snr(img, [60.0, 140.0], [50.0, 150.0])
    assert 25 < m.snr[0] < 36 and 270 < m.snr[1] < 330
    stack = np.stack([img[50 - 30:50 + 31, 60 - 30:60 + 31], img[150 - 30:150 + 31, 140 - 30:140 + 31]])
    ms = measure_snr(stack, [30.0, 30.0], [30.0, 30.0])
    np.testing.assert_allclose(ms.snr, m.snr)


def test_snr_nan_handling_and_edges(rng):
    img = rng.normal(0, 1, (60, 60))
    img[:, :30] = np.nan
    m = measure_snr(img, [45.0, 5.0], [30.0, 30.0])
    assert np.isfinite(m.snr[0]) and np.isnan(m.snr[1])
    assert np.isfinite(measure_snr(img, [59.0], [0.0]).snr[0])        # corner: only part of the annulus
    with pytest.raises(AstrocleanValueError):
        measure_snr(img, [1.0], [1.0, 2.0])
    with pytest.raises(AstrocleanValueError):
        measure_snr(img, [1.0], [1.0], annulus=(10, 5))


def test_radius_table_edges():
    t = DEFAULT_MASK_TABLES[("blue", "scan")]
    assert t.snr_edges == (300.0, 140.0, 13.0, 8.0, 4.0) and t.radii == (12, 11, 9, 7, 6, 5)
    snr = [1e5, 300.0, 299.9, 140.0, 139.99, 13.0, 12.9, 8.0, 7.99, 4.0, 3.99, -2.0, np.nan]
    assert t.radius(snr).tolist() == [12, 12, 11, 11, 9, 9, 7, 7, 6, 6, 5, 5, 12]


def test_table_round_trip_and_validation():
    for table in DEFAULT_MASK_TABLES.values():
        assert MaskTable.from_dict(table.to_dict()) == table
    import json

    assert MaskTable.from_dict(json.loads(json.dumps(DEFAULT_MASK_TABLES[("red", "scan")].to_dict()))) == \
        DEFAULT_MASK_TABLES[("red", "scan")]
    with pytest.raises(AstrocleanValueError):
        MaskTable(snr_edges=(1, 2, 3, 4, 5))
    with pytest.raises(AstrocleanValueError):
        MaskTable(radii=(5, 6, 7, 9, 11, 12))
    with pytest.raises(AstrocleanValueError):
        MaskTable.from_dict({"snr_edges": [300, 140, 13, 8, 4], "colour": 1})


def test_derived_tables_scale_with_psf_width():
    blue = DEFAULT_MASK_TABLES[("blue", "scan")]
    green = DEFAULT_MASK_TABLES[("green", "scan")]
    assert all(g >= b for g, b in zip(green.radii, blue.radii)) and green.radii[0] > blue.radii[0]
    assert DEFAULT_MASK_TABLES[("blue", "chopnod")].radii[0] > blue.radii[0]     # 1.0" pixels
    assert set(DEFAULT_MASK_TABLES) == {(b, m) for b in ("blue", "green", "red") for m in ("scan", "chopnod")}


def test_hole_masks_centre_and_neighbours():
    h = hole_masks((96, 96), [[48.0, 48.0], [48.3, 47.6]], [12, 5],
                   neighbours=[np.array([[48.0, 90.0, 7.0], [200.0, 200.0, 5.0]]), None])
    assert h.shape == (2, 96, 96) and h.dtype == bool
    # area of a radius-12 circle of pixel centres: Gauss circle problem N(12) = 441
    yy, xx = np.mgrid[:96, :96]
    own = (yy - 48) ** 2 + (xx - 48) ** 2 <= 144
    assert own.sum() == 441
    nb = (yy - 48) ** 2 + (xx - 90) ** 2 <= 49
    np.testing.assert_array_equal(h[0], own | nb)               # the far neighbour (200, 200) adds nothing
    assert h[1].sum() == ((yy - 48.3) ** 2 + (xx - 47.6) ** 2 <= 25).sum()
    assert not h[1, 48, 90]


def test_find_neighbours_and_masks_are_o_cutout():
    rng = np.random.default_rng(5)
    n, size = 1000, 96
    shape = (20000, 20000)                                        # never allocated
    x = rng.uniform(0, shape[1], n)
    y = rng.uniform(0, shape[0], n)
    x[1], y[1] = x[0] + 20, y[0] - 10                             # a guaranteed neighbour pair
    radii = rng.integers(5, 13, n)
    origin = np.stack([np.floor(y + 0.5) - size // 2, np.floor(x + 0.5) - size // 2], axis=1).astype(int)
    tracemalloc.start()
    nb = find_neighbours(x, y, radii, origin, size=size)
    centres = np.stack([y - origin[:, 0], x - origin[:, 1]], axis=1)
    h = hole_masks((size, size), centres, radii, neighbours=nb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200e6                                           # a 20k x 20k bool map alone is 400 MB
    assert h.shape == (n, size, size)
    assert any(np.allclose(row[:2], [y[1] - origin[0, 0], x[1] - origin[0, 1]]) for row in nb[0])
    # the neighbour's circle is in cutout 0's hole
    ly, lx = int(round(y[1] - origin[0, 0])), int(round(x[1] - origin[0, 1]))
    assert h[0, ly, lx]


def test_inputs_not_mutated(rng):
    img = rng.normal(0, 1, (50, 50))
    img[3, 3] = np.nan
    keep = img.copy()
    measure_snr(img, [25.0], [25.0])
    np.testing.assert_array_equal(img, keep)
