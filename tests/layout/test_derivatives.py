"""BIDS-Derivatives metadata written for every dataset harmonstats makes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harmonstats import __version__
from harmonstats.io import read_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout.derivatives import (
    generated_by,
    write_dataset_description,
    write_dseg_tables,
    write_sidecar,
)


def test_dataset_description_names_harmonstats_and_what_made_it(tmp_path):
    path = write_dataset_description(
        tmp_path, name="baseline", links={"raw": "../.."},
        generated=[generated_by(description="segmenter baseline.pt", CodeURL=None)])
    desc = json.loads(path.read_text())
    assert desc["DatasetType"] == "derivative" and desc["DatasetLinks"] == {"raw": "../.."}
    assert desc["GeneratedBy"][0]["Name"] == "harmonstats"
    assert desc["GeneratedBy"][0]["Version"] == __version__
    with pytest.raises(ValueError, match="DatasetType"):
        write_dataset_description(tmp_path, name="x", generated=[], dataset_type="other")


def test_dseg_tables_list_every_label_of_the_schemes(tmp_path):
    tissues, regions = write_dseg_tables(tmp_path)
    assert tissues.name == "dseg.tsv" and regions.name == "desc-regions_dseg.tsv"
    for path, labels in ((tissues, TISSUES), (regions, REGIONS)):
        table = pd.read_csv(path, sep="\t")
        assert list(table.columns) == ["index", "name"]
        assert dict(zip(table["index"], table["name"], strict=True)) == dict(labels)
    assert len(read_table(tissues)) == len(TISSUES)


def test_sidecar_sits_beside_the_image_without_empty_fields(tmp_path):
    path = write_sidecar(tmp_path / "sub-a_dseg.nii.gz", Sources=["bids:raw:x"], Manual=None)
    assert path.name == "sub-a_dseg.json"
    assert json.loads(path.read_text()) == {"Sources": ["bids:raw:x"]}
