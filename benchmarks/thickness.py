"""Cortical thickness: the ``laplace`` method against ANTs DiReCT, side by side in one process.

Prints, for spherical shells of known thickness at 0.5 mm spacing, each method's error of the
mean thickness against the analytic value; the time DiReCT/laplace on a 96^3 shell; and, on
synthetic folded brains (a study folder written by ``harmonstats.synth``), ICC(3,1) between the
two methods' subject means and each method's correlation with the generator's true thickness.

Usage::

    nice -n 10 python benchmarks/thickness.py                      # shells + timing (+ brains)
    python benchmarks/thickness.py --quick                          # DiReCT on the 3 mm shell only
    python benchmarks/thickness.py --parts brains --study DIR       # an existing study folder
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.io import load_nifti, read_table
from harmonstats.measures.direct import direct_thickness
from harmonstats.measures.laplace import laplace_thickness
from harmonstats.measures.thickness import cortical_thickness

SPACING = (0.5, 0.5, 0.5)


def shell(n: int, r_inner: float, r_outer: float) -> tuple[np.ndarray, np.ndarray]:
    """GM (r_inner <= r < r_outer, mm) and WM (r < r_inner) masks of an n^3 grid at 0.5 mm."""
    c = (np.arange(n) - (n - 1) / 2) * SPACING[0]
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    r = np.sqrt(x**2 + y**2 + z**2)
    return (r >= r_inner) & (r < r_outer), r < r_inner


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def run_shells(thicknesses: list[float], size: int, r_inner: float, direct: bool,
               direct_only: set[float]) -> None:
    print(f"\n== spherical shells, {size}^3 at 0.5 mm, inner radius {r_inner} mm ==")
    print(f"{'T (mm)':>7} {'laplace':>9} {'err':>8} {'t (s)':>7} {'DiReCT':>9} {'err':>8} "
          f"{'t (s)':>7}")
    for t in thicknesses:
        gm, wm = shell(size, r_inner, r_inner + t)
        lap, t_lap = timed(laplace_thickness, gm, wm, SPACING)
        m_lap = float(np.nanmean(lap[gm]))
        line = f"{t:7.2f} {m_lap:9.4f} {m_lap - t:+8.4f} {t_lap:7.2f}"
        if direct and (not direct_only or t in direct_only):
            dr, t_dr = timed(direct_thickness, gm, wm, SPACING)
            m_dr = float(np.nanmean(dr[gm]))
            line += f" {m_dr:9.4f} {m_dr - t:+8.4f} {t_dr:7.1f}"
        print(line, flush=True)


def run_timing(size: int, direct: bool) -> None:
    r_inner = size * SPACING[0] / 2 - 8.0
    gm, wm = shell(size, r_inner, r_inner + 3.0)
    print(f"\n== timing, {size}^3 shell at 0.5 mm (r {r_inner}-{r_inner + 3} mm, "
          f"{int(gm.sum())} GM voxels) ==")
    t_lap = min(timed(laplace_thickness, gm, wm, SPACING)[1] for _ in range(3))
    print(f"laplace: {t_lap:.3f} s (best of 3)", flush=True)
    if direct:
        dr, t_dr = timed(direct_thickness, gm, wm, SPACING)
        print(f"DiReCT:  {t_dr:.1f} s (mean {np.nanmean(dr[gm]):.4f} mm, true 3.0000 mm)")
        print(f"ratio DiReCT/laplace: {t_dr / t_lap:.0f}")


def run_brains(study: Path, n: int, direct: bool) -> None:
    import pingouin as pg

    truth = read_table(study / "truth.tsv").set_index("participant_id")
    ids = list(truth.index[:n])
    print(f"\n== synthetic folded brains: {len(ids)} subjects of {study} (truth label maps) ==")
    rows = []
    for pid in ids:
        path = study / f"sub-{pid}" / "anat" / f"sub-{pid}_desc-truth_dseg.nii.gz"
        img = load_nifti(path)
        labels = np.asarray(img.dataobj).astype(np.int16)
        spacing = tuple(float(z) for z in img.header.get_zooms()[:3])
        gm = labels == 2
        lap, t_lap = timed(cortical_thickness, labels, spacing)
        row = {"participant_id": pid, "truth": float(truth.at[pid, "thickness_mean"]),
               "laplace": float(np.nanmean(lap[gm])), "t_laplace": t_lap}
        if direct:
            try:
                dr, t_dr = timed(cortical_thickness, labels, spacing, method="direct")
                row |= {"direct": float(np.nanmean(dr[gm])), "t_direct": t_dr}
            except ValueError as exc:
                print(f"  {pid}: {exc}")
                row |= {"direct": float("nan"), "t_direct": float("nan")}
        rows.append(row)
        print("  " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in row.items()) + f"  shape={labels.shape}", flush=True)
    df = pd.DataFrame(rows)
    for m in ("laplace", "direct"):
        if m in df:
            r = np.corrcoef(df[m], df["truth"])[0, 1]
            bias = float((df[m] - df["truth"]).mean())
            print(f"{m}: r with true thickness = {r:.3f}; mean bias {bias:+.3f} mm; "
                  f"mean time {df['t_' + m].mean():.2f} s")
    if "direct" in df:
        df = df.dropna(subset=["direct"])
        long = df.melt(id_vars="participant_id", value_vars=["laplace", "direct"],
                       var_name="method", value_name="thickness")
        icc = pg.intraclass_corr(long, targets="participant_id", raters="method",
                                 ratings="thickness").set_index("Type")
        ci = "CI95%" if "CI95%" in icc.columns else "CI95"
        # pingouin >= 0.6 names ICC(3,1) "ICC(C,1)" (consistency) and ICC(2,1) "ICC(A,1)"
        c1 = "ICC3" if "ICC3" in icc.index else "ICC(C,1)"
        a1 = "ICC2" if "ICC2" in icc.index else "ICC(A,1)"
        print(f"ICC(3,1) laplace vs DiReCT: {icc.at[c1, 'ICC']:.3f} (95% CI {icc.at[c1, ci]})")
        print(f"ICC(2,1) (absolute agreement): {icc.at[a1, 'ICC']:.3f} "
              f"(95% CI {icc.at[a1, ci]})")
        print(f"Pearson r laplace vs DiReCT: {np.corrcoef(df['laplace'], df['direct'])[0, 1]:.3f}")
        ratio = df["t_direct"].mean() / df["t_laplace"].mean()
        print(f"ratio of mean times DiReCT/laplace: {ratio:.0f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", default="shells,timing,brains",
                   help="comma-separated parts: shells, timing, brains")
    p.add_argument("--shells", default="1.5,2,2.5,3,3.5,4", help="shell thicknesses (mm)")
    p.add_argument("--size", type=int, default=64, help="grid size of the shells")
    p.add_argument("--inner-radius", type=float, default=8.0, help="shell inner radius (mm)")
    p.add_argument("--timing-size", type=int, default=96, help="grid size of the timing shell")
    p.add_argument("--study", type=Path, default=None,
                   help="study folder with truth.tsv (default: synthesize one)")
    p.add_argument("--n-brains", type=int, default=8, help="number of synthetic brains")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthesized study")
    p.add_argument("--no-direct", action="store_true", help="skip DiReCT everywhere")
    p.add_argument("--quick", action="store_true",
                   help="DiReCT only on the 3 mm shell; no timing at 96^3 or brains by DiReCT")
    a = p.parse_args()
    parts = {s.strip() for s in a.parts.split(",")}
    shells = [float(s) for s in a.shells.split(",")]
    direct = not a.no_direct
    if "shells" in parts:
        run_shells(shells, a.size, a.inner_radius, direct, {3.0} if a.quick else set())
    if "timing" in parts:
        run_timing(a.timing_size, direct and not a.quick)
    if "brains" in parts:
        if a.study is not None:
            run_brains(a.study, a.n_brains, direct and not a.quick)
        else:
            from harmonstats.synth import synthesize_study

            with tempfile.TemporaryDirectory() as tmp:
                half = (a.n_brains + 1) // 2
                synthesize_study(Path(tmp) / "study", n_source=half, n_target=a.n_brains - half,
                                 seed=a.seed, progress=False)
                run_brains(Path(tmp) / "study", a.n_brains, direct and not a.quick)


if __name__ == "__main__":
    main()
