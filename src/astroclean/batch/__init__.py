"""Batch processing at survey scale: many files, each image an independent, resumable task.

One layer serves every task's command (``astroclean cosmic``, ``astroclean sources``, ...):

* **where it runs**: in this process by default (no server, fast for one file); a local
  Dask ``LocalCluster`` of N single-threaded worker processes (``workers=N``,
  ``--workers N``); or an existing Dask scheduler (``scheduler="tcp://host:8786"``,
  ``--scheduler``), whose workers must see the same file system and have astroclean
  installed. A scheduler that does not answer is a clear error within seconds, before
  anything starts.
* **units**: each image HDU (each cube plane) of each file is one unit
  (:class:`WorkUnit`); a worker reads only that HDU, tiles it, writes its product(s)
  atomically (temporary name, then rename) and returns a small summary. Memory per
  worker does not grow with the number of files.
* **the model is loaded once per worker process**: :meth:`TaskSpec.load` runs on the
  first unit a process gets and is cached there, keyed by the spec.
* **manifest**: an SQLite file (default ``OUTDIR/astroclean-manifest.sqlite``) records
  per unit the input and its sha256, HDU, status, outputs, timings, worker, error.
* **resume**: ``resume=True`` skips units whose products exist, open, hold the expected
  extensions and carry provenance cards equal to this run's (input sha256, model,
  parameters); the rest are redone. A killed worker's unit is rerun by Dask (up to
  ``distributed.scheduler.allowed-failures``, default 3, then reported failed); its
  hidden temporary is removed at the end of the run.
* **failure isolation**: a corrupt file, a missing HDU or an exception fails that unit
  with its reason; the others finish; :class:`BatchReport` lists the failures.

Writing a new task takes a frozen dataclass of its parameters with four methods
(see ``docs/batch.md`` and :class:`~astroclean.cosmicrays.batch.CosmicTask`)::

    @dataclass(frozen=True)
    class MyTask(TaskSpec):
        model: str = "mymodel"
        name = "my-task"                       # recorded as ACTASK
        columns = ("n_found",)                 # summary-table columns from process()

        def outputs(self, unit, outdir):       # driver: where the products go
            return (outdir / product_name(unit, ".my.fits"),)
        def load(self):                        # worker, once per process: the heavy state
            return load_my_model(self.model)
        def process(self, state, unit, outputs, *, overwrite):   # worker, per unit
            image = read_images(unit.path, hdu=unit.index)[unit.plane or 0]
            ...; write_fits(outputs[0], ..., provenance=self.provenance(unit), overwrite=overwrite)
            return {"n_found": n}
        def provenance(self, unit):            # cards checked on resume
            return {"task": self.name, "model": self.model, "input_sha256": unit.sha256}

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astropy.io import fits
>>> from astroclean.batch import run_batch
>>> from astroclean.cosmicrays.batch import CosmicTask
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> for k in range(3):
...     data = np.random.default_rng(k).normal(100, 5, (64, 64)).astype("f4")
...     fits.PrimaryHDU(data).writeto(folder / f"f{k}.fits")
>>> files = sorted(folder.glob("*.fits"))
>>> report = run_batch(CosmicTask(), files, outdir=folder / "out", progress=False)
>>> report.n_done, report.n_failed
(3, 0)
>>> again = run_batch(CosmicTask(), files, outdir=folder / "out", resume=True, progress=False)
>>> again.n_skipped
3

With ``workers=2`` the same call runs on a local two-process Dask cluster.
"""

from astroclean.batch.executors import DaskExecutor, InProcessExecutor, check_scheduler, make_executor
from astroclean.batch.manifest import Manifest
from astroclean.batch.products import check_product, remove_temporaries
from astroclean.batch.runner import MANIFEST_NAME, BatchReport, run_batch
from astroclean.batch.tasks import TaskSpec, WorkUnit, file_sha256, image_units, run_unit

__all__ = ["run_batch", "BatchReport", "TaskSpec", "WorkUnit", "image_units",
           "file_sha256", "run_unit", "Manifest", "MANIFEST_NAME", "check_product", "remove_temporaries",
           "make_executor", "InProcessExecutor", "DaskExecutor", "check_scheduler"]
