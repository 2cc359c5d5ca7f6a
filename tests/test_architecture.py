"""The house rules that a test can check: registered tasks are complete, arrows point down, one vocabulary."""

import ast
import inspect
import pkgutil
from pathlib import Path

import pytest

import astroclean
from astroclean.tasks import TASK_MODULES, Benchmark, Task, list_tasks

SRC = Path(astroclean.__file__).parent
SLICES = sorted({m.split(".")[1] for m in TASK_MODULES})
BANNED = {"img", "inmask", "seed", "ret_numpy", "arr", "im"}


def _imports(path: Path) -> set:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("astroclean")}


@pytest.mark.parametrize("task", sorted(list_tasks()))
def test_every_task_has_a_cli_a_batch_spec_and_a_benchmark(task):
    import argparse

    from astroclean.cli import build_parser

    t = list_tasks()[task]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert t.command in sub.choices, f"no `astroclean {t.command}`"
    has_batch = type(t).batch_spec is not Task.batch_spec or (t.cli and hasattr(__import__(t.cli, fromlist=["_"]),
                                                                              "batch_spec"))
    assert has_batch, f"{task} has no batch spec"
    assert isinstance(t.benchmark(), Benchmark)
    assert t.add_evaluate(argparse.ArgumentParser().add_subparsers()) is not None, f"no `evaluate {t.command}`"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_arrows_point_down(path):
    rel = path.relative_to(SRC).parts
    own = rel[0] if rel[0] in SLICES else None
    for module in _imports(path):
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else None
        if target in SLICES:
            facade = rel == ("__init__.py",)  # the package's public names, imported lazily
            assert own == target or facade, \
                f"{'/'.join(rel)} imports {module}: the floor reaches a slice by name only, and no slice imports another"


def test_no_library_module_names_a_checkout_path():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "shared/data" in p.read_text()
                 or "\"shared\" / \"data\"" in p.read_text()]
    assert not offenders, f"library code naming ../shared/data: {offenders}"


def _public_functions():
    for info in pkgutil.walk_packages(astroclean.__path__, "astroclean."):
        if ".train" in info.name or info.name.endswith(".cli") or ".cli." in info.name:
            continue
        module = __import__(info.name, fromlist=["_"])
        for name, obj in list(vars(module).items()):
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue
            if inspect.isfunction(obj):
                yield f"{info.name}.{name}", obj
            elif inspect.isclass(obj) and "__init__" in vars(obj):
                yield f"{info.name}.{name}", obj.__init__


def test_public_signatures_use_the_house_vocabulary():
    problems = []
    for qualname, fn in _public_functions():
        params = list(inspect.signature(fn).parameters.values())
        banned = [p.name for p in params if p.name in BANNED]
        if banned:
            problems.append(f"{qualname}: banned names {banned}")
    assert not problems, "\n".join(problems)


def test_every_task_declares_its_products_and_they_are_never_inputs(tmp_path):
    from astroclean.cli.inputs import expand_inputs
    from astroclean.io.paths import is_product_name

    for task in list_tasks().values():
        assert task.products, f"task {task.name} declares no product name endings (Task.products)"
        for suffix in task.products:
            name = f"field{suffix}"
            assert is_product_name(tmp_path / name)
            (tmp_path / name).write_bytes(b"")
    (tmp_path / "field_g.fits").write_bytes(b"")
    assert expand_inputs([str(tmp_path)]) == [tmp_path / "field_g.fits"]


# The one training loop: only training/trainer.py steps a network's optimiser. The cirrus masker's
# conditional-adversarial option updates its critic inside the loss it hands to the Trainer.
OWN_BACKWARD = {"training/trainer.py": "the Trainer", "cirrus/train.py": "the adversarial critic's update"}


def test_every_training_runs_on_the_trainer():
    package = Path(astroclean.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if ".backward(" in path.read_text() and rel not in OWN_BACKWARD:
            offenders.append(rel)
    assert not offenders, f"training loops outside astroclean.training.Trainer: {offenders}"
