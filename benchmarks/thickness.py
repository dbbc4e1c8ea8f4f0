"""Cortical thickness: the ``laplace`` method against ANTs DiReCT, side by side in one process.

Prints, for spherical shells of known thickness at 0.5 mm spacing, each method's error of the
mean thickness against the analytic value; the time DiReCT/laplace on a 96^3 shell; and, on
synthetic folded brains (a study folder written by ``harmonstats.synth``), ICC(3,1) between the
two methods' subject means and each method's correlation with the generator's true thickness.

Usage::

    nice -n 10 python benchmarks/thickness.py                      # shells + timing (+ brains)
    python benchmarks/thickness.py --quick                          # DiReCT on the 3 mm shell only
    python benchmarks/thickness.py --parts brains --study DIR       # an existing study folder
    python benchmarks/thickness.py --parts brains --prob-sigma 1    # DiReCT on smoothed masks

On the brains it also prints, per subject, how many GM voxels DiReCT left at 0 (they count in
its mean) and where DiReCT and laplace differ: the mean DiReCT - laplace difference on GM where
two banks touch with no CSF between them (voxels whose laplace thickness changes by more than
0.1 mm without its bank split), on the other voxels of the frontal and occipital poles (regions
frontal_l/r, occipital_l/r of the study's region map), and on the rest of the cortex.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.cohort import Cohort
from harmonstats.io import load_nifti, read_table
from harmonstats.measures.direct import PROBABILITY_SIGMA, direct_thickness
from harmonstats.measures.laplace import laplace_thickness
from harmonstats.measures.thickness import cortical_thickness

SPACING = (0.5, 0.5, 0.5)
#: Region labels of the frontal and occipital poles (harmonstats.labels.REGIONS).
POLES = (1, 2, 10, 11)


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
               direct_only: set[float], prob_sigma: float) -> None:
    print(f"\n== spherical shells, {size}^3 at 0.5 mm, inner radius {r_inner} mm ==")
    print(f"{'T (mm)':>7} {'laplace':>9} {'err':>8} {'t (s)':>7} {'DiReCT':>9} {'err':>8} "
          f"{'t (s)':>7}")
    for t in thicknesses:
        gm, wm = shell(size, r_inner, r_inner + t)
        lap, t_lap = timed(laplace_thickness, gm, wm, SPACING)
        m_lap = float(np.nanmean(lap[gm]))
        line = f"{t:7.2f} {m_lap:9.4f} {m_lap - t:+8.4f} {t_lap:7.2f}"
        if direct and (not direct_only or t in direct_only):
            dr, t_dr = timed(direct_thickness, gm, wm, SPACING, prob_sigma=prob_sigma)
            m_dr = float(np.nanmean(dr[gm]))
            line += f" {m_dr:9.4f} {m_dr - t:+8.4f} {t_dr:7.1f}"
        print(line, flush=True)


def run_timing(size: int, direct: bool, prob_sigma: float) -> None:
    r_inner = size * SPACING[0] / 2 - 8.0
    gm, wm = shell(size, r_inner, r_inner + 3.0)
    print(f"\n== timing, {size}^3 shell at 0.5 mm (r {r_inner}-{r_inner + 3} mm, "
          f"{int(gm.sum())} GM voxels) ==")
    t_lap = min(timed(laplace_thickness, gm, wm, SPACING)[1] for _ in range(3))
    print(f"laplace: {t_lap:.3f} s (best of 3)", flush=True)
    if direct:
        dr, t_dr = timed(direct_thickness, gm, wm, SPACING, prob_sigma=prob_sigma)
        print(f"DiReCT:  {t_dr:.1f} s (mean {np.nanmean(dr[gm]):.4f} mm, true 3.0000 mm)")
        print(f"ratio DiReCT/laplace: {t_dr / t_lap:.0f}")


def run_brains(study: Path, n: int, direct: bool, prob_sigma: float) -> None:
    import pingouin as pg

    truth = read_table(study / "truth.tsv").set_index("participant_id")
    ids = list(truth.index[:n])
    print(f"\n== synthetic folded brains: {len(ids)} subjects of {study} (truth label maps); "
          f"DiReCT probability maps: sigma {prob_sigma} mm ==")
    rows = []
    cohort = Cohort.from_bids(study, methods=["truth"], check=False)
    for pid in ids:
        img = load_nifti(cohort.label_path("truth", pid))
        labels = np.asarray(img.dataobj).astype(np.int16)
        regions = np.asarray(load_nifti(cohort.region_path("truth", pid)).dataobj)
        spacing = tuple(float(z) for z in img.header.get_zooms()[:3])
        gm = labels == 2
        lap, t_lap = timed(cortical_thickness, labels, spacing)
        row = {"participant_id": pid, "truth": float(truth.at[pid, "thickness_mean"]),
               "laplace": float(np.nanmean(lap[gm])), "t_laplace": t_lap}
        if direct:
            # the same GM / WM-side masks as cortical_thickness(method="direct")
            inner = np.isin(labels, (3, 4, 5, 6))
            try:
                dr, t_dr = timed(direct_thickness, gm, inner, spacing, subject=pid,
                                 prob_sigma=prob_sigma)
                # GM where two banks touch with no CSF between them: laplace's bank split
                # changes the thickness there (by more than 0.1 mm); DiReCT has no such split
                merged = laplace_thickness(gm, inner, spacing, split_banks=False)
                banks = gm & (np.abs(lap - merged) > 0.1)
                poles = gm & ~banks & np.isin(regions, POLES)
                rest = gm & ~banks & ~poles
                diff = dr - lap
                row |= {"direct": float(np.nanmean(dr[gm])), "t_direct": t_dr,
                        "zeros": int(np.sum(dr[gm] == 0)),
                        "share_banks": float(banks.sum() / gm.sum()),
                        "diff_banks": float(np.nanmean(diff[banks])),
                        "diff_poles": float(np.nanmean(diff[poles])),
                        "diff_rest": float(np.nanmean(diff[rest]))}
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
        print(f"DiReCT - laplace (mm), mean over subjects: touching banks "
              f"{df['diff_banks'].mean():+.3f} ({df['share_banks'].mean():.0%} of GM), other "
              f"pole voxels {df['diff_poles'].mean():+.3f}, rest {df['diff_rest'].mean():+.3f}")
        print(f"GM voxels DiReCT left at 0 (counted in its means): {int(df['zeros'].sum())}")


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
    p.add_argument("--prob-sigma", type=float, default=PROBABILITY_SIGMA,
                   help="sigma (mm) of DiReCT's GM/WM probability maps; 0: binary masks")
    p.add_argument("--quick", action="store_true",
                   help="DiReCT only on the 3 mm shell; no timing at 96^3 or brains by DiReCT")
    a = p.parse_args()
    parts = {s.strip() for s in a.parts.split(",")}
    shells = [float(s) for s in a.shells.split(",")]
    direct = not a.no_direct
    if "shells" in parts:
        run_shells(shells, a.size, a.inner_radius, direct, {3.0} if a.quick else set(),
                   a.prob_sigma)
    if "timing" in parts:
        run_timing(a.timing_size, direct and not a.quick, a.prob_sigma)
    if "brains" in parts:
        if a.study is not None:
            run_brains(a.study, a.n_brains, direct and not a.quick, a.prob_sigma)
        else:
            from harmonstats.synth import synthesize_study

            with tempfile.TemporaryDirectory() as tmp:
                half = (a.n_brains + 1) // 2
                synthesize_study(Path(tmp) / "study", n_source=half, n_target=a.n_brains - half,
                                 seed=a.seed, progress=False)
                run_brains(Path(tmp) / "study", a.n_brains, direct and not a.quick,
                           a.prob_sigma)


if __name__ == "__main__":
    main()
