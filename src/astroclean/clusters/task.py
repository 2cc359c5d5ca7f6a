"""The star-cluster task, registered: ``astroclean clusters``, ``simulate|train|evaluate clusters``, its benchmark.

The main command runs through the batch layer: one work unit per field (its F336W, F438W, F814W
files and a catalogue; :class:`astroclean.clusters.batch.ClustersBatch`), from the hooks in
``astroclean.clusters.cli`` (``add_arguments``, ``batch_spec``, ``add_simulate_parser``, ...).

>>> from astroclean.tasks import get_task
>>> get_task("clusters").command
'clusters'
"""

from __future__ import annotations

from astroclean.tasks import Task, register_task


class ClustersBenchmark:
    """The cluster benchmark behind the :class:`astroclean.tasks.Benchmark` protocol.

    ``build_set(sets_dir)`` reads the held-out mocks (``test.npz``, with truth) and the validation set
    the classical fit is calibrated on; ``run_method("network" | "classical", case)`` estimates the
    parameters of those cutouts; ``summarise`` and ``report`` run the whole study
    (:func:`astroclean.clusters.evaluate.benchmark.run_benchmark`: bias, scatter, coverage, PIT, ROC,
    throughput and the LEGUS checks) and write it.
    """

    def build_set(self, sets_dir="runs/clusters", **options):
        from pathlib import Path

        from astroclean.clusters.sets import read_set

        return {"sets_dir": str(sets_dir), "test": read_set(Path(sets_dir) / "test.npz"),
                "val": read_set(Path(sets_dir) / "val.npz")}

    def run_method(self, name: str, case):
        from astroclean.clusters.classical import calibrate, classical_estimates
        from astroclean.clusters.evaluate.benchmark import _network_estimates
        from astroclean.clusters.model import load_cluster_model, sigma_scale

        x, _ = case["test"]
        if name == "classical":
            return classical_estimates(x, calibrate(*case["val"]))
        net, card = load_cluster_model(name)
        return _network_estimates(net, int(card.architecture.get("k", 3)), x, sigma_scale(card))[1]

    def summarise(self, rows, *, outdir, model: str = "wfc3-m83", **options):
        from astroclean.clusters.evaluate.benchmark import run_benchmark

        return run_benchmark(rows["sets_dir"], outdir, model=model, **options)

    def report(self, summary, outdir, *, overwrite: bool = False, **options) -> dict:
        from pathlib import Path

        return {name: Path(outdir) / name for name in ("summary.json", "report.md") if (Path(outdir) / name).is_file()}


@register_task
class ClustersTask(Task):
    """Star clusters in HST F336W/F438W/F814W: age, mass, size, extinction with intervals, P(cluster)."""

    name = "clusters"
    command = "clusters"
    help = "star-cluster age, mass, size, A_V and P(cluster) at catalogue positions"
    cli = "astroclean.clusters.cli"
    evaluate_cli = "astroclean.clusters.cli"
    products = ("_clusters.ecsv", "_clusters.png")

    def benchmark(self):
        return ClustersBenchmark()
