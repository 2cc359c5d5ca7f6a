"""The cosmic-ray task, registered: ``astroclean cosmic``, ``simulate|train|evaluate cosmic``, its benchmark.

>>> from astroclean.tasks import get_task
>>> get_task("cosmic").name
'cosmicrays'
"""

from __future__ import annotations

from astroclean.tasks import Task, register_task


class CosmicRayBenchmark:
    """The cosmic-ray benchmark behind the :class:`astroclean.tasks.Benchmark` protocol.

    ``build_set(recipe="default")`` builds the held-out cases; ``run_method(name, case)`` runs one
    detector (``"astroclean:ground"``, ``"astroscrappy"``, ...) on one case and returns its
    :class:`~astroclean.cosmicrays.evaluate.harness.MethodRun` (score, mask, timing); ``summarise(cases, methods)`` runs every method on every case and pools the
    metrics (:func:`~astroclean.cosmicrays.evaluate.harness.run_benchmark`); ``report`` writes
    the tables and plots (:func:`~astroclean.cosmicrays.evaluate.report.write_report`).
    """

    def build_set(self, recipe: str = "default", **options):
        from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set

        return build_benchmark_set(recipe, **options)

    def run_method(self, name: str, case):
        from astroclean.cosmicrays.evaluate.harness import make_detector, run_method

        return run_method(make_detector(name), name, case)

    def summarise(self, rows, methods=None, *, rng=0, **options):
        from astroclean.cosmicrays.evaluate.harness import run_benchmark

        return run_benchmark(rows, methods, rng=rng, **options)

    def report(self, summary, outdir, *, overwrite: bool = False, **options) -> dict:
        from astroclean.cosmicrays.evaluate.report import write_report

        return write_report(summary, outdir, overwrite=overwrite, **options)


@register_task
class CosmicRaysTask(Task):
    """Cosmic rays in single exposures: detection, cleaning, benchmark against the peers."""

    name = "cosmicrays"
    command = "cosmic"
    help = "detect and clean cosmic rays in single exposures"
    cli = "astroclean.cosmicrays.cli"
    evaluate_cli = "astroclean.cosmicrays.evaluate.cli"
    products = (".cr.fits",)

    def benchmark(self):
        return CosmicRayBenchmark()
