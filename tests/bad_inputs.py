"""Bad inputs for every ``harmonstats`` subcommand: each must give one line, exit 2, no file.

One table of cases serves the test (``tests/test_bad_inputs.py``) and the script that prints it
as Markdown (``scripts/bad_inputs.py``). A case writes its bad input into a copy of a small
valid folder (:func:`write_base`) and returns the command line to run there; the message must
match ``expect``.
"""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from study_files import study_config, write_study, write_yaml

from harmonstats.analysis.simulate import simulate_measures
from harmonstats.io import load_nifti, read_table, save_nifti, write_table
from harmonstats.pipeline import demo_models_folder

__all__ = ["CASES", "MEASURE", "VALIDATE", "Case", "snapshot", "write_base"]

STUDY = Path("study")
PARTICIPANTS = STUDY / "participants.tsv"
LABEL = STUDY / "sub-src001/anat/sub-src001_desc-original_dseg.nii.gz"
IMAGE = STUDY / "sub-src001/anat/sub-src001_T2w.nii.gz"
TABLES = Path("tables")
MODEL = "model.yaml"
#: A valid tissue checkpoint: the demo's baseline (read, never written).
CHECKPOINT = str(demo_models_folder() / "baseline.pt")


def write_base(root: Path) -> Path:
    """A valid folder: a 4-subject study, a measures and participants table, a model config."""
    root.mkdir(parents=True, exist_ok=True)
    write_study(root / STUDY, n_per_cohort=2)
    # splits for training: one validation and one training subject per cohort
    table = read_table(root / PARTICIPANTS)
    write_table(table.assign(split=["val", "train"] * 2), root / PARTICIPANTS)
    measures, participants = simulate_measures(6, seed=0)
    write_table(participants, root / TABLES / "participants.tsv")
    write_table(measures, root / TABLES / "measures.tsv")
    (root / MODEL).write_text(yaml.safe_dump({
        "name": "tiny", "method": "baseline", "epochs": 1, "steps_per_epoch": 1,
        "data": {"patch_size": 16}, "network": {"channels": [4, 8]}, "val_subjects": 1}))
    write_yaml(root, study_config())
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root`` with its size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes
    ----------
    what : str
        The input, in words (the table's first column).
    command : list of str
        The command line (subcommand first), relative to the case's folder.
    change : callable
        Writes the bad input into the case's folder (a copy of :func:`write_base`'s).
    expect : str
        A regular expression the one-line message must match.
    """

    what: str
    command: list[str]
    change: Callable[[Path], None]
    expect: str


Change = Callable[[Path], None]


def _participants(column: str, value: object, row: int = 1, path: Path = PARTICIPANTS
                  ) -> Change:
    def change(root: Path) -> None:
        table = read_table(root / path).astype({column: object})
        table.loc[row, column] = value
        write_table(table, root / path)
    return change


def _measures(column: str, value: object, measure: str = "volume_wm") -> Change:
    def change(root: Path) -> None:
        table = read_table(root / TABLES / "measures.tsv").astype({column: object})
        table.loc[table.index[table["measure"] == measure][1], column] = value
        write_table(table, root / TABLES / "measures.tsv")
    return change


def _table(edit: Callable[[pd.DataFrame], pd.DataFrame], path: Path) -> Change:
    def change(root: Path) -> None:
        write_table(edit(read_table(root / path)), root / path)
    return change


def _bytes(path: Path | str, data: Callable[[bytes], bytes]) -> Change:
    def change(root: Path) -> None:
        target = root / path
        target.write_bytes(data(target.read_bytes() if target.is_file() else b""))
    return change


def _label_map(edit: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
               ) -> Change:
    def change(root: Path) -> None:
        img = load_nifti(root / LABEL)
        data, affine = edit(np.asarray(img.dataobj), img.affine)
        save_nifti(data, affine, root / LABEL)
    return change


def _singular_affine(root: Path) -> None:
    """A header whose affine maps every voxel onto one plane (nibabel would not write it)."""
    img = load_nifti(root / LABEL)
    header = img.header.copy()
    header.set_qform(None, code=0)
    header["srow_z"] = [0.0, 0.0, 0.0, 0.0]
    data = np.asarray(img.dataobj)
    header.set_data_dtype(data.dtype)
    raw = header.binaryblock + b"\0" * 4 + data.tobytes(order="F")
    (root / LABEL).write_bytes(gzip.compress(raw))


def _sessions(rows: dict[str, list[object]]) -> Change:
    def change(root: Path) -> None:
        path = root / STUDY / "sub-src001" / "sub-src001_sessions.tsv"
        pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return change


def _text(name: str, text: str) -> Change:
    return _bytes(name, lambda _: text.encode())


def _study_yaml(**changes: object) -> Change:
    def change(root: Path) -> None:
        write_yaml(root, study_config(**changes))
    return change


class _RunsCode:
    """Unpickling this calls ``os.system``: what a hostile checkpoint would do."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def _checkpoint(kind: str, name: str = "model.pt") -> Change:
    def change(root: Path) -> None:
        path = root / name
        if kind == "code":
            torch.save({"format": "harmonstats-checkpoint-1", "metadata": _RunsCode()}, path)
        elif kind == "pickle":
            path.write_bytes(pickle.dumps(_RunsCode()))
        elif kind == "state_dict":
            torch.save(torch.nn.Linear(2, 2).state_dict(), path)
        elif kind == "truncated":
            data = Path(CHECKPOINT).read_bytes()
            path.write_bytes(data[: len(data) // 3])
        elif kind == "text":
            path.write_text("not a checkpoint\n")
        elif kind == "bad_metadata":
            ckpt = torch.load(CHECKPOINT, weights_only=True)
            ckpt["metadata"]["patch_size"] = "large"
            torch.save(ckpt, path)
    return change


def _nan_image(root: Path) -> None:
    img = load_nifti(root / IMAGE)
    data = np.asarray(img.dataobj).astype(np.float32)
    data[5, 5, 5] = np.nan
    save_nifti(data, img.affine, root / IMAGE)


def _model_yaml(**changes: object) -> Change:
    def change(root: Path) -> None:
        raw = yaml.safe_load((root / MODEL).read_text())
        (root / MODEL).write_text(yaml.safe_dump({**raw, **changes}))
    return change


def _init_from_code(root: Path) -> None:
    _checkpoint("code", "init.pt")(root)
    _model_yaml(init_from="init.pt")(root)


def _all_checkpoint_study(root: Path) -> None:
    """A study YAML whose only method applies a checkpoint (the schema allows it)."""
    write_yaml(root, study_config(methods={"baseline": {"checkpoint": CHECKPOINT}},
                                  measures={"ground_truth": None}))
    (root / IMAGE).write_bytes(gzip.compress(b"not an image"))


def _no_study(root: Path) -> None:
    shutil.rmtree(root / STUDY)


def _nothing(root: Path) -> None:
    """The input is the command line itself."""


MEASURE = ["measure", "study", "--methods", "original,truth", "--no-progress", "--out",
           "out/measures.tsv"]
VALIDATE = ["validate", "tables/measures.tsv", "--participants", "tables/participants.tsv",
            "--out", "out"]
BATTERY = [*VALIDATE, "--config", "battery.yaml"]
REPORT = ["report", "study.yaml"]
SEGMENT = ["segment", CHECKPOINT, "--data", "study", "--out", "out", "--no-progress"]
HOSTILE = ["segment", "model.pt", "--data", "study", "--out", "out", "--no-progress"]
TRAIN = ["train", MODEL, "--data", "study", "--out", "run", "--device", "cpu", "--no-progress"]
SIM = TABLES / "participants.tsv"

CASES: list[Case] = [
    # The inputs the issue lists.
    Case("participants: non-numeric GA", VALIDATE, _participants("ga_birth", "thirty", path=SIM),
         r"participants\.tsv: sub-sou0x00001: column 'ga_birth' is 'thirty': not a number"),
    Case("participants: PMA at scan before GA at birth", VALIDATE,
         _participants("pma_scan", 25.0, path=SIM), r"column 'pma_scan' is 25: before ga_birth"),
    Case("participants: negative GA", VALIDATE, _participants("ga_birth", -30.0, path=SIM),
         r"column 'ga_birth' is -30: outside 20 to 46 weeks"),
    Case("participants: negative birth weight", VALIDATE,
         _participants("birth_weight", -5.0, path=SIM),
         r"column 'birth_weight' is -5: outside 100 to 7000 g"),
    Case("measures: an infinite value", VALIDATE, _measures("value", "inf"),
         r"measures\.tsv: sub-sou0x00001: column 'value' is inf: not a finite number"),
    Case("participants: a 300-character ID", MEASURE, _participants("participant_id", "a" * 300),
         r"participants\.tsv: row 2: column 'participant_id': participant ID 'a{60}\.\.\. "
         r"\(300 characters\)' is not allowed"),
    Case("study YAML: every method a checkpoint, and a T2w image that is not one", REPORT,
         _all_checkpoint_study, r"sub-src001 T2w image: cannot read NIfTI file"),
    # Participants tables and sessions tables.
    Case("participants: required column missing", MEASURE,
         _table(lambda t: t.drop(columns="sex"), PARTICIPANTS),
         r"participants\.tsv: missing required column\(s\) \['sex'\]"),
    Case("participants: a subject listed twice", MEASURE,
         _table(lambda t: pd.concat([t, t.iloc[:1]]), PARTICIPANTS),
         r"sub-src000: column 'participant_id' .* listed twice"),
    Case("participants: ID with a path", MEASURE, _participants("participant_id", "../../etc"),
         r"participant ID '\.\./\.\./etc' is not allowed"),
    Case("participants: ID missing", MEASURE, _participants("participant_id", None),
         r"row 2: column 'participant_id': participant ID is missing"),
    Case("participants: sex 'X'", MEASURE, _participants("sex", "X"),
         r"column 'sex' is 'X': use F or M"),
    Case("participants: GA given in days", MEASURE, _participants("ga_birth", 280),
         r"column 'ga_birth' is 280: outside 20 to 46 weeks"),
    Case("participants: birth weight in kg", MEASURE, _participants("birth_weight", 3.2),
         r"column 'birth_weight' is 3\.2: outside 100 to 7000 g"),
    Case("participants: cohort missing", MEASURE, _participants("cohort", None),
         r"column 'cohort' is n/a: every participant needs a cohort"),
    Case("participants: split 'training'", MEASURE, _participants("split", "training"),
         r"column 'split' is 'training': use one of"),
    Case("participants: not text (binary bytes)", MEASURE,
         _bytes(PARTICIPANTS, lambda b: b"\xff\xfe" + bytes(range(256))),
         r"participants\.tsv: not a text table"),
    Case("participants: a row with too many fields", MEASURE, _bytes(
         PARTICIPANTS, lambda b: b + b"src099\tsource\t30\t40\tF\t1\t2\t3\t4\t5\n"),
         r"participants\.tsv: not a TSV table: .*line 6"),
    Case("participants: an empty file", MEASURE, _bytes(PARTICIPANTS, lambda b: b""),
         r"participants\.tsv: empty file"),
    Case("sessions: a session ID with a path", MEASURE,
         _sessions({"session_id": ["1/../../x"], "pma_scan": [40.0]}),
         r"sub-src001_sessions\.tsv: row 1: column 'session_id': session ID '1/\.\./\.\./x' "
         r"is not allowed"),
    Case("sessions: PMA not a number", MEASURE,
         _sessions({"session_id": ["1"], "pma_scan": ["soon"]}),
         r"sub-src001_sessions\.tsv: sub-src001_ses-1: column 'pma_scan' is 'soon': not a "
         r"number"),
    Case("sessions: one session listed twice", MEASURE,
         _sessions({"session_id": ["1", "ses-1"], "pma_scan": [40.0, 41.0]}),
         r"sub-src001_sessions\.tsv: sub-src001_ses-1: .* listed twice for one session"),
    # Label maps and images.
    Case("label map: truncated .nii.gz", MEASURE, _bytes(LABEL, lambda b: b[: len(b) // 2]),
         r"sub-src001 label map \(original\): cannot read NIfTI file"),
    Case("label map: a text file", MEASURE, _bytes(LABEL, lambda b: b"hello\n"),
         r"sub-src001 label map \(original\): cannot read NIfTI file"),
    Case("label map: 4D", MEASURE, _label_map(lambda d, a: (np.stack([d, d], -1), a)),
         r"sub-src001 label map \(original\): expected a 3D volume, .* shape \(20, 20, 20, "
         r"2\)"),
    Case("label map: other shape than the image", MEASURE, _label_map(lambda d, a: (d[:-2], a)),
         r"sub-src001 label map \(original\): shape \(18, 20, 20\) .* differs from \(20, 20, "
         r"20\)"),
    Case("label map: other affine than the image", MEASURE,
         _label_map(lambda d, a: (d, a @ np.diag([1.0, 1.0, 1.2, 1.0]))),
         r"sub-src001 label map \(original\): affine of .* differs"),
    Case("label map: a singular affine (voxel size 0 mm)", MEASURE, _singular_affine,
         r"sub-src001 label map \(original\): .* has no valid voxel-to-world affine \(voxel "
         r"size \(1\.0, 1\.0, 0\.0\) mm\)"),
    Case("label map: label 99", MEASURE,
         _label_map(lambda d, a: (np.where(d == 3, 99, d).astype(np.uint8), a)),
         r"holds labels \[99\] outside label scheme 'tissues7'"),
    Case("label map: non-integer labels", MEASURE,
         _label_map(lambda d, a: (d.astype(np.float32) + 0.5, a)),
         r"sub-src001 label map \(original\): .* holds non-integer label values"),
    Case("study folder missing", MEASURE, _no_study, r"study folder not found: study"),
    Case("--jobs 0", [*MEASURE, "--jobs", "0"], _nothing,
         r"jobs must be a positive number of processes or -1, got 0"),
    # Measures tables and battery options.
    Case("measures: method name 'Base Line'", VALIDATE, _measures("method", "Base Line"),
         r"column 'method' is 'Base Line': not a method name"),
    Case("measures: unknown measure", VALIDATE, _measures("measure", "volume_hippocampus"),
         r"column 'measure' is 'volume_hippocampus': not a harmonstats measure"),
    Case("measures: negative volume", VALIDATE, _measures("value", -12.0),
         r"column 'value' is -12: negative"),
    Case("measures: Dice above 1", VALIDATE, _measures("value", 1.5, "dice_wm"),
         r"column 'value' is 1\.5: outside 0 to 1 \(Dice\)"),
    Case("measures: a subject not in the participants", VALIDATE,
         _measures("participant_id", "zz9"),
         r"measures\.tsv: sub-zz9: column 'participant_id' is 'sub-zz9': not in participants"),
    Case("measures: column 'value' missing", VALIDATE,
         _table(lambda t: t.drop(columns="value"), TABLES / "measures.tsv"),
         r"measures\.tsv: missing required column"),
    Case("battery YAML: not YAML", BATTERY, _text("battery.yaml", "reference: [source\n"),
         r"battery\.yaml: not valid YAML \(line \d+, column \d+\)"),
    Case("battery YAML: unknown option", BATTERY, _text("battery.yaml", "refrence: source\n"),
         r"unknown battery option\(s\) \['refrence'\]"),
    # Study YAMLs.
    Case("study YAML: not YAML", REPORT, _text("study.yaml", "name: tiny\n  root: [study\n"),
         r"study\.yaml: not valid YAML \(line \d+, column \d+\)"),
    Case("study YAML: a list, not a mapping", REPORT, _text("study.yaml", "- name\n- root\n"),
         r"study\.yaml: expected a mapping of keys at the top level"),
    Case("study YAML: not UTF-8", REPORT, _bytes("study.yaml", lambda b: b"name: caf\xe9\n"),
         r"study\.yaml: not a YAML text file \(not UTF-8\)"),
    Case("study YAML: unknown key", REPORT, _study_yaml(colour="blue"),
         r"study\.yaml: unknown key 'colour'"),
    Case("study YAML: method name 'Base-Line'", REPORT,
         _study_yaml(methods={"Base-Line": {"labels": "x_{participant_id}.nii.gz"}}),
         r"method name 'Base-Line' is not allowed"),
    Case("report: --quick with a study YAML", [*REPORT, "--quick"], _nothing,
         r"--quick and --data apply to the demo only"),
    # Checkpoints.
    Case("checkpoint: would run code when loaded", HOSTILE, _checkpoint("code"),
         r"refusing to load checkpoint model\.pt: .* could run code \(it would call "
         r"posix\.system\)"),
    Case("checkpoint: a bare pickle", HOSTILE, _checkpoint("pickle"),
         r"cannot read checkpoint model\.pt: not a PyTorch checkpoint"),
    Case("checkpoint: a .pt of another kind (a state dict)", HOSTILE, _checkpoint("state_dict"),
         r"model\.pt is not a harmonstats checkpoint"),
    Case("checkpoint: truncated", HOSTILE, _checkpoint("truncated"),
         r"cannot read checkpoint model\.pt: not a PyTorch checkpoint, or a truncated one"),
    Case("checkpoint: a text file", HOSTILE, _checkpoint("text"),
         r"cannot read checkpoint model\.pt: not a PyTorch checkpoint"),
    Case("checkpoint: metadata of the wrong type", HOSTILE, _checkpoint("bad_metadata"),
         r"model\.pt: metadata 'patch_size' is 'large', not of type int"),
    Case("segment: a T2w image with a NaN voxel", SEGMENT, _nan_image,
         r"sub-src001 T2w image: .* holds 1 NaN or infinite voxel"),
    Case("segment: participants with a negative GA", SEGMENT, _participants("ga_birth", -1.0),
         r"column 'ga_birth' is -1: outside"),
    Case("segment: a tissue model given as parcellation", [*SEGMENT, "--parcellation",
         CHECKPOINT], _nothing, r"label_scheme is 'tissues7', but 'regions11' is needed"),
    # Training.
    Case("train: model config not YAML", TRAIN, _text(MODEL, "name: [tiny\n"),
         r"model\.yaml: not valid YAML"),
    Case("train: model config unknown key", TRAIN, _model_yaml(epoch=3),
         r"invalid training config: unknown key 'epoch'"),
    Case("train: init_from a checkpoint that would run code", TRAIN, _init_from_code,
         r"refusing to load checkpoint init\.pt"),
    Case("train: no split column", TRAIN, _table(lambda t: t.drop(columns="split"), PARTICIPANTS),
         r"missing required column\(s\) \['split'\]"),
    Case("train: a truncated label map", TRAIN, _bytes(LABEL, lambda b: b[:100]),
         r"sub-src001 label map \(tissues7\): cannot read NIfTI file"),
]
