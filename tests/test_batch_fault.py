"""Fault test on a real Dask LocalCluster: a worker killed mid-run, then --resume, gives exactly the outputs
of an uninterrupted run (file bytes equal: SOURCE_DATE_EPOCH pins the one timestamp card) and no partial file."""

import hashlib
import os
import signal

import numpy as np
import pytest
from astropy.io import fits

distributed = pytest.importorskip("distributed")

from astroclean.batch import file_sha256, image_units, run_batch, run_unit  # noqa: E402
from astroclean.cosmicrays.batch import CosmicTask  # noqa: E402

N_FILES = 200


def _inputs(folder, n=N_FILES):
    folder.mkdir()
    rng = np.random.default_rng(7)
    for k in range(n):
        data = (200 + 5 * rng.standard_normal((64, 64))).astype(np.float32)
        data[rng.integers(5, 59), 5:25] += 400  # one track
        fits.PrimaryHDU(data).writeto(folder / f"frame{k:03d}.fits")
    return sorted(folder.glob("*.fits"))


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.cr.fits")}


@pytest.mark.parametrize("n_files, kill_at", [
    pytest.param(24, 8, id="fast"),
    pytest.param(N_FILES, 60, id="200-files", marks=pytest.mark.slow),
])
def test_killed_worker_then_resume_equals_uninterrupted_run(tmp_path, monkeypatch, n_files, kill_at):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # inherited by the worker processes
    files = _inputs(tmp_path / "in", n=n_files)
    spec = CosmicTask(model="ground", threshold=0.5)

    reference = run_batch(spec, files, outdir=tmp_path / "ref", progress=False, threads=1)
    assert reference.n_done == n_files

    import dask

    # 0 retries: the killed worker's units fail in the first run, so --resume has work to redo
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            victim = sorted(client.run(os.getpid).values())[0]
            state = {"n": 0, "killed": False}

            def kill_midway(row):
                state["n"] += 1
                if state["n"] == kill_at and not state["killed"]:
                    os.kill(victim, signal.SIGKILL)
                    state["killed"] = True

            first = run_batch(spec, files, outdir=tmp_path / "out", scheduler=client, progress=False,
                              on_result=kill_midway)
            assert state["killed"]
            assert first.n_done + first.n_failed == n_files
            assert all("worker died" in r["error"] for r in first.failures), [r["error"] for r in first.failures]
            pids = {r["worker"] for r in first.rows if r["worker"]}
            # the model is loaded once per worker process (the restarted one loads it again), not per task
            assert sum(r["loaded"] for r in first.rows) <= len(pids) <= 3

            second = run_batch(spec, files, outdir=tmp_path / "out", scheduler=client, resume=True, progress=False)
            assert second.n_failed == 0
            assert second.n_skipped == first.n_done and second.n_done == first.n_failed

    out = tmp_path / "out"
    assert _digests(out) == _digests(tmp_path / "ref")
    assert len(_digests(out)) == n_files
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]


def test_cli_workers_starts_a_local_cluster(tmp_path, capsys):
    from astroclean.cli import main

    files = _inputs(tmp_path / "in", n=4)
    (tmp_path / "in" / "broken.fits").write_bytes(files[0].read_bytes()[:5000])
    rc = main(["cosmic", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--workers", "2", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 1 and "4 done, 1 failed" in text and "dask LocalCluster, 2 worker(s)" in text
    assert "broken.fits" in text and len(list((tmp_path / "out").glob("*.cr.fits"))) == 4


def test_a_retried_unit_replaces_what_its_lost_try_wrote_but_never_a_foreign_file(tmp_path):
    """A worker that dies after writing a unit's product but before its result comes back makes Dask run
    the unit again: that try must succeed (the product is this run's own), not fail with "exists"."""
    spec = CosmicTask(model="ground", threshold=0.5)
    path = _inputs(tmp_path / "in", n=1)[0]
    unit = image_units(path, sha256=file_sha256(path))[0]
    outputs = spec.outputs(unit, tmp_path / "out")
    (tmp_path / "out").mkdir()
    assert run_unit(spec, unit, outputs, absent_when_planned=True)["status"] == "done"
    written = outputs[0].read_bytes()

    again = run_unit(spec, unit, outputs, absent_when_planned=True)  # the scheduler's second try
    assert again["status"] == "done" and again["error"] is None
    refused = run_unit(spec, unit, outputs)  # existed at planning, no --overwrite: still refused
    assert refused["status"] == "failed" and "exists" in refused["error"]

    outputs[0].write_bytes(path.read_bytes())  # a file we did not write appears at the product's name
    foreign = run_unit(spec, unit, outputs, absent_when_planned=True)
    assert foreign["status"] == "failed" and outputs[0].read_bytes() == path.read_bytes() != written
