"""Filament colours (issue 12, parts 2-4): both methods, flags, criterion, writers, mocks, inversion."""

import argparse

import numpy as np
import pytest
from astropy import units as u
from astropy.table import QTable

from astroclean.cirrus.catalog import extract_filaments
from astroclean.cirrus.colours import criterion, gaussian_colour, linear_colour, measure_colours, write_catalogue
from astroclean.cirrus.inversion import fit_colour_range
from astroclean.cirrus.simulate.squares import gaussian_background, inject_squares
from astroclean.image import ImageStack
from astroclean.errors import AstrocleanValueError

KW = dict(bands=("g", "r", "i"), zeropoints=(22.5, 22.5, 22.5), pixel_scale=1.0)


def _filament(rng, *, colours=(0.6, 0.1), level=0.05, noise=0.002, structure=0.3, size=200, pad=50):
    shape = (size + 2 * pad, size + 2 * pad)
    data = noise * rng.standard_normal((3,) + shape)
    cirrus = np.zeros(shape, bool)
    cirrus[pad:pad + size, pad:pad + size] = True
    amp = level * (1 + structure * rng.standard_normal((size, size)))
    offs = (0.0, -colours[0], -colours[0] - colours[1])
    for b, off in enumerate(offs):
        data[b, pad:pad + size, pad:pad + size] += amp * 10 ** (-0.4 * off)
    return data, cirrus


def test_gaussian_colour_recovers_known_colour(rng):
    c = 0.6 + 0.15 * rng.standard_normal(3000)
    col, err, width, why = gaussian_colour(c)
    assert why == "" and abs(col - 0.6) < 0.02 and 0 < err < 0.02 and abs(width - 0.15) < 0.03
    col2, err2, _, why2 = gaussian_colour(np.r_[c, 5 + rng.standard_normal(300)], profile="gauss+lorentz")
    assert why2 == "" and abs(col2 - 0.6) < 0.03


def test_too_small_filament_is_flagged_not_nan_silently(rng):
    data, cirrus = _filament(rng, size=6, pad=20)
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, **KW)
    t = measure_colours(fil, method="both")
    assert np.isnan(t["g_r_gaussian"][0].value)
    assert t["g_r_gaussian_flag"][0].startswith("too_few_pixels(n=9<10)")
    assert t["r_i_linear_flag"][0].startswith("too_few_pixels")
    assert not t["criterion_gaussian"][0]


def test_measure_colours_table_and_both_methods(rng):
    data, cirrus = _filament(rng)
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, **KW)
    t = measure_colours(fil, method="both", rng=0)
    for m in ("gaussian", "linear"):
        assert t[f"g_r_{m}"].unit == u.mag and t[f"g_r_{m}_err"].unit == u.mag
        assert abs(t[f"g_r_{m}"][0].value - 0.6) < 0.03 and abs(t[f"r_i_{m}"][0].value - 0.1) < 0.03
        assert t[f"g_r_{m}_flag"][0] == "ok"
        assert t[f"g_r_{m}_err"][0].value > 0
    # from a segmentation and a stack directly
    t2 = measure_colours(cirrus, data, method="gaussian", bin_arcsec=2.0, **KW)
    assert t2["g_r_gaussian"][0] == t["g_r_gaussian"][0]
    with pytest.raises(AstrocleanValueError, match="method"):
        measure_colours(fil, method="median")
    with pytest.raises(AstrocleanValueError, match="grid"):
        measure_colours(fil, np.ones((3, 10, 10)))


