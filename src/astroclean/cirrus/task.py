"""The cirrus task, registered: ``astroclean cirrus``, ``simulate|train|evaluate cirrus``, its benchmark.

>>> from astroclean.tasks import get_task     # doctest: +SKIP
>>> get_task("cirrus").name                  # doctest: +SKIP
'cirrus'
"""

from __future__ import annotations

from astroclean.tasks import Task, register_task


class CirrusBenchmark:
    """The cirrus benchmark behind the :class:`astroclean.tasks.Benchmark` protocol.

    ``build_set(n_per_frame=16, rng=1000)``: held-out mocks (seen and unseen generator settings) on the
    benchmark regions; ``run_method(name, case)``: counts of one method (``"cirrus-gri"``, ``"isophote-29"``,
    ``"isophote-depth"``, ``"ridge"``) on one case; ``summarise(rows)``; ``report(summary, outdir)``.
    """

    def build_set(self, **options):
        from astroclean.cirrus.evaluate.benchmark import build_set

        return build_set(**options)

    def run_method(self, name: str, case):
        from astroclean.cirrus.evaluate.benchmark import run_benchmark

        models = {name: (name, "cirrus-mask-gri")} if name.startswith("cirrus-") else {}
        rows, _, _ = run_benchmark([case], models=models or {"cirrus-gri": ("cirrus-gri", "cirrus-mask-gri")})
        return rows

    def summarise(self, rows, mask_rows=()):
        from astroclean.cirrus.evaluate.benchmark import summarise

        return summarise(rows, list(mask_rows))

    def report(self, summary, outdir, *, overwrite: bool = False, **options) -> dict:
        from astroclean.cirrus.evaluate.benchmark import report

        return {"markdown": report(summary, options.get("timing", []), outdir, **{k: v for k, v in options.items()
                                                                                   if k != "timing"})}


@register_task
class CirrusTask(Task):
    """Galactic cirrus in deep multi-band images: source masks, bright-star light, cirrus segmentation."""

    name = "cirrus"
    command = "cirrus"
    help = "mask sources and bright stars, segment Galactic cirrus (g, r, i)"
    cli = "astroclean.cirrus.cli"
    evaluate_cli = "astroclean.cirrus.cli"
    products = ("_cirrus.fits", "_cirrus.png", "_filaments.ecsv", "_segments.fits")

    def benchmark(self):
        return CirrusBenchmark()
