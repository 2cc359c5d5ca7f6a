"""astroclean.batch in-process: units, manifest, resume, failure isolation, bad input (CLI exit codes)."""

import hashlib
import os
import socket
import sqlite3
import time

import numpy as np
import pytest
from astropy.io import fits

from astroclean.cosmicrays.batch import CosmicTask
from astroclean.batch import (Manifest, TaskSpec, check_product, image_units, remove_temporaries,
                              run_batch)
from astroclean.cli import main
from astroclean.errors import AstrocleanError, AstrocleanValueError

SPEC = CosmicTask(model="ground", threshold=0.5)  # real weights: deterministic products


def _frames(folder, n=3, shape=(48, 40)):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    paths = []
    for k in range(n):
        data = (100 + 5 * rng.standard_normal(shape)).astype(np.float32)
        data[20, 5:15] += 300
        paths.append(folder / f"f{k}.fits")
        fits.PrimaryHDU(data).writeto(paths[-1])
    return paths


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.cr.fits")}


def test_units_one_per_image_hdu_and_plane(tmp_path):
    sci = np.zeros((8, 8), "f4")
    path = tmp_path / "mef.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI", ver=1), fits.ImageHDU(sci.astype("i2"), name="DQ"),
                  fits.ImageHDU(np.zeros((2, 8, 8), "f4"), name="CUBE")]).writeto(path)
    units = image_units(path, sha256="x")
    assert [(u.index, u.hdu, u.plane) for u in units] == [(1, "SCI", None), (3, "CUBE", 0), (3, "CUBE", 1)]
    assert {u.n_in_file for u in units} == {3} and units[1].label == "mef.fits[CUBE][p0]"
    assert [u.hdu for u in image_units(path, sha256="x", hdu="CUBE")] == ["CUBE", "CUBE"]
    with pytest.raises(AstrocleanError, match="no HDU 'NOPE'"):
        image_units(path, sha256="x", hdu="NOPE")


def test_run_manifest_then_resume_skips_valid_and_redoes_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = _frames(tmp_path / "in")
    (tmp_path / "in" / "bad.fits").write_bytes(files[0].read_bytes()[:4000])  # truncated: header ok, data cut
    files.append(tmp_path / "in" / "bad.fits")
    out = tmp_path / "out"
    report = run_batch(SPEC, files, outdir=out, progress=False)
    assert (report.n_done, report.n_failed, report.n_skipped) == (3, 1, 0)
    assert "truncated" in report.failures[0]["error"] and report.failures[0]["file"] == "bad.fits"
    reference = _digests(out)
    assert sorted(reference) == ["f0.cr.fits", "f1.cr.fits", "f2.cr.fits"]
    with sqlite3.connect(report.manifest) as db:
        rows = db.execute("SELECT input, sha256, hdu, status, error, seconds FROM tasks ORDER BY input").fetchall()
    assert [r[3] for r in rows] == ["failed", "done", "done", "done"]
    assert rows[1][1] == hashlib.sha256(files[0].read_bytes()).hexdigest() and rows[1][5] > 0
    assert fits.getheader(out / "f0.cr.fits")["ACISHA"] == rows[1][1]
    with Manifest(report.manifest) as book:
        table = book.table("cosmicrays")
    table.write(tmp_path / "manifest.ecsv")
    assert len(table) == 4 and sorted(table["status"]) == ["done", "done", "done", "failed"]

    # a product truncated at its final name (not ours: we rename complete files) and an orphaned temporary
    product = out / "f1.cr.fits"
    product.write_bytes(product.read_bytes()[:3000])
    (out / ".f2.cr.fits.abc123.tmp").write_bytes(b"partial")
    again = run_batch(SPEC, files, outdir=out, resume=True, progress=False)
    assert (again.n_done, again.n_failed, again.n_skipped) == (1, 1, 2)
    assert _digests(out) == reference
    assert not [p for p in out.iterdir() if p.name.startswith(".")]

    # changed parameters: the products are stale, resume redoes them all
    stale = run_batch(CosmicTask(model="ground", threshold=0.6), files[:3], outdir=out, resume=True, progress=False)
    assert stale.n_done == 3 and fits.getheader(out / "f0.cr.fits")["ACTHRESH"] == 0.6


