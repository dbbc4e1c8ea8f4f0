"""Training configurations: one YAML file per model, validated on load (unknown keys refused)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from harmonstats.errors import InputError
from harmonstats.io import read_yaml
from harmonstats.layout.names import method_name

__all__ = [
    "AdversaryConfig",
    "AugmentConfig",
    "ComputeConfig",
    "DataConfig",
    "DiscriminatorConfig",
    "NetworkConfig",
    "OptimConfig",
    "RandomiseConfig",
    "SyntheticConfig",
    "TrainConfig",
    "load_config",
]

Method = Literal["baseline", "latent", "image", "parcellation", "randomised"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Strict):
    """The U-Net; defaults are the paper's, the authors' choices are options."""

    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    block_order: Literal["conv_norm_act", "conv_act_norm"] = "conv_norm_act"
    upsample: Literal["transposed", "trilinear"] = "transposed"
    half_first: bool = False
    negative_slope: float = Field(default=0.2, ge=0.0)
    encoder_units: tuple[int, ...] | None = Field(
        default=None, description="convolution units per encoder level, shallowest first, the "
                                  "last the centre; 2 each when unset (authors: 2, 1, 1, 1, 2)")
    decoder_units: tuple[int, ...] | None = Field(
        default=None, description="convolution units per decoder level, shallowest first; 2 "
                                  "each when unset (authors: 2, 1, 1, 1)")

    @model_validator(mode="after")
    def _check_units(self) -> NetworkConfig:
        n = len(self.channels)
        for key, units, want in (("encoder_units", self.encoder_units, n),
                                 ("decoder_units", self.decoder_units, n - 1)):
            if units is not None and (len(units) != want or min(units) < 1):
                raise ValueError(f"network.{key} {list(units)}: need {want} values >= 1, one "
                                 f"per level of channels {list(self.channels)}")
        return self


class ComputeConfig(_Strict):
    """How the arithmetic runs (speed, not results: see ``benchmarks/models.py``)."""

    precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto", description="bf16 = mixed precision; auto: bf16 on CUDA and on a CPU "
                                    "with native bfloat16 (AVX512-BF16, AMX), else fp32")
    channels_last: bool = Field(default=False, description="channels-last 3D memory layout")
    optimizer: Literal["fused", "foreach", "loop"] = Field(
        default="fused", description="Adam's update kernel (same numbers up to rounding)")
    compile: bool = Field(default=False, description="torch.compile the networks")


class DiscriminatorConfig(_Strict):
    """The PatchGAN discriminator of the domain-adaptation models."""

    channels: tuple[int, ...] = (64, 128, 256, 512)
    kernel_size: int | None = Field(
        default=None, ge=1, description="4 (image) / 3 (latent) when unset"
    )
    strides: tuple[int, ...] | None = None
    lr: float = Field(default=2e-3, gt=0.0)
    betas: tuple[float, float] = (0.5, 0.999)
    norm: Literal["instance", "none"] = Field(
        default="instance", description="normalisation after each convolution but the first "
                                        "(pix2pix: instance); none leaves D every feature "
                                        "map's level (use with adversary.spectral_norm)")


class AdversaryConfig(_Strict):
    """What keeps a discriminator from winning outright (``benchmarks/image_adversary.py``).

    With the defaults the discriminator is trained as in the paper. ``real_label``,
    ``instance_noise``, ``seg_through_generator``, ``residual_generator`` and
    ``normalise_generated`` apply to the image model; ``spectral_norm`` and ``d_every`` to both
    adaptation models.
    """

    real_label: float = Field(
        default=1.0, gt=0.0, le=1.0,
        description="LSGAN target of real images in D's loss (one-sided label smoothing: 0.9)")
    instance_noise: float = Field(
        default=0.0, ge=0.0, description="SD of Gaussian noise added to every image D sees (real "
                                         "and generated, in [-1, 1] units), decaying linearly "
                                         "to 0 over instance_noise_epochs")
    instance_noise_epochs: int | None = Field(
        default=None, ge=1, description="epochs of instance-noise decay; the whole run if unset")
    spectral_norm: bool = Field(
        default=False, description="spectral normalisation of D's convolutions (Miyato 2018)")
    d_every: int = Field(default=1, ge=1, description="update D on every n-th step only")
    seg_through_generator: bool = Field(
        default=True,
        description="image model: the segmentation loss on generated images also trains the "
                    "generator (the paper); false: the generator learns from D and NCC only, "
                    "so it cannot make images easier to segment instead of target-like")
    residual_generator: bool = Field(
        default=False,
        description="image model: the generator adds its U-Net's output to its input, the "
                    "U-Net's last convolution starting at zero, so that it starts as the "
                    "identity and the adversary moves it from the source image (the paper: a "
                    "Tanh U-Net from a random start, which the NCC term pulls to an affine copy "
                    "of its input); use with normalise_generated")
    acquisition_generator: bool = Field(
        default=False,
        description="image model: the generator re-acquires its input with a learned contrast "
                    "curve, per-axis blur and noise (models/acquisition_generator.py) instead of "
                    "drawing a new image with a U-Net; use with normalise_generated")
    normalise_generated: bool = Field(
        default=False,
        description="image model: the generated image goes through the normalisation of every "
                    "input image (z-scored within the input's brain, rescaled to [-1, 1], the "
                    "background at -1), so that it cannot differ from a real one by a global "
                    "scale (which the NCC term ignores) or by a background tanh never quite "
                    "reaches")

    @model_validator(mode="after")
    def _check_generator(self) -> AdversaryConfig:
        if self.residual_generator and self.acquisition_generator:
            raise InputError("adversary: residual_generator and acquisition_generator are two "
                             "different generators; set one of them")
        return self


class AugmentConfig(_Strict):
    """TorchIO augmentation, drawn anew for every sample."""

    enabled: bool = False
    affine_degrees: float = Field(default=10.0, ge=0.0, description="rotation U(-d, d), degrees")
    affine_scales: tuple[float, float] = (0.8, 1.2)
    affine_p: float = Field(default=1.0, ge=0.0, le=1.0)
    motion_degrees: float = Field(default=2.0, ge=0.0)
    motion_translation: float = Field(default=2.0, ge=0.0, description="mm")
    motion_p: float = Field(default=0.5, ge=0.0, le=1.0)
    spike_p: float = Field(default=0.5, ge=0.0, le=1.0)
    bias_field_p: float = Field(default=0.5, ge=0.0, le=1.0)
    intensity: bool = Field(
        default=True, description="motion, spike and bias field (off for parcellation)"
    )


class RandomiseConfig(_Strict):
    """The ``randomised`` method: how each training image is drawn from its label map.

    Ranges of uniform draws; see :mod:`harmonstats.models.randomise`.
    """

    mean_range: tuple[float, float] = Field(
        default=(0.05, 1.0), description="mean intensity of each tissue, drawn independently")
    std_range: tuple[float, float] = Field(
        default=(0.0, 0.1), description="within-tissue SD, drawn per tissue")
    max_inplane_mm: float = Field(
        default=1.2, gt=0.0, description="slab thickness of every axis drawn up to this (mm)")
    max_slice_mm: float = Field(
        default=3.0, gt=0.0, description="one axis' slab thickness drawn up to this (mm)")
    thick_slice_p: float = Field(default=0.7, ge=0.0, le=1.0,
                                 description="probability of a thick-slice axis")
    min_step_fraction: float = Field(
        default=0.5, gt=0.0, le=1.0,
        description="slab spacing / thickness drawn from [this, 1] (below 1: overlapping slabs)")
    bias_coefficients: float = Field(default=0.5, ge=0.0, description="TorchIO bias field")
    bias_p: float = Field(default=0.8, ge=0.0, le=1.0)
    log_gamma: float = Field(default=0.3, ge=0.0, description="gamma = exp(U(-g, g))")
    max_noise: float = Field(default=0.05, ge=0.0,
                             description="noise SD drawn from [0, this] (tissue means in [0, 1])")
    motion_p: float = Field(default=0.2, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _check_ranges(self) -> RandomiseConfig:
        for key in ("mean_range", "std_range"):
            lo, hi = getattr(self, key)
            if not 0.0 <= lo <= hi:
                raise ValueError(f"randomise.{key} {[lo, hi]}: need 0 <= low <= high")
        return self


class SyntheticConfig(_Strict):
    """Training subjects drawn from the synthetic generator as training goes.

    Instead of the study's training subjects, each refresh draws ``subjects`` new source
    subjects (and as many target subjects for the adaptation methods) with
    :func:`harmonstats.synth.synthesize_subject`; validation stays on the study's files.
    """

    subjects: int = Field(ge=1, description="subjects per cohort in each draw")
    refresh_epochs: int = Field(default=1, ge=1, description="a new draw every this many epochs")
    shape: int = Field(default=64, ge=32, description="grid edge of the drawn subjects, voxels")
    seed: int = Field(default=0, ge=0, description="seed of the draws (with the epoch)")


class DataConfig(_Strict):
    """What is read from the study folder and how it is prepared."""

    label_desc: str = Field(
        default="original", description="training labels: sub-<id>_desc-<this>_dseg"
    )
    label_scheme: str = "tissues7"
    spacing: float = Field(
        default=0.5, gt=0.0, description="isotropic voxel size the model works at, mm"
    )
    patch_size: int = Field(default=128, ge=16, description="training crop edge, voxels")
    cache: bool = Field(default=True, description="keep prepared volumes in memory")
    source_cohort: str = "source"
    target_cohort: str = "target"
    synthetic: SyntheticConfig | None = Field(
        default=None, description="train on freshly drawn synthetic subjects (validation: study)")


class OptimConfig(_Strict):
    """Adam with the paper's cyclical learning rate."""

    base_lr: float = Field(default=2e-6, gt=0.0)
    max_lr: float = Field(default=2e-3, gt=0.0)
    cycle_mode: Literal["triangular", "triangular2", "exp_range"] = "triangular2"
    step_size_up: int | None = Field(
        default=None, ge=1, description="epochs; epochs // 6 when unset"
    )
    weight_decay: float = Field(default=0.0, ge=0.0)


