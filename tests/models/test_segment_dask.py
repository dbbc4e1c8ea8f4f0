"""``segment --scheduler``: a cohort's scans as tasks on a real Dask cluster.

The cluster's outputs must be the local run's, byte for byte (maps, sidecars with the entropy,
the BIDS-Derivatives record), and everything the local path promises must hold: finished scans
are skipped, a changed setting redoes them, bad input is one line.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster
from kill import files
from study_files import write_checkpoint, write_study

from harmonstats import cli
from harmonstats.cluster import connect
from harmonstats.errors import InputError
from harmonstats.io import file_sha256
from harmonstats.models import scan_tasks
from harmonstats.models.apply import parcellate_cohort, segment_cohort
from harmonstats.models.scan_tasks import Checkpoint, ScanRunner, ScanTask, run_scan


@pytest.fixture(scope="module")
def client() -> Client:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _study(tmp_path: Path) -> tuple[Path, Path, Path]:
    study = write_study(tmp_path / "study", n_per_cohort=3)
    return (study, write_checkpoint(tmp_path / "net.pt", "baseline"),
            write_checkpoint(tmp_path / "parc.pt", "parcellation"))


def test_cluster_writes_the_local_files_and_resumes(tmp_path: Path, client: Client) -> None:
    study, net, parc = _study(tmp_path)
    segment_cohort(net, study, tmp_path / "local", parcellation=parc, progress=False)
    local = files(tmp_path / "local")
    assert sum(name.endswith("_desc-regions_dseg.nii.gz") for name in local) == 6
    address = client.scheduler.address
    assert cli.main(["segment", str(net), "--data", str(study), "--out", str(tmp_path / "dask"),
                     "--parcellation", str(parc), "--scheduler", address,
                     "--no-progress"]) == 0
    assert files(tmp_path / "dask") == local  # maps, sidecars (entropy), dataset record
    cached = {key: id(model) for key, model in scan_tasks._CACHE.items()}
    assert {(file_sha256(net), "cpu"), (file_sha256(parc), "cpu")} <= set(cached)

    # What a kill leaves: some scans finished, others not (their maps missing).
    anat = tmp_path / "dask" / "derivatives" / "net"
    gone = sorted(anat.rglob("sub-tgt*_dseg.nii.gz"))
    for path in gone:
        path.unlink()
    kept = {p: p.stat().st_mtime_ns for p in anat.rglob("sub-src*_dseg.nii.gz")}
    segment_cohort(net, study, tmp_path / "dask", parcellation=parc, progress=False,
                   scheduler=client)
    assert files(tmp_path / "dask") == local
    assert {p: p.stat().st_mtime_ns for p in kept} == kept, "finished scans redone"
    assert {key: id(scan_tasks._CACHE[key]) for key in cached} == cached, "networks reloaded"

    segment_cohort(net, study, tmp_path / "dask", parcellation=parc, progress=False,
                   scheduler=client, window=48)  # another window: every scan redone
    record = json.loads((anat / ".harmonstats-models.json").read_text())
    assert record["window"] == 48 and record["precision"] == "fp32"
    assert all(p.stat().st_mtime_ns != t for p, t in kept.items())


def test_parcellation_model_on_the_cluster(tmp_path: Path, client: Client) -> None:
    study, _net, parc = _study(tmp_path)
    local = parcellate_cohort(parc, study, tmp_path / "local", method="original",
                              progress=False)
    on_cluster = parcellate_cohort(parc, study, tmp_path / "dask", method="original",
                                   progress=False, scheduler=client)
    assert [p.relative_to(tmp_path / "dask") for p in on_cluster] == [
        p.relative_to(tmp_path / "local") for p in local]
    assert files(tmp_path / "dask") == files(tmp_path / "local")


def test_auto_precision_follows_the_workers(client: Client) -> None:
    with ScanRunner(client, "auto", "auto") as runner:
        assert (runner.device, runner.precision) == ("auto", "fp32")  # CPU workers
    with ScanRunner(client, "auto", "bf16") as runner:
        assert runner.precision == "bf16"


def test_a_worker_refuses_a_checkpoint_that_differs(tmp_path: Path) -> None:
    _study_root, net, _parc = _study(tmp_path)
    task = ScanTask(scan="sub-src000", image=tmp_path / "study/sub-src000/anat/"
                    "sub-src000_T2w.nii.gz", segmenter=Checkpoint(net, "0" * 64),
                    parcellation=None, tissue_map=None, overlap=0.5, window=None,
                    device="cpu", precision="fp32")
    with pytest.raises(InputError, match=r"net\.pt: the worker's file has SHA-256"):
        run_scan(task)


def _free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("address", ["unreachable", "nonsense://host:1"])
def test_a_bad_scheduler_address_is_one_line(tmp_path: Path, address: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    address = _free_address() if address == "unreachable" else address
    study, net, _parc = _study(tmp_path)
    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}):
        code = cli.main(["segment", str(net), "--data", str(study), "--out",
                         str(tmp_path / "out"), "--scheduler", address, "--no-progress"])
        with pytest.raises(InputError, match="cannot connect"), connect(address):
            pass
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("harmonstats segment: error: Dask scheduler") and address in err
    assert not (tmp_path / "out").exists()  # nothing written
