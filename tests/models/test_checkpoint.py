"""Checkpoints: metadata round trip, weights-only loading, mismatches and malicious pickles."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harmonstats import __version__
from harmonstats.models.apply import load_segmenter
from harmonstats.models.checkpoint import (
    ModelMetadata,
    export_model,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
)
from harmonstats.models.config import load_config
from harmonstats.models.networks import build_segmenter
from harmonstats.models.train import checkpoint_metadata

SMALL = {"network": {"channels": [4, 8, 16, 32, 64]}, "data": {"patch_size": 32}}


def _saved(tmp_path: Path, method: str = "baseline") -> tuple[Path, torch.nn.Module]:
    cfg = load_config({"name": "m", "method": method, **SMALL})
    torch.manual_seed(0)
    net = build_segmenter(cfg)
    path = save_checkpoint(tmp_path / "best.pt", models={"segmenter": net},
                           metadata=checkpoint_metadata(cfg), state={"epoch": 3})
    return path, net


def test_roundtrip_with_metadata(tmp_path: Path) -> None:
    path, net = _saved(tmp_path)
    ckpt = load_checkpoint(path)
    meta = ckpt["metadata"]
    assert meta["package_version"] == __version__
    assert meta["label_scheme"] == "tissues7" and meta["labels"][2] == "cgm"
    assert meta["spacing_mm"] == 0.5 and meta["out_channels"] == 7
    assert "z-score" in meta["normalisation"]
    loaded = load_segmenter(tmp_path)
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.network.state_dict()[k], v)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"label_scheme": "regions11"}, "label_scheme is 'tissues7', but 'regions11'"),
     ({"out_channels": 12}, "out_channels is 7, but 12"),
     ({"in_channels": 2}, "in_channels is 1, but 2")],
)
def test_mismatch_is_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    path, _ = _saved(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_segmenter(path, **kwargs)


def test_weights_that_do_not_fit_config(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    ckpt = load_checkpoint(path)
    ckpt["metadata"]["config"]["network"]["channels"] = [8, 16, 32, 64, 128]
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="do not fit"):
        load_segmenter(path)


class _Evil:
    """Unpickling this object creates a file: stands for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "harmonstats-checkpoint-1", "models": {}, "metadata": {},
                "payload": _Evil(marker)}, path)
    with pytest.raises(ValueError, match="refusing to load"):
        load_checkpoint(path)
    assert not marker.exists()
    # Control: an unrestricted unpickler does run the payload, so the refusal above is real.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a harmonstats checkpoint"):
        load_checkpoint(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "none.pt")


def test_export_keeps_the_segmenter_in_half_precision(tmp_path: Path) -> None:
    path, net = _saved(tmp_path)
    out = export_model(tmp_path, tmp_path / "small.pt")
    payload = load_checkpoint(out)
    assert set(payload["models"]) == {"segmenter"}
    assert all(v.dtype == torch.float16 for v in payload["models"]["segmenter"].values()
               if v.is_floating_point())
    assert out.stat().st_size < 0.6 * path.stat().st_size
    loaded = load_segmenter(out, label_scheme="tissues7")
    x = torch.randn(1, 1, 32, 32, 32)
    with torch.no_grad():
        ref, half = net.eval()(x), loaded.network(x)
    # float16 weights: the logits move by ~1e-3 of their scale, the labels almost never.
    assert torch.allclose(ref, half, atol=2e-2 * float(ref.abs().max()))
    assert (ref.argmax(1) == half.argmax(1)).float().mean() > 0.99


def test_metadata_is_read_through_typed_accessors(tmp_path: Path) -> None:
    cfg = load_config({"name": "net", "method": "baseline",
                       "network": {"channels": [4, 8, 16, 32, 64]}, "data": {"patch_size": 32}})
    path = save_checkpoint(tmp_path / "m.pt", models={"segmenter": build_segmenter(cfg)},
                           metadata=checkpoint_metadata(cfg))
    meta = read_metadata(path)
    assert (meta.name, meta.method, meta.label_scheme) == ("net", "baseline", "tissues7")
    assert meta.channels == [4, 8, 16, 32, 64] and meta.patch_size == 32
    assert meta.spacing_mm == cfg.data.spacing and meta.labels[2] == "cgm"
    assert meta.package_version and meta.selected is None
    exported = read_metadata(export_model(path, tmp_path / "e.pt"))
    assert exported.epochs_run == 0 and exported.extra["exported_from"] == "m.pt"
    raw = checkpoint_metadata(cfg)
    for key, value, message in (("spacing_mm", None, "lacks 'spacing_mm'"),
                                ("patch_size", "big", "'patch_size' is 'big', not of type int")):
        bad = {k: v for k, v in raw.items() if k != key}
        if value is not None:
            bad[key] = value
        with pytest.raises(ValueError, match=f"x.pt: metadata {message}|x.pt: {message}"):
            ModelMetadata.from_mapping(bad, where="x.pt")
