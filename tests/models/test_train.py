"""Training: every method learns on tiny volumes, runs are reproducible and resumable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from kill import command, kill_midway

from harmonstats.models.checkpoint import load_checkpoint
from harmonstats.models.config import load_config
from harmonstats.models.methods import alpha_schedule
from harmonstats.models.train import train

TINY = {
    "data": {"patch_size": 32},
    "network": {"channels": [4, 8, 16, 32, 64]},
    "discriminator": {"channels": [8, 16, 16, 16]},
    "optim": {"base_lr": 2e-3, "max_lr": 2e-3},
    "alpha_start_epoch": 0,
    "alpha_end_epoch": 1,
    "warmup_epochs": 1,
    "val_subjects": 1,
}


def tiny_config(method: str, **extra: object) -> dict:
    return {"name": f"tiny_{method}", "method": method, **TINY, **extra}


def read_metrics(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "metrics.tsv", sep="\t", na_values=["n/a"])


@pytest.mark.parametrize(
    ("method", "extra_columns"),
    [("baseline", []), ("latent", ["loss_adv", "loss_disc", "alpha"]),
     ("image", ["loss_adv", "loss_ncc", "loss_disc", "d_acc_real", "d_acc_fake", "ks_gm",
                "ks_csf", "ks_gm_source", "ks_csf_source"]), ("parcellation", []),
     ("randomised", [])],
)
def test_method_trains_and_loss_decreases(model_study: Path, tmp_path: Path, method: str,
                                          extra_columns: list[str]) -> None:
    cfg = load_config(tiny_config(method, epochs=3, steps_per_epoch=2))
    best = train(cfg, model_study, tmp_path / "run", device="cpu", progress=False)
    metrics = read_metrics(tmp_path / "run")
    assert list(metrics["epoch"]) == [0, 1, 2]
    assert set(extra_columns) <= set(metrics.columns)
    assert metrics["loss_seg"].iloc[-1] < metrics["loss_seg"].iloc[0]
    assert metrics["val_dice"].between(0, 1).all()
    ckpt = load_checkpoint(best)
    assert ckpt["state"]["epoch"] == int(metrics["val_dice"].idxmax())
    assert ckpt["metadata"]["out_channels"] == (12 if method == "parcellation" else 7)
    if method == "latent":
        assert metrics["domain_accuracy"].between(0, 1).all()
    for column in ("d_acc_real", "d_acc_fake", "ks_gm", "ks_csf"):
        if column in extra_columns:  # the tiny study's target subjects have labels
            assert metrics[column].between(0, 1).all(), column


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["models"]["segmenter"]


def test_same_seed_same_weights(model_study: Path, tmp_path: Path) -> None:
    raw = tiny_config("baseline", epochs=1, steps_per_epoch=2, augment={"enabled": True})
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train(load_config({**raw, "seed": seed}), model_study, tmp_path / name, device="cpu",
              progress=False)
    a, b, c = (_weights(tmp_path / n / "last.pt") for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resume_after_kill(model_study: Path, tmp_path: Path) -> None:
    """SIGKILL ``harmonstats train`` at a random moment: the rerun resumes after the last
    finished epoch (those are not redone) and ends with the weights of an uninterrupted run."""
    raw = tiny_config("baseline", epochs=6, steps_per_epoch=2, augment={"enabled": True})
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(raw))
    run = tmp_path / "killed"
    rng = np.random.default_rng(3)
    epochs_done = int(rng.integers(1, 4))

    def ready() -> bool:
        metrics = run / "metrics.tsv"
        return metrics.is_file() and len(metrics.read_text().splitlines()) > epochs_done

    kill_midway(command("train", str(cfg_path), "--data", str(model_study), "--out", str(run),
                        "--device", "cpu", "--no-progress"),
                ready=ready, delay=float(rng.uniform(0, 0.5)))
    visible = {p.name for p in run.iterdir() if not p.name.startswith(".")}
    assert visible <= {"best.pt", "config.yaml", "last.pt", "metrics.json", "metrics.tsv"}
    # last.pt, written last, says which epochs are finished (none if killed before the first)
    kept = (load_checkpoint(run / "last.pt")["state"] if (run / "last.pt").is_file()
            else {"epoch": -1, "history": []})
    assert kept["epoch"] < 5, "the run must be killed midway"
    train(cfg_path, model_study, run, device="cpu", progress=False)
    resumed = read_metrics(run)
    assert list(resumed["epoch"]) == list(range(6))
    # the epochs finished before the kill were not redone: their rows, timings included, stay
    pd.testing.assert_frame_equal(resumed.iloc[: kept["epoch"] + 1],
                                  pd.DataFrame(kept["history"]), check_dtype=False)
    train(cfg_path, model_study, tmp_path / "straight", device="cpu", progress=False)
    straight = read_metrics(tmp_path / "straight")
    pd.testing.assert_frame_equal(resumed.drop(columns="seconds"),
                                  straight.drop(columns="seconds"), rtol=1e-5)
    for name in ("last.pt", "best.pt"):
        a, b = _weights(run / name), _weights(tmp_path / "straight" / name)
        for k in b:
            torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_resume_refuses_other_config(model_study: Path, tmp_path: Path) -> None:
    train(load_config(tiny_config("baseline", epochs=1, steps_per_epoch=1)), model_study,
          tmp_path, device="cpu", progress=False)
    with pytest.raises(ValueError, match="different config"):
        train(load_config(tiny_config("baseline", epochs=2, steps_per_epoch=1)), model_study,
              tmp_path, device="cpu", progress=False)


def test_latent_rule_keeps_no_epoch_above_accuracy(model_study: Path, tmp_path: Path) -> None:
    cfg = load_config(tiny_config("latent", epochs=1, steps_per_epoch=1, select="latent_rule",
                                  max_domain_accuracy=0.01))
    with pytest.warns(UserWarning, match="no epoch met the selection rule"):
        best = train(cfg, model_study, tmp_path, device="cpu", progress=False)
    assert not best.exists()
    assert read_metrics(tmp_path)["selected"].sum() == 0


def test_select_last_keeps_every_epoch(model_study: Path, tmp_path: Path) -> None:
    cfg = load_config(tiny_config("baseline", epochs=2, steps_per_epoch=1, select="last"))
    best = train(cfg, model_study, tmp_path, device="cpu", progress=False)
    assert read_metrics(tmp_path)["selected"].tolist() == [1, 1]
    assert load_checkpoint(best)["state"]["epoch"] == 1


@pytest.mark.parametrize(("epoch", "expected"), [(0, 0.0), (19, 0.0), (20, 0.0), (35, 0.025),
                                                 (50, 0.05), (99, 0.05)])
def test_alpha_ramp(epoch: int, expected: float) -> None:
    cfg = load_config({"name": "a", "method": "latent"})
    assert alpha_schedule(epoch, cfg) == pytest.approx(expected)


def test_missing_target_cohort(model_study: Path, tmp_path: Path) -> None:
    cfg = load_config(tiny_config("latent", epochs=1, data={"patch_size": 32,
                                                            "target_cohort": "other"}))
    with pytest.raises(ValueError, match="needs target-cohort"):
        train(cfg, model_study, tmp_path, device="cpu", progress=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_data_parallel_two_gloo_processes(model_study: Path, tmp_path: Path) -> None:
    raw = tiny_config("latent", epochs=2)
    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump(raw))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_port", str(_free_port()), "-m", "harmonstats.models.cli_train", str(cfg_path),
         "--data", str(model_study), "--out", str(tmp_path / "ddp"), "--device", "cpu",
         "--no-progress"], env=env, capture_output=True, text=True, timeout=240)
    # A run whose replicas diverged (gradients not averaged) fails its final check.
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = read_metrics(tmp_path / "ddp")
    assert list(metrics["epoch"]) == [0, 1]
    assert (tmp_path / "ddp" / "last.pt").is_file()


def test_image_method_without_pool_and_with_authors_variant(model_study: Path,
                                                            tmp_path: Path) -> None:
    raw = tiny_config("image", epochs=2, steps_per_epoch=1, pool_size=0)
    raw["network"] = {**raw["network"], "block_order": "conv_act_norm", "upsample": "trilinear",
                      "half_first": True}
    train(load_config(raw), model_study, tmp_path, device="cpu", progress=False)
    assert list(read_metrics(tmp_path)["epoch"]) == [0, 1]


def test_init_from_starts_segmenter_from_another_run(model_study: Path, tmp_path: Path) -> None:
    from harmonstats.models.checkpoint import export_model
    from harmonstats.models.methods import build_method
    from harmonstats.models.networks import build_segmenter
    from harmonstats.models.train import checkpoint_metadata, init_modules

    train(load_config(tiny_config("baseline", epochs=1, steps_per_epoch=1)), model_study,
          tmp_path / "base", device="cpu", progress=False)
    exported = export_model(tmp_path / "base", tmp_path / "base.pt")
    cfg = load_config(tiny_config("image", epochs=1, steps_per_epoch=1,
                                  init_from=str(exported)))
    seg = build_segmenter(cfg)
    assert init_modules({"segmenter": seg}, exported, checkpoint_metadata(cfg)) == ["segmenter"]
    half = _weights(exported)
    for k, v in seg.state_dict().items():
        assert v.dtype == torch.float32
        torch.testing.assert_close(v, half[k].float(), rtol=0, atol=0)
    # the run trains from there
    best = train(cfg, model_study, tmp_path / "image", device="cpu", progress=False)
    assert load_checkpoint(best)["metadata"]["config"]["init_from"] == str(exported)
    # a run folder (its best.pt) of the same method also hands over its generator and
    # discriminator
    more = load_config(tiny_config("image", epochs=1, steps_per_epoch=1,
                                   init_from=str(tmp_path / "image")))
    method = build_method(more, torch.device("cpu"))
    assert init_modules(method.modules, tmp_path / "image", checkpoint_metadata(more)) == [
        "segmenter", "generator", "discriminator"]
    full = load_checkpoint(best)["models"]
    for name in ("generator", "discriminator"):
        for k, v in method.modules[name].state_dict().items():
            assert torch.equal(v, full[name][k])

    wider = load_config(tiny_config("baseline", network={"channels": [8, 8, 16, 32, 64]}))
    with pytest.raises(ValueError, match="network"):
        init_modules({"segmenter": build_segmenter(wider)}, tmp_path / "base",
                     checkpoint_metadata(wider))
    parc = load_config(tiny_config("parcellation"))
    with pytest.raises(ValueError, match="label_scheme"):
        init_modules({"segmenter": build_segmenter(parc)}, exported, checkpoint_metadata(parc))
    with pytest.raises(FileNotFoundError):
        init_modules({"segmenter": seg}, tmp_path / "missing.pt", checkpoint_metadata(cfg))