def test_linear_is_biased_by_noise_gaussian_is_not(rng):
    """Low dynamic range and S/N ~ 2 per pixel: OLS is pulled by the noise, the Gaussian fit is not."""
    n = 4000
    true = 1.0 + 0.2 * rng.standard_normal(n)  # band b
    f_b = true + 0.5 * rng.standard_normal(n)
    f_a = true * 10 ** (-0.4 * 0.5) + 0.5 * rng.standard_normal(n)  # colour a-b = 0.5
    col_ols, _, _ = linear_colour(f_a, f_b, regression="ols", n_boot=0)
    col_bis, _, _ = linear_colour(f_a, f_b, regression="bisector", n_boot=0)
    col_dem, _, _ = linear_colour(f_a, f_b, regression="deming", noise_ratio=1.0, n_boot=20, rng=0)
    pos = (f_a > 0) & (f_b > 0)
    col_g, _, _, _ = gaussian_colour(-2.5 * np.log10(f_a[pos] / f_b[pos]))
    assert abs(col_ols - 0.5) > 0.5  # strongly biased
    assert abs(col_g - 0.5) < abs(col_bis - 0.5) and abs(col_g - 0.5) < abs(col_ols - 0.5)
    assert abs(col_dem - 0.5) < abs(col_ols - 0.5)
    c, e, why = linear_colour(-f_b, f_b, n_boot=0)
    assert np.isnan(c) and why.startswith("nonpositive_slope")


def test_criterion():
    gr = np.array([0.6, 0.6, np.nan, 1.0])
    ri = np.array([0.1, 0.3, 0.0, 0.36])
    assert criterion(gr, ri).tolist() == [True, False, False, True]  # 0.43 * 1.0 - 0.06 = 0.37 > 0.36
    assert criterion(1.0, 0.36) == (0.36 < 0.37)


def test_writers_round_trip(tmp_path, rng):
    data, cirrus = _filament(rng, size=60, pad=20)
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, **KW)
    t = measure_colours(fil, method="both", rng=0)
    for suffix in (".ecsv", ".fits", ".parquet"):
        if suffix == ".parquet":
            pytest.importorskip("pyarrow")
        path = write_catalogue(t, tmp_path / f"cat{suffix}")
        back = QTable.read(path)
        assert back["g_r_gaussian"].unit == u.mag, suffix
        assert back["area"].unit == u.arcsec**2, suffix
        np.testing.assert_allclose(back["g_r_gaussian"].value, t["g_r_gaussian"].value)
        assert str(back["g_r_gaussian_flag"][0]).strip() == str(t["g_r_gaussian_flag"][0])
    with pytest.raises(OSError, match="exists"):
        write_catalogue(t, tmp_path / "cat.ecsv")
    with pytest.raises(AstrocleanValueError, match="format"):
        write_catalogue(t, tmp_path / "cat.txt")


def test_inject_squares_truth_recovered_without_sky_noise():
    bg = ImageStack(data=np.zeros((3, 300, 300), np.float32), mask=np.zeros((3, 300, 300), bool), bands=("g", "r", "i"),
                 zeropoints=(22.5,) * 3, pixel_scale=0.4)
    mock, cirrus, truth = inject_squares(bg, "S1", n_squares=3, rng=2, sb_range=(24, 25), area_range=(2e3, 5e3))
    assert len(truth) >= 1 and truth["g_r"].unit == u.mag and cirrus.sum() == (truth["side"] ** 2).sum()
    assert not bg.data.any()  # background untouched
    t = measure_colours(extract_filaments(cirrus, mock, sky="none"), method="gaussian")
    assert len(t) == len(truth)
    for row in truth:
        k = int(np.argmin(np.hypot(t["x"].value - row["x0"] - row["side"] / 2, t["y"].value - row["y0"] - row["side"] / 2)))
        assert abs(t["g_r_gaussian"][k].value - row["g_r"].value) < 0.02
        assert abs(t["sb_g"][k].value - row["sb_g"].value) < 0.1


