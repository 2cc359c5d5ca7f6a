"""Issue 14, items 19 and 20: the README's commands as written, and help texts written for users."""

import re
import shlex
import shutil

import pytest

from astroclean.cli import build_parser, main

from conftest import ROOT

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _command(marker):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text)
    assert match, f"README has no {marker} block"
    return match.group(1)


@pytest.mark.parametrize("marker", ["main-command", "test-command"])
def test_readme_commands_pin_torch_and_the_readme_says_how_to_get_cpu_wheels(marker):
    steps = [shlex.split(s) for s in _command(marker).split("&&")]
    installs = [s for s in steps if s[:2] == ["pip", "install"]]
    assert len(installs) == 1 and "-c" in installs[0] and "constraints.txt" in installs[0]
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
    text = (ROOT / "README.md").read_text()
    assert f"pip install torch==2.13.0 --index-url {CPU_INDEX}" in text     # the CPU-only recipe for users


def test_readme_main_command_runs_as_written(tmp_path, monkeypatch, capsys):
    steps = [shlex.split(s) for s in _command("main-command").split("&&")]
    run = next(s for s in steps if s[0] == "astroclean")
    example = run[2]
    (tmp_path / example).parent.mkdir(parents=True)
    for sibling in (ROOT / example).parent.glob((ROOT / example).name.replace("_ooi_", "_oo?_")):
        shutil.copy(sibling, (tmp_path / example).parent / sibling.name)
    monkeypatch.chdir(tmp_path)
    assert main(run[1:] + ["--no-progress"]) == 0
    assert "1 done, 0 failed" in capsys.readouterr().out
    assert list((tmp_path / "out").glob("*.cr.fits"))


def test_help_texts_are_for_users(capsys):
    parser = build_parser()
    top = parser.format_help()
    assert "thin" not in top and "only parses" not in top and "cosmic" in top and "sources" in top
    with pytest.raises(SystemExit):
        main(["cosmic", "--help"])
    text = capsys.readouterr().out
    many = text[text.index("running many files"):]
    assert "--device" not in many and "--device" in text


def test_evaluate_sources_help_states_the_real_number_of_maps(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "sources", "--help"])
    text = capsys.readouterr().out
    default = int(re.search(r"--n-maps N_MAPS\s+held-out maps \(default (\d+)", text).group(1))
    assert f"on {default} held-out maps" in text and "12 held-out" not in text


def test_cosmic_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["cosmic", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: the model card's, 0.5)" in text and "default auto" in text
    assert "(default: the model card's default_dilate: 0 for ground and space, 1 for the cr-any family)" in text