class TrainConfig(_Strict):
    """One model's training run.

    ``method`` picks the setup: ``baseline`` (source only, generalised Dice), ``latent``
    (adversarial DA on decoder features), ``image`` (generator + segmenter + LSGAN discriminator),
    ``randomised`` (source label maps only, each image rendered with random contrast,
    resolution and artefacts) or ``parcellation`` (cortical GM mask -> 11 regions).
    """

    name: Annotated[str, AfterValidator(method_name)]
    method: Method
    seed: int = 0
    epochs: int = Field(default=100, ge=1)
    steps_per_epoch: int | None = Field(
        default=None, ge=1, description="default: one pass over sources"
    )
    batch_size: int = Field(default=1, ge=1)
    val_subjects: int | None = Field(default=None, ge=1, description="cap on validation volumes")
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    adversary: AdversaryConfig = Field(default_factory=AdversaryConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    randomise: RandomiseConfig = Field(default_factory=RandomiseConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    seg_ce_weight: float = Field(
        default=0.0, ge=0.0, description="cross-entropy added to the GDL (0: the paper's GDL)"
    )
    alpha_max: float = Field(default=0.05, ge=0.0, description="latent: final adversarial weight")
    alpha_start_epoch: int = Field(default=20, ge=0)
    alpha_end_epoch: int = Field(default=50, ge=0)
    select: Literal["val_dice", "latent_rule", "last"] = Field(
        default="val_dice",
        description="which epoch best.pt keeps: the best source validation Dice; latent_rule: "
                    "the best among epochs of domain accuracy < max_domain_accuracy; last: the "
                    "final epoch (adaptation models: source Dice cannot see the target, and "
                    "prefers the epochs before the adaptation)")
    max_domain_accuracy: float = Field(default=0.8, gt=0.0, le=1.0)
    ncc_weight: float = Field(default=10.0, ge=0.0)
    ncc_warmup_weight: float = Field(
        default=10000.0, ge=0.0, description="lambda_ncc in warm-up epochs"
    )
    warmup_epochs: int = Field(
        default=5, ge=0, description="image: segmenter sees real sources only"
    )
    pool_size: int = Field(default=50, ge=0, description="image: pool of generated images for D")
    gen_lr: float = Field(
        default=2e-3, gt=0.0, description="image: generator Adam lr (authors: 2e-4)"
    )
    gen_weight_decay: float = Field(
        default=0.0, ge=0.0, description="image: G and D (authors: 1e-5)"
    )
    sw_overlap: float = Field(default=0.5, ge=0.0, lt=1.0, description="sliding-window overlap")
    init_from: str | None = Field(
        default=None,
        description="checkpoint (.pt, exported or not, or a run folder) whose segmenter weights "
                    "start the run instead of a random initialisation (and its generator and "
                    "discriminator, from a full checkpoint of the same method); relative paths "
                    "are from the working directory",
    )

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.alpha_end_epoch < self.alpha_start_epoch:
            raise InputError(
                f"alpha_end_epoch ({self.alpha_end_epoch}) is before alpha_start_epoch "
                f"({self.alpha_start_epoch})"
            )
        if self.optim.max_lr < self.optim.base_lr:
            raise InputError(
                f"optim.max_lr ({self.optim.max_lr}) is below optim.base_lr ({self.optim.base_lr})"
            )
        divisor = 2 ** (len(self.network.channels) - 1)
        if self.data.patch_size % divisor:
            raise InputError(
                f"data.patch_size {self.data.patch_size} is not divisible by {divisor} "
                f"(the U-Net has {len(self.network.channels)} levels)"
            )
        if self.data.synthetic is not None and self.data.label_desc not in ("original", "truth"):
            raise ValueError(f"data.synthetic draws 'original' or 'truth' labels, not "
                             f"data.label_desc {self.data.label_desc!r}")
        if self.select == "latent_rule" and self.method != "latent":
            raise InputError("select: latent_rule applies to method 'latent' only")
        return self

    @property
    def out_channels(self) -> int:
        """Classes the segmenter predicts (7 tissues, or 12 for parcellation)."""
        return 12 if self.method == "parcellation" else 7


def load_config(source: str | os.PathLike[str] | dict[str, Any]) -> TrainConfig:
    """Read and validate a training configuration.

    Parameters
    ----------
    source : path-like or dict
        A YAML file, or its already-parsed content.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the YAML is malformed or a value or key is invalid; the message names the file and
        every offending key (unknown keys included).
    """
    where = "config"
    if isinstance(source, dict):
        raw: Any = source
    else:
        path = Path(source)
        where = str(path)
        raw = read_yaml(path, what="training config")
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a mapping of settings, got {type(raw).__name__}")
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {key!r}")
            else:
                problems.append(f"{key}: {err['msg']}")
        raise InputError(f"{where}: invalid training config: " + "; ".join(problems)) from None
