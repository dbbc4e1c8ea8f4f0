"""Training subjects drawn from the synthetic generator while training runs.

A study folder holds a fixed set of training subjects (the demo's: 38); the generator makes a
new one in about a second, so a run can see a new set every few epochs instead
(``data.synthetic`` in the config). Subjects are a function of the draw's seed, the draw number
(``epoch // refresh_epochs``) and the index, so a resumed run sees the same ones.
"""

from __future__ import annotations

import numpy as np
import torch
import torchio as tio

from harmonstats.models.augment import sample_seed
from harmonstats.models.config import SyntheticConfig
from harmonstats.models.data import VolumeDataset, prepare_subject
from harmonstats.synth.demographics import draw_participants
from harmonstats.synth.subject import SubjectSpec, synthesize_subject

__all__ = ["SyntheticDataset"]

_COHORT_CODE = {"source": 0, "target": 1}


class SyntheticDataset(VolumeDataset):
    """:class:`~harmonstats.models.data.VolumeDataset` whose subjects the generator draws.

    Parameters
    ----------
    synthetic : SyntheticConfig
        How many subjects per draw, how often a new draw, grid size, seed.
    cohort : {"source", "target"}
        Acquisition domain of the drawn subjects.
    task : {"tissue", "parcellation", "image"}
        As for ``VolumeDataset``.
    label_desc : {"original", "truth"}
        Which of the generator's label maps is the training label (the cohort's own pipeline's,
        as a study's ``desc-original`` files, or the true one).
    spacing : float
        Voxel size of the drawn grid and of the model (mm).
    patch_size, augment, seed
        As for ``VolumeDataset``.
    """

    def __init__(self, synthetic: SyntheticConfig, *, cohort: str, task: str, label_desc: str,
                 spacing: float, patch_size: int | None, augment: tio.Transform | None = None,
                 seed: int = 0) -> None:
        super().__init__([], task=task, spacing=spacing, patch_size=patch_size, augment=augment,
                         seed=seed, cache=False)
        if cohort not in _COHORT_CODE:
            raise ValueError(f"synthetic cohort must be 'source' or 'target', got {cohort!r}")
        if label_desc not in ("original", "truth"):
            raise ValueError(f"synthetic labels are 'original' or 'truth', got {label_desc!r}")
        self.synthetic = synthetic
        self.cohort = cohort
        self.label_desc = label_desc
        self._draw = -1
        self._subjects: dict[int, tio.Subject] = {}
        self._specs: list[SubjectSpec] = []

    def __len__(self) -> int:
        return self.synthetic.subjects

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch; a new draw of subjects every ``refresh_epochs`` epochs."""
        super().set_epoch(epoch)
        draw = epoch // self.synthetic.refresh_epochs
        if draw != self._draw:
            self._draw = draw
            self._subjects = {}
            n = self.synthetic.subjects
            rng = np.random.default_rng([self.synthetic.seed, draw, _COHORT_CODE[self.cohort]])
            table = draw_participants(n if self.cohort == "source" else 0,
                                      n if self.cohort == "target" else 0, rng)
            self._specs = [SubjectSpec(f"d{draw}x{i}", self.cohort, float(r.ga_birth),
                                       float(r.pma_scan), str(r.sex))
                           for i, r in enumerate(table.itertuples(index=False))]

    def _prepared(self, index: int) -> tio.Subject:
        if self._draw < 0:
            self.set_epoch(self.epoch)
        if index in self._subjects:
            return self._subjects[index]
        seed = sample_seed(self.synthetic.seed, self._draw, index * 2 + _COHORT_CODE[self.cohort])
        vol = synthesize_subject(self._specs[index], shape=self.synthetic.shape,
                                 spacing=self.spacing, seed=seed)
        labels = vol.truth if self.label_desc == "truth" else vol.original
        if self.task == "parcellation":
            items = {"image": tio.ScalarImage(tensor=torch.from_numpy(
                         (vol.regions > 0).astype(np.float32))[None], affine=vol.affine),
                     "label": tio.LabelMap(tensor=torch.from_numpy(vol.regions)[None],
                                           affine=vol.affine)}
            subject = tio.Subject(**items)
        else:
            items = {"image": tio.ScalarImage(tensor=torch.from_numpy(vol.t2w)[None],
                                              affine=vol.affine)}
            if self.task == "tissue":
                items["label"] = tio.LabelMap(tensor=torch.from_numpy(labels)[None],
                                              affine=vol.affine)
            subject = prepare_subject(tio.Subject(**items), self.spacing)
        self._subjects[index] = subject
        return subject
