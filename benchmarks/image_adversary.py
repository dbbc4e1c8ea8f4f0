"""Does the image model's discriminator still win outright? Curves of two real training runs.

Trains the demo's image model (``models/demo/image_aug.yaml``, starting from the shipped
``baseline_aug`` segmenter) twice on the demo training study, for ``--epochs`` epochs each:

* ``before``: the paper's image model (a Tanh U-Net generator from a random start; generator
  and discriminator at lr 2e-3, the segmenter's; D with instance norms; no stabilisation), as
  the demo shipped it until the discriminator was reworked;
* ``after``: the demo's image model as it ships now (``adversary:``, ``discriminator:``,
  ``gen_lr`` and ``ncc_*`` in ``models/demo/image_aug.yaml``): an acquisition generator (a
  learned contrast curve, per-axis blur and noise, starting near the identity; no NCC term),
  the generated image normalised as every input image is and trained by D only, D at the
  authors' lr (2e-4) without instance norms (which would remove the target's lower contrast),
  the image pool, one-sided label smoothing (real target 0.9) and instance noise (SD 0.05
  decaying to 0); ``--after`` JSON changes any of it.

Each epoch's validation writes to ``metrics.tsv`` the discriminator's accuracy on real target
crops and on generated source crops (``d_acc_real``, ``d_acc_fake``), and the Kolmogorov-Smirnov
distance of the generated source images' cortical GM and CSF intensities to the target's
(``ks_gm``, ``ks_csf``; the untranslated source's distance ``ks_*_source`` is the reference).
The script prints them per epoch and draws both curves to
``benchmarks/results/image_adversary.png``.

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/image_adversary.py --epochs 10
    python benchmarks/image_adversary.py --plot-only      # redraw from the runs' metrics.tsv
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
BEFORE: dict[str, Any] = {"gen_lr": 2e-3, "gen_weight_decay": 0.0,
                          "discriminator": {"lr": 2e-3, "norm": "instance"}}
AFTER: dict[str, Any] = {}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def configs(epochs: int, after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The two configurations: the demo's image_aug with the discriminator before and after."""
    base = yaml.safe_load((ROOT / "models/demo/image_aug.yaml").read_text())
    base["epochs"] = epochs
    base["init_from"] = str(ROOT / "models/demo/baseline_aug.pt")
    # the paper's defaults: no adversary options, the NCC term at its weights
    paper = {k: v for k, v in base.items()
             if k not in ("adversary", "ncc_weight", "ncc_warmup_weight")}
    return {"before": _merge(paper, {**BEFORE, "name": "image_aug_before"}),
            "after": _merge(base, {**after, "name": "image_aug_after"})}


def plot(runs: dict[str, pd.DataFrame], out: Path) -> None:
    """Discriminator accuracy and intensity distance per epoch, one line style per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_d, ax_ks) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    styles: dict[str, Any] = {"before": "--", "after": "-"}
    extra = iter(["-.", ":", (0, (3, 1, 1, 1)), (0, (5, 2))])
    for name, m in runs.items():
        ls = styles.get(name) or next(extra, ":")
        ax_d.plot(m["epoch"] + 1, m["d_acc_real"], ls, color="tab:blue", label=f"{name}: real")
        ax_d.plot(m["epoch"] + 1, m["d_acc_fake"], ls, color="tab:red",
                  label=f"{name}: generated")
        ax_ks.plot(m["epoch"] + 1, m["ks_gm"], ls, color="tab:green", label=f"{name}: cortical GM")
        ax_ks.plot(m["epoch"] + 1, m["ks_csf"], ls, color="tab:purple", label=f"{name}: CSF")
    first = next(iter(runs.values()))
    ax_ks.axhline(first["ks_gm_source"].iloc[0], color="tab:green", lw=0.8, alpha=0.5)
    ax_ks.axhline(first["ks_csf_source"].iloc[0], color="tab:purple", lw=0.8, alpha=0.5)
    ax_d.set(xlabel="epoch", ylabel="discriminator accuracy (patches)", ylim=(0, 1.02),
             title="Discriminator on validation crops")
    ax_ks.set(xlabel="epoch", ylabel="KS distance to the target", ylim=(0, None),
              title="Generated source vs target intensities\n(thin lines: untranslated source)")
    ax_d.legend(fontsize=8)
    ax_ks.legend(fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/train"),
                   help="training study (made as scripts/train_demo_models.sh makes it)")
    p.add_argument("--runs", type=Path, default=Path("runs/image_adversary"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--after", type=json.loads, default=AFTER,
                   help="JSON of the options of the 'after' run (default: %(default)s)")
    p.add_argument("--only", nargs="*", default=["before", "after"],
                   help="which of before and after to train (none: only the --also runs)")
    p.add_argument("--plot-only", action="store_true")
    p.add_argument("--also", nargs="+", default=[], metavar="NAME=RUN_DIR",
                   help="further training runs of the image method to print and draw, e.g. "
                        "image_aug=runs/demo/image_aug (the shipped demo model's run)")
    p.add_argument("--figure", type=Path, default=Path("benchmarks/results/image_adversary.png"))
    a = p.parse_args()
    cfgs = configs(a.epochs, a.after)
    if not a.plot_only:
        if not (a.data / "participants.tsv").is_file():
            subprocess.run([sys.executable, "-m", "harmonstats", "synth", "--out", str(a.data),
                            "--n-source", "48", "--n-target", "48", "--shape", "64",
                            "--spacing", "0.5", "--seed", "1", "--jobs", "2"], check=True)
        from harmonstats.models.config import load_config
        from harmonstats.models.train import train

        for name in a.only:
            train(load_config(cfgs[name]), a.data, a.runs / name, progress=False)
    dirs = {name: a.runs / name for name in a.only}
    for item in a.also:
        name, sep, path = item.partition("=")
        if not sep or not (Path(path) / "metrics.tsv").is_file():
            raise SystemExit(f"--also {item!r}: expected NAME=RUN_DIR with a metrics.tsv")
        dirs[name] = Path(path)
    runs = {name: pd.read_csv(d / "metrics.tsv", sep="\t", na_values=["n/a"])
            for name, d in dirs.items() if (d / "metrics.tsv").is_file()}
    columns = ["epoch", "loss_disc", "loss_adv", "d_acc_real", "d_acc_fake", "ks_gm", "ks_csf",
               "ks_gm_source", "ks_csf_source", "val_dice"]
    for name, m in runs.items():
        cfg = cfgs.get(name) or yaml.safe_load((dirs[name] / "config.yaml").read_text())
        shown = {k: v for k, v in cfg.items() if k in ("gen_lr", "discriminator", "adversary")}
        print(f"\n== {name}: {json.dumps(shown)}")
        print(m[[c for c in columns if c in m]].round(4).to_string(index=False))
    if runs:
        plot(runs, a.figure)
        print(f"\nfigure: {a.figure}")


if __name__ == "__main__":
    main()
