"""The compact-source task, registered: ``astroclean sources``, ``simulate|train|evaluate sources``, its benchmark.

>>> from astroclean.tasks import get_task
>>> get_task("sources").command
'sources'
"""

from __future__ import annotations

from astroclean.tasks import Task, register_task


class SourcesBenchmark:
    """The compact-source removal benchmark behind the :class:`astroclean.tasks.Benchmark` protocol.

    ``build_set(n_maps=48, band="blue")`` makes the held-out maps with their truth;
    ``run_method(model, case)`` removes the injected sources of one map with that model;
    ``summarise(cases, model=...)`` runs removal and photometry on every map and compares with the
    truth (:func:`~astroclean.sources.evaluate.benchmark.run_sources_benchmark`); ``report``
    writes the tables and plots (:func:`~astroclean.sources.evaluate.report.write_sources_report`).
    """

    def build_set(self, n_maps: int = 48, *, band: str = "blue", mode: str = "scan", per_level: int = 6, rng=0):
        from astroclean.sources.simulate import make_source_maps

        return make_source_maps(n_maps, split="benchmark", band=band, mode=mode, rng=rng, per_level=per_level)

    def run_method(self, name: str, case, *, band: str = "blue", mode: str = "scan"):
        import numpy as np

        from astroclean.sources.remove import remove_compact_sources

        image, truth = case
        positions = np.column_stack([truth.table["x"], truth.table["y"]])
        return remove_compact_sources(image, positions, model=name, band=band, mode=mode)

    def summarise(self, rows, *, model: str = "pacs-blue", band: str = "blue", mode: str = "scan", **options):
        from astroclean.instruments.pacs import load_pacs_psf
        from astroclean.sources.evaluate.benchmark import run_sources_benchmark
        from astroclean.sources.remove import load_source_model, remove_compact_sources

        predictor = load_source_model(model)

        def remove(image, x, y):
            import numpy as np

            return remove_compact_sources(image, np.column_stack([x, y]), model=predictor, band=band, mode=mode)

        return run_sources_benchmark(rows, remove, psf=load_pacs_psf(band), **options)

    def report(self, summary, outdir, *, overwrite: bool = False, **options) -> dict:
        from astroclean.sources.evaluate.report import write_sources_report

        return write_sources_report(summary, outdir, overwrite=overwrite, **options)


@register_task
class SourcesTask(Task):
    """Compact-source removal from far-infrared maps, and photometry of what was removed."""

    name = "sources"
    command = "sources"
    help = "remove compact sources from far-infrared maps and measure them"
    cli = "astroclean.sources.cli"
    evaluate_cli = "astroclean.sources.evaluate.cli"
    products = ("_nosources.fits", "_sources.fits", "_photometry.ecsv")

    def benchmark(self):
        return SourcesBenchmark()
