"""Configs: the shipped YAML files load, bad ones fail with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonstats.models.config import load_config

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize(
    ("name", "method", "augment"),
    [("baseline", "baseline", False), ("baseline_aug", "baseline", True),
     ("latent", "latent", False), ("latent_aug", "latent", True),
     ("image", "image", False), ("image_aug", "image", True),
     ("parcellation", "parcellation", True), ("randomised", "randomised", True)],
)
def test_shipped_configs_load(name: str, method: str, augment: bool) -> None:
    cfg = load_config(MODELS / f"{name}.yaml")
    assert (cfg.name, cfg.method, cfg.augment.enabled) == (name, method, augment)
    assert cfg.network.channels == (16, 32, 64, 128, 256)
    assert (cfg.optim.base_lr, cfg.optim.max_lr) == (2e-6, 2e-3)
    assert (MODELS / f"{name}.md").is_file()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "a", "method": "baseline", "epoch": 3}, "unknown key 'epoch'"),
        ({"name": "a", "method": "baseline", "network": {"chanels": [1]}},
         "unknown key 'network.chanels'"),
        ({"name": "a", "method": "unet"}, "method: Input should be"),
        ({"name": "A b", "method": "baseline"}, "name: .*method name 'A b' is not allowed"),
        ({"name": "a", "method": "baseline", "data": {"patch_size": 40}},
         "not divisible by 16"),
        ({"name": "a", "method": "latent", "alpha_start_epoch": 9, "alpha_end_epoch": 3},
         "before alpha_start_epoch"),
        ({"name": "a", "method": "baseline", "select": "latent_rule"}, "latent_rule applies"),
    ],
)
def test_invalid_configs_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(raw)


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: a\nmethod: baseline\nfoo: 1\n")
    with pytest.raises(ValueError, match=r"bad\.yaml.*unknown key 'foo'"):
        load_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config(bad)


@pytest.mark.parametrize("path", sorted((MODELS / "demo").glob("*.yaml")), ids=lambda p: p.stem)
def test_demo_configs_load(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.name == path.stem
    if cfg.init_from is not None:  # relative to the repository root, where the script runs
        assert (MODELS.parent / cfg.init_from).is_file()