def test_interrupted_driver_resumes_to_identical_products(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = _frames(tmp_path / "in", n=4)
    run_batch(SPEC, files, outdir=tmp_path / "ref", progress=False)

    def crash(row):
        if row["file"] == "f1.fits":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(SPEC, files, outdir=tmp_path / "out", progress=False, on_result=crash)
    assert sorted(_digests(tmp_path / "out")) == ["f0.cr.fits", "f1.cr.fits"]
    again = run_batch(SPEC, files, outdir=tmp_path / "out", resume=True, progress=False)
    assert (again.n_skipped, again.n_done) == (2, 2)
    assert _digests(tmp_path / "out") == _digests(tmp_path / "ref")


class _Flaky(TaskSpec):
    """A task whose second unit raises; loads count how often the state was built."""

    name = "flaky"
    loads = 0

    def outputs(self, unit, outdir):
        return (outdir / f"{os.path.basename(unit.path)}.txt",)

    def load(self):
        type(self).loads += 1
        return "state"

    def process(self, state, unit, outputs, *, overwrite):
        if unit.path.endswith("f1.fits"):
            raise RuntimeError("boom")
        outputs[0].write_text(state)
        return {}


def test_exception_fails_one_unit_and_state_loads_once(tmp_path):
    files = _frames(tmp_path / "in")
    report = run_batch(_Flaky(), files, outdir=tmp_path / "out", progress=False)
    assert [r["status"] for r in report.rows] == ["done", "failed", "done"]
    assert report.failures[0]["error"] == "RuntimeError: boom" and _Flaky.loads == 1


def test_check_product_reasons(tmp_path):
    from astroclean.io import write_fits

    path = write_fits(tmp_path / "p.fits", [("MASK", np.zeros((4, 4), "u1"), None)],
                      provenance={"task": "t", "input_sha256": "a" * 64, "threshold": 0.5})
    prov = {"task": "t", "input_sha256": "a" * 64, "threshold": 0.5}
    assert check_product(path, provenance=prov, extnames=("MASK",)) is None
    assert "lacks extension(s) PROB" in check_product(path, provenance=prov, extnames=("MASK", "PROB"))
    assert "ACISHA" in check_product(path, provenance={**prov, "input_sha256": "b" * 64})
    assert "missing" in check_product(tmp_path / "nope.fits", provenance=prov)
    (tmp_path / "cut.fits").write_bytes(path.read_bytes()[:4000])
    assert "truncated" in check_product(tmp_path / "cut.fits", provenance=prov)
    (tmp_path / "junk.fits").write_bytes(b"x" * 2880)
    assert "unreadable" in check_product(tmp_path / "junk.fits", provenance=prov)
    (tmp_path / ".p.fits.x1.tmp").write_bytes(b"")
    (tmp_path / ".other.fits.x1.tmp").write_bytes(b"")
    assert [p.name for p in remove_temporaries([path])] == [".p.fits.x1.tmp"]
    assert (tmp_path / ".other.fits.x1.tmp").exists()


def test_same_product_name_from_two_folders_fails_the_second(tmp_path):
    a = _frames(tmp_path / "a", n=1)
    b = _frames(tmp_path / "b", n=1)
    report = run_batch(SPEC, a + b, outdir=tmp_path / "out", progress=False)
    assert [r["status"] for r in report.rows] == ["done", "failed"]
    assert "also the product of" in report.failures[0]["error"]


def test_bad_arguments_raise_before_work(tmp_path):
    files = _frames(tmp_path / "in", n=1)
    with pytest.raises(AstrocleanValueError, match="not both"):
        run_batch(SPEC, files, outdir=tmp_path / "o", workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(AstrocleanValueError, match="workers must be"):
        run_batch(SPEC, files, outdir=tmp_path / "o", workers=0)
    with pytest.raises(AstrocleanValueError, match="no input"):
        run_batch(SPEC, [], outdir=tmp_path / "o")
    with pytest.raises(AstrocleanValueError, match="threshold"):
        CosmicTask(threshold=1.5)


# ---- the command line: exit 2 for usage errors, 1 when some inputs failed --------------------------------


def test_cli_empty_glob_and_unwritable_output(tmp_path, capsys):
    files = _frames(tmp_path / "in", n=1)
    assert main(["cosmic", str(tmp_path / "in" / "*.nothing"), "-o", str(tmp_path / "o")]) == 2
    assert "glob matched nothing" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["cosmic", str(files[0]), "-o", str(blocker / "out"), "--model", "unet-bn", "--untrained"]) == 2
    assert "cannot create the output directory" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_cli_read_only_output(tmp_path, capsys):
    files = _frames(tmp_path / "in", n=1)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["cosmic", str(files[0]), "-o", str(ro), "--model", "unet-bn", "--untrained"]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


def test_cli_dead_scheduler_fails_fast_and_starts_nothing(tmp_path, capsys):
    files = _frames(tmp_path / "in", n=1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    rc = main(["cosmic", str(files[0]), "-o", str(tmp_path / "o"), "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert rc == 2 and time.perf_counter() - start < 5
    assert "no Dask scheduler answers" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["cosmic", str(files[0]), "-o", str(tmp_path / "o"), "--scheduler", "nonsense"]) == 2


def test_cli_mixed_valid_and_corrupt(tmp_path, capsys):
    _frames(tmp_path / "in", n=2)
    (tmp_path / "in" / "zz.fits").write_bytes(b"not a fits file" * 200)
    rc = main(["cosmic", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--model", "unet-bn", "--untrained", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 1 and "2 done, 1 failed" in text and "FAILED: cannot read" in text and "zz.fits" in text
    assert sorted(p.name for p in (tmp_path / "o").glob("*.fits")) == ["f0.cr.fits", "f1.cr.fits"]
    assert main(["cosmic", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--model", "unet-bn", "--untrained", "--resume"]) == 1
    assert "0 done, 1 failed, 2 skipped" in capsys.readouterr().out


def test_one_bad_ccd_fails_alone_and_a_truncated_file_fails_whole(tmp_path):
    rng = np.random.default_rng(5)
    ccds = [fits.ImageHDU((100 + 5 * rng.standard_normal((40, 40))).astype("f4"), name="N1"),
            fits.ImageHDU(np.full((40, 40), np.nan, "f4"), name="N2")]
    path = tmp_path / "exposure.fits"
    fits.HDUList([fits.PrimaryHDU(), *ccds]).writeto(path)
    cut = tmp_path / "cut.fits"
    cut.write_bytes(path.read_bytes()[:-3000])  # an incomplete download
    report = run_batch(SPEC, [path, cut], outdir=tmp_path / "out", progress=False)
    assert [(r["file"], r["hdu"], r["status"]) for r in report.rows] == [
        ("exposure.fits", "N1", "done"), ("exposure.fits", "N2", "failed"), ("cut.fits", "-", "failed")]
    assert "no finite pixel" in report.failures[0]["error"] and "truncated" in report.failures[1]["error"]
    assert [p.name for p in (tmp_path / "out").glob("*.fits")] == ["exposure.N1.cr.fits"]