def test_structure_scale_keeps_binned_dynamic_range():
    bg = ImageStack(data=np.zeros((3, 300, 300), np.float32), mask=np.zeros((3, 300, 300), bool), bands=("g", "r", "i"),
                 zeropoints=(22.5,) * 3, pixel_scale=0.4)
    spreads = []
    for scale in (0.0, 20.0):
        mock, cirrus, truth = inject_squares(bg, "S1", n_squares=1, rng=3, sb_range=(24, 24.01), area_range=(9e3, 1e4),
                                             structure=0.6, structure_scale=scale)
        fil = extract_filaments(cirrus, mock, sky="none")
        vals = fil.pixels(1)[0]
        spreads.append(np.std(vals) / np.mean(vals))
    assert spreads[1] > 3 * spreads[0]


def test_gaussian_background_depth():
    bg = gaussian_background((500, 500), rng=0)
    n = int(round(10 / bg.pixel_scale))
    box = bg.data[1, : 500 // n * n, : 500 // n * n].reshape(500 // n, n, 500 // n, n).mean(axis=(1, 3))
    depth = 22.5 - 2.5 * np.log10(3 * box.std() / bg.pixel_scale**2)
    assert abs(depth - 28.7) < 0.15


def test_inversion_tiny_case():
    rng = np.random.default_rng(5)
    true = np.column_stack([rng.uniform(0.0, 1.0, 6000), rng.uniform(-0.2, 0.6, 6000)])
    meas = true + 0.02 * rng.standard_normal(true.shape)
    obs = np.column_stack([rng.uniform(0.3, 0.5, 200), rng.uniform(0.1, 0.3, 200)]) + 0.02 * rng.standard_normal((200, 2))
    fit = fit_colour_range(obs, true, meas, n_boot=10, rng=0)
    assert fit.g_r == pytest.approx((0.3, 0.5), abs=0.051) and fit.r_i == pytest.approx((0.1, 0.3), abs=0.051)
    assert np.all(np.isfinite(fit.g_r_err)) and fit.boot.shape == (10, 4)
    kde = fit_colour_range(obs, true, meas, method="kde", n_boot=0)
    assert kde.method == "kde" and kde.g_r == pytest.approx((0.3, 0.5), abs=0.051)
    with pytest.raises(AstrocleanValueError, match="method"):
        fit_colour_range(obs, true, meas, method="mle", n_boot=0)
    with pytest.raises(AstrocleanValueError, match="at least 5"):
        fit_colour_range(obs[:3], true, meas)
    with pytest.raises(AstrocleanValueError, match=r"\(n, 2\)"):
        fit_colour_range(obs[:, 0], true, meas)


def test_mock_study_and_cli_parser(tmp_path):
    from astroclean.cirrus.evaluate import colours as ev
    from astroclean.cirrus.simulate import squares

    rows = ev.run_study("S2", n_squares=3, per_frame=3, rng=0, area_range=(1e3, 1e4), sb_range=(25, 26))
    assert len(rows) == 3 and rows["g_r_true"].unit == u.mag
    summary = ev.summarise(rows)
    assert {"overall", "by_sb", "by_area", "targets"} <= set(summary)
    md = ev.report(rows, summary, tmp_path)
    assert "Targets" in md.read_text() and (tmp_path / "error_distribution.png").exists()
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    ev.add_parser(sub)
    squares.add_parser(sub)
    args = parser.parse_args(["cirrus-colours", "--simulation", "S2", "-o", str(tmp_path)])
    assert args.func is ev.run_cli and args.n_squares == 600
    args = parser.parse_args(["cirrus-squares", "--simulation", "S4", "-o", str(tmp_path / "m.fits")])
    assert args.func is squares.run_simulate
    with pytest.raises(AstrocleanValueError, match="unknown mock study"):
        squares.get_scenario("S9")


def test_write_filament_products(tmp_path, rng):
    from astroclean.cirrus.colours import write_filament_products

    data, cirrus = _filament(rng, size=60, pad=20)
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, **KW)
    t = measure_colours(fil, method="both", rng=0)
    paths = write_filament_products(fil, t, tmp_path, image=data[1])
    names = {p.name for p in paths}
    assert {"cirrus_filaments.ecsv", "cirrus_segments.fits", "cirrus_colour_colour.png", "cirrus_overlay.png"} <= names
