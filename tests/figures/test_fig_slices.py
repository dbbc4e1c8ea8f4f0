from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from figure_counts import visible_axes

from harmonstats.figures import plot_example_slices
from harmonstats.io import save_nifti


def _volumes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 7, size=(16, 20, 18)).astype(np.uint8)
    image = (labels * 10 + rng.normal(0, 1, labels.shape)).astype(np.float32)
    return image, labels


def test_slices_from_nifti_files(tmp_path: Path, rng: np.random.Generator) -> None:
    image, labels = _volumes(rng)
    affine = np.diag([0.5, 0.5, 0.8, 1.0])
    save_nifti(image, affine, tmp_path / "t2w.nii.gz")
    paths = {}
    for k, method in enumerate(["original", "image_aug"]):
        paths[method] = tmp_path / f"{method}.nii.gz"
        save_nifti(np.roll(labels, k, axis=0), affine, paths[method])
    fig = plot_example_slices(tmp_path / "t2w.nii.gz", paths, index={"axial": 5})
    axes = visible_axes(fig)
    assert len(axes) == 2 * 3
    assert [ax.get_title() for ax in axes[:3]] == ["T2w", "original", "image_aug"]
    sagittal_original = axes[1].images[0].get_array()
    assert np.array_equal(sagittal_original, labels[8].T)
    axial_image_aug = axes[5].images[0].get_array()
    assert np.array_equal(axial_image_aug, np.roll(labels, 1, axis=0)[:, :, 5].T)
    # Aspect from the header: sagittal slice has 0.5 mm columns and 0.8 mm rows.
    assert axes[0].get_aspect() == pytest.approx(0.8 / 0.5)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["csf", "cgm", "wm", "dgm",
                                                          "cerebellum", "brainstem"]


def test_slices_fixed_colours_whatever_labels_are_present(rng: np.random.Generator) -> None:
    image, labels = _volumes(rng)
    only_wm = np.where(labels > 0, 3, 0).astype(np.uint8)
    fig = plot_example_slices(image, {"a": labels, "b": only_wm}, planes=["coronal"])
    a, b = (ax.images[0] for ax in visible_axes(fig)[1:])
    assert a.norm.vmin == b.norm.vmin and a.norm.vmax == b.norm.vmax
    assert np.allclose(a.to_rgba(3), b.to_rgba(3))


@pytest.mark.parametrize("labels, error, message", [
    ({}, ValueError, "non-empty"),
    ({"bad": np.full((16, 20, 18), 9, np.uint8)}, ValueError, "method 'bad'.*label 9"),
    ({"small": np.zeros((4, 4, 4), np.uint8)}, ValueError, "method 'small' has shape"),
    ({"flat": np.zeros((16, 20), np.uint8)}, ValueError, "3D array"),
    ({"text": "missing.nii.gz"}, FileNotFoundError, "missing.nii.gz"),
    ({"list": [1, 2, 3]}, TypeError, "method 'list'"),
])
def test_slices_reject_bad_label_maps(rng: np.random.Generator, labels: dict, error: type,
                                      message: str) -> None:
    image, _ = _volumes(rng)
    with pytest.raises(error, match=message):
        plot_example_slices(image, labels)


def test_slices_reject_bad_plane_and_index(rng: np.random.Generator) -> None:
    image, labels = _volumes(rng)
    with pytest.raises(ValueError, match="unknown plane 'oblique'"):
        plot_example_slices(image, {"a": labels}, planes=["oblique"])
    with pytest.raises(ValueError, match="outside 0-17"):
        plot_example_slices(image, {"a": labels}, planes=["axial"], index={"axial": 18})
