"""The cluster batch spec: fields from file names, catalogues, many fields with a broken one, resume."""

import shutil

import numpy as np
import pytest

from astroclean.clusters.batch import ClustersBatch, field_catalog, field_files
from astroclean.clusters.cli import main
from astroclean.errors import AstrocleanFileError, AstrocleanValueError


def test_field_files_from_names(tmp_path):
    stem, files, band = field_files(tmp_path / "ngc628_f438w_drc.fits")
    assert stem == "ngc628_drc" and band == "F438W"
    assert [f.name for f in files] == ["ngc628_f336w_drc.fits", "ngc628_f438w_drc.fits", "ngc628_f814w_drc.fits"]
    assert field_files(tmp_path / "M83-F814W.fits.gz")[1][0].name == "M83-F336W.fits.gz"
    assert field_files(tmp_path / "m83" / "f336w.fits")[0] == "m83"          # nothing left: the folder's name
    assert field_files(tmp_path / "image.fits") == (None, None, None)


def test_field_catalog_lookup(tmp_path):
    anchor = tmp_path / "a_f336w.fits"
    with pytest.raises(AstrocleanFileError, match="a_catalog.csv"):
        field_catalog("a", anchor)
    (tmp_path / "a.ecsv").write_text("")
    assert field_catalog("a", anchor).name == "a.ecsv"
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "a.csv").write_text("")
    assert field_catalog("a", anchor, str(tmp_path / "cats" / "{field}.csv")).parent.name == "cats"
    with pytest.raises(AstrocleanValueError, match="distance"):
        ClustersBatch(distance=-1)


def _field(src_files, folder, name, catalog="id,x,y\n1,53,43\n2,20,70\n"):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in src_files:
        new = folder / path.name.replace("m83", name)
        shutil.copy(path, new)
        paths.append(new)
    if catalog is not None:
        (folder / f"{name}_catalog.csv").write_text(catalog)
    return paths


def test_many_fields_one_broken(uvis_files, tmp_path, tiny_net, monkeypatch, capsys):
    import astroclean.clusters.model as model
    monkeypatch.setattr(model, "load_cluster_model", lambda name: (tiny_net, tiny_net.card))
    fields = tmp_path / "fields"
    _field(uvis_files, fields, "east")
    _field(uvis_files, fields, "west")
    (fields / "broken_f814w.fits").unlink(missing_ok=True)
    broken = _field(uvis_files, fields, "broken")
    broken[2].unlink()                                             # a band missing
    _field(uvis_files, fields, "nocat", catalog=None)              # no catalogue
    out = tmp_path / "out"
    assert main([str(fields), "-o", str(out), "--no-progress"]) == 1
    report = capsys.readouterr().out
    assert "band missing" in report and "broken_f814w.fits" in report
    assert "no catalogue for field 'nocat'" in report
    assert "2 done, 2 failed" in report
    for name in ("east", "west"):
        table = (out / f"{name}_clusters.ecsv").read_text()
        assert "astroclean_catalog_sha256" in table and (out / f"{name}_clusters.png").is_file()
    assert not (out / "broken_clusters.ecsv").exists()
    # the catalogue changed: --resume redoes that field only
    (fields / "west_catalog.csv").write_text("id,x,y\n1,53,43\n")
    assert main([str(fields), "-o", str(out), "--no-progress", "--resume"]) == 1
    report = capsys.readouterr().out
    assert "1 done, 2 failed, 1 skipped" in report
    from astropy.table import Table
    assert len(Table.read(out / "west_clusters.ecsv")) == 1


def test_batch_spec_refuses_wrong_filter(uvis_files, tmp_path, tiny_net, monkeypatch):
    from astropy.io import fits

    import astroclean.clusters.model as model
    monkeypatch.setattr(model, "load_cluster_model", lambda name: (tiny_net, tiny_net.card))
    paths = _field(uvis_files, tmp_path / "f", "x")
    fits.setval(paths[1], "FILTER", value="F475W")
    from astroclean.batch import run_batch
    report = run_batch(ClustersBatch(), [paths[0]], outdir=tmp_path / "out", progress=False)
    assert report.n_failed == 1 and "F475W" in report.failures[0]["error"]
    assert np.all([not p.exists() for p in (tmp_path / "out").glob("x_clusters.*")])


def test_units_of_names_without_a_field(tmp_path):
    spec = ClustersBatch()
    lone = tmp_path / "image.fits"
    lone.write_bytes(b"")
    with pytest.raises(AstrocleanValueError, match="no band"):
        spec.units(lone, sha256="")
    orphan = tmp_path / "x_f438w.fits"
    orphan.write_bytes(b"")
    with pytest.raises(AstrocleanValueError, match="no F336W file x_f336w.fits"):
        spec.units(orphan, sha256="")
    (tmp_path / "x_f336w.fits").write_bytes(b"")
    assert spec.units(orphan, sha256="") == []             # read with its F336W file
