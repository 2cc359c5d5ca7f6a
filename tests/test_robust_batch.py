"""Issue 14, batch side: never lose a file, never report a wrong result as ok (items 1, 2, 4, 9, 10, 12)."""

import os
import sqlite3
import warnings

import numpy as np
import pytest
from astropy.io import fits

from astroclean.batch import check_product, run_batch
from astroclean.cosmicrays.batch import CosmicTask
from astroclean.batch.executors import available_cores, make_executor
from astroclean.batch.lock import OutputLock
from astroclean.batch.manifest import Manifest
from astroclean.batch.products import foreign_file, product_task
from astroclean.cli import main
from astroclean.errors import AstrocleanFileError

SPEC = CosmicTask(model="ground", threshold=0.5)


def _frame(path, seed=0, shape=(40, 36)):
    data = (100 + 5 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)
    data[20, 5:15] += 300
    fits.PrimaryHDU(data).writeto(path)
    return path


# 1. a file we did not write is never touched -------------------------------------------------------------


def test_resume_never_replaces_a_file_we_did_not_write(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    _frame(d / "img.fits")
    other = _frame(d / "img.cr.fits", seed=9)  # a user's file that happens to have our product's name
    before = other.read_bytes()
    for flags in (["--resume"], ["--overwrite"], ["--resume", "--overwrite"]):
        rc = main(["cosmic", str(d / "img.fits"), "-o", str(d), "--no-progress", *flags])
        text = capsys.readouterr().out
        assert rc == 1 and "not written by astroclean" in text and "ok ->" not in text
        assert other.read_bytes() == before
    assert foreign_file(other) and product_task(other) is None


def test_resume_replaces_our_stale_product(tmp_path):
    a = _frame(tmp_path / "a.fits")
    run_batch(SPEC, [a], outdir=tmp_path / "o", progress=False)
    product = tmp_path / "o" / "a.cr.fits"
    assert product_task(product) == "cosmicrays" and foreign_file(product) is None
    again = run_batch(CosmicTask(model="ground", threshold=0.7), [a], outdir=tmp_path / "o", resume=True,
                      progress=False)
    assert again.n_done == 1 and fits.getheader(product)["ACTHRESH"] == 0.7


# 2. products are never inputs ------------------------------------------------------------------------------


def test_output_folder_equal_to_input_folder_never_ingests_products(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    _frame(d / "img.fits")
    assert main(["cosmic", str(d), "-o", str(d), "--no-progress"]) == 0
    product = d / "img.cr.fits"
    first = product.read_bytes()
    capsys.readouterr()
    assert main(["cosmic", str(d), "-o", str(d), "--no-progress", "--overwrite"]) == 0
    captured = capsys.readouterr()
    assert "1 done, 0 failed" in captured.out and "img.cr.cr.fits" not in captured.out
    assert "products are never inputs" in captured.err
    assert not (d / "img.cr.cr.fits").exists() and sorted(p.name for p in d.glob("*.fits")) == [
        "img.cr.fits", "img.fits"]
    assert fits.getheader(product)["ACTASK"] == "cosmicrays" and len(first) == len(product.read_bytes())


def test_a_product_renamed_or_named_explicitly_is_skipped_by_its_card(tmp_path):
    a = _frame(tmp_path / "a.fits")
    run_batch(SPEC, [a], outdir=tmp_path / "o", progress=False)
    renamed = tmp_path / "renamed.fits"
    renamed.write_bytes((tmp_path / "o" / "a.cr.fits").read_bytes())
    report = run_batch(SPEC, [a, renamed], outdir=tmp_path / "o2", progress=False)
    assert [r["status"] for r in report.rows] == ["done", "skipped"]
    assert "astroclean product" in report.rows[1]["error"] and not (tmp_path / "o2" / "renamed.cr.fits").exists()


def test_a_simulation_is_an_input_not_a_product(tmp_path):
    from astropy.io import fits

    from astroclean.io import write_fits

    data = np.random.default_rng(3).normal(100, 5, (64, 64)).astype(np.float32)
    mock = write_fits(tmp_path / "mock.fits", [("IMAGE", data, None)], provenance={"task": "simulate sources"})
    assert fits.getheader(mock)["ACTASK"] == "simulate sources"
    report = run_batch(SPEC, [mock], outdir=tmp_path / "o", progress=False)
    assert [r["status"] for r in report.rows] == ["done"]


# 4. --resume verifies what it skips ----------------------------------------------------------------------


def _flip(path, offset_from_end):
    raw = bytearray(path.read_bytes())
    raw[-offset_from_end] ^= 0x40
    path.write_bytes(bytes(raw))


def test_resume_redoes_a_product_with_corrupt_pixels_or_extension_header(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = [_frame(tmp_path / f"f{k}.fits", seed=k) for k in range(3)]
    out = tmp_path / "out"
    run_batch(SPEC, files, outdir=out, progress=False)
    reference = {p.name: p.read_bytes() for p in out.glob("*.cr.fits")}
    _flip(out / "f0.cr.fits", 100)  # pixels of the last extension (CRPROB)
    with fits.open(out / "f1.cr.fits") as hdul:
        start = hdul.fileinfo(2)["hdrLoc"]
    raw = bytearray((out / "f1.cr.fits").read_bytes())
    at = raw.index(b"ACTHRESH", start)
    raw[at + 30] = ord("7")  # a header card of an extension, still parseable
    (out / "f1.cr.fits").write_bytes(bytes(raw))
    for name in ("f0", "f1"):
        assert "corrupt" in (SPEC.validate(_unit(files[int(name[1])]), [out / f"{name}.cr.fits"]) or "")
    again = run_batch(SPEC, files, outdir=out, resume=True, progress=False)
    assert (again.n_done, again.n_skipped) == (2, 1)
    assert {p.name: p.read_bytes() for p in out.glob("*.cr.fits")} == reference


def _unit(path):
    from astroclean.batch import file_sha256

    return SPEC.units(path, sha256=file_sha256(path))[0]


def test_products_carry_checksums_and_a_product_without_them_is_not_trusted(tmp_path):
    from astroclean.io import write_fits

    path = write_fits(tmp_path / "p.fits", [("MASK", np.zeros((4, 4), "u1"), None)], provenance={"task": "t"})
    with fits.open(path) as hdul:
        assert all("CHECKSUM" in h.header and "DATASUM" in h.header for h in hdul)
    assert check_product(path, provenance={"task": "t"}) is None
    with fits.open(path) as hdul:
        for h in hdul:
            del h.header["CHECKSUM"]
        hdul.writeto(tmp_path / "q.fits")
    assert "cannot be verified" in check_product(tmp_path / "q.fits", provenance={"task": "t"})


# 9. --workers capped at the cores -------------------------------------------------------------------------


def test_workers_beyond_the_cores_are_capped_with_a_warning(monkeypatch):
    created = {}

    class Fake:
        description = "fake"

        def __init__(self, *, workers=None, scheduler=None, timeout=None):
            created["workers"] = workers

    monkeypatch.setattr("astroclean.batch.executors.DaskExecutor", Fake)
    with pytest.warns(UserWarning, match="more than the .* CPU core"):
        make_executor(workers=1000)
    assert created["workers"] == available_cores()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_executor(workers=1)
    assert created["workers"] == 1


# 10. non-UTF-8 and non-ASCII names, a full disk during the manifest commit ----------------------------------


def test_non_ascii_and_non_utf8_names_are_processed_and_recorded(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    accented = _frame(d / "café_Ω.fits")
    raw_name = os.fsencode(str(d)) + b"/raw\xff\xfe.fits"
    _frame(os.fsdecode(raw_name))
    out = tmp_path / "out"
    rc = main(["cosmic", str(d), "-o", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "2 done, 0 failed" in text and "raw\\xff\\xfe.fits" in text
    header = fits.getheader(out / "café_Ω.cr.fits")
    assert header["ACISHA"] and "\\xc3\\xa9" in "".join(str(v) for v in header.values())
    with sqlite3.connect(out / "astroclean-manifest.sqlite") as db:
        statuses = [r[0] for r in db.execute("SELECT status FROM tasks")]
    assert statuses == ["done", "done"]
    assert main(["cosmic", str(d), "-o", str(out), "--no-progress", "--resume"]) == 0
    assert "2 skipped" in capsys.readouterr().out
    assert accented.exists()


def test_a_full_disk_at_the_manifest_commit_fails_that_unit_not_the_batch(tmp_path, monkeypatch):
    files = [_frame(tmp_path / f"f{k}.fits", seed=k) for k in range(3)]
    real = Manifest.record
    calls = {"n": 0}

    def full(self, task, **kw):
        if kw.get("status") == "done" and kw["input"].endswith("f1.fits"):
            raise sqlite3.OperationalError("database or disk is full")
        calls["n"] += 1
        return real.__wrapped__(self, task, **kw)

    monkeypatch.setattr(Manifest, "record", __import__("astroclean.batch.manifest", fromlist=["_guarded"])._guarded(full))
    report = run_batch(SPEC, files, outdir=tmp_path / "out", progress=False)
    assert [r["status"] for r in report.rows] == ["done", "failed", "done"]
    assert "disk is full" in report.failures[0]["error"] and "free some space" in report.failures[0]["error"]


# 12. concurrent runs, Ctrl-C ---------------------------------------------------------------------------------


def test_a_second_run_into_the_same_folder_is_refused_clearly(tmp_path, capsys):
    a = _frame(tmp_path / "a.fits")
    out = tmp_path / "out"
    out.mkdir()
    holder = OutputLock(out, task="cosmicrays")
    try:
        with pytest.raises(AstrocleanFileError, match="another astroclean run is writing into"):
            run_batch(SPEC, [a], outdir=out, progress=False)
        assert main(["cosmic", str(a), "-o", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "another astroclean run" in err and f"pid {os.getpid()}" in err
        assert not (out / "a.cr.fits").exists()
    finally:
        holder.release()
    assert run_batch(SPEC, [a], outdir=out, progress=False).n_done == 1  # released: the next run goes ahead
    assert not (out / ".astroclean.lock").exists()


def test_ctrl_c_says_what_was_kept_and_exits_130(tmp_path, capsys, monkeypatch):
    files = [_frame(tmp_path / f"f{k}.fits", seed=k) for k in range(3)]
    from astroclean.batch import tasks

    real = tasks.run_unit

    def interrupt(spec, unit, outputs, **kw):
        if unit.path.endswith("f1.fits"):
            raise KeyboardInterrupt
        return real(spec, unit, outputs, **kw)

    monkeypatch.setattr("astroclean.batch.executors.run_unit", interrupt)
    rc = main(["cosmic", *map(str, files), "-o", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 130 and "interrupted after 1 of 3" in err and "--resume" in err and "Traceback" not in err
    assert OutputLock(tmp_path / "out", task="x").release() is None  # the lock was released


def test_a_product_with_a_long_input_header_is_recognised_as_ours(tmp_path):
    from astroclean.io import write_fits

    primary = fits.Header()
    for k in range(400):  # DECam primary headers run to hundreds of cards: ACTASK comes after them
        primary[f"K{k:05d}"] = k
    path = write_fits(tmp_path / "p.cr.fits", [("M", np.zeros((2, 2), "u1"), None)], primary_header=primary,
                      provenance={"task": "cosmicrays"})
    assert product_task(path) == "cosmicrays" and foreign_file(path) is None


def test_an_ecsv_product_is_recognised_by_its_meta(tmp_path):
    from astropy.table import Table

    Table({"a": [1]}, meta={"astroclean_task": "sources", "astroclean_input": "x y.fits"}).write(tmp_path / "p.ecsv")
    Table({"a": [1]}).write(tmp_path / "q.ecsv")
    assert product_task(tmp_path / "p.ecsv") == "sources" and product_task(tmp_path / "q.ecsv") is None
    assert foreign_file(tmp_path / "q.ecsv")


@pytest.mark.slow
def test_ctrl_c_with_real_workers_prints_no_worker_traceback(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group: driver and Dask workers alike."""
    import signal
    import subprocess
    import sys
    import time

    for k in range(6):
        _frame(tmp_path / f"f{k}.fits", seed=k, shape=(1200, 1200))
    code = "import sys; from astroclean.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "cosmic", str(tmp_path), "-o", str(tmp_path / "out"),
                             "--workers", "2", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    time.sleep(20)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and "--resume" in err
