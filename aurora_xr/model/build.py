"""Build torchvision segmentation networks with a one-output aurora head.

The registry :data:`ARCHITECTURES` names the networks on offer. Every one is
built with ``weights=None, weights_backbone=None`` (torchvision would
otherwise download ImageNet backbone weights) and a final 1x1 convolution to
``num_outputs`` channels (one aurora logit by default). Pretrained weights
come only from local files:

* ``pretrained="coco"``: torchvision's ``COCO_WITH_VOC_LABELS_V1`` weights of
  the architecture, read through torchvision's weights API from the cache
  ``torch.hub.get_dir()/checkpoints`` (set ``TORCH_HOME`` to move it). When the
  file is not there, :class:`~aurora_xr.errors.WeightsNotFoundError` names the
  file and the folder to put it in; nothing is downloaded.
* ``pretrained="imagenet"``: the ImageNet backbone weights, likewise.
* ``pretrained=<path>``: a local state dict (``torch.save`` file read with
  ``torch.load(weights_only=True)``, or ``.safetensors``) of the same
  architecture with any number of classes; head tensors whose shape does not
  fit the new head (the 21 COCO/VOC classes) are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from ..errors import CheckpointError, OptionError, WeightsNotFoundError

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "build_model",
    "get_architecture",
    "guess_architecture",
    "load_state_dict_file",
    "pretrained_weights_file",
]

ARCH_ATTRIBUTE = "aurora_xr_architecture"
"""Name of the attribute that :func:`build_model` sets on the networks it builds."""


@dataclass(frozen=True)
class Architecture:
    """A segmentation network on offer.

    Parameters
    ----------
    name : str
        Registry name (the torchvision builder's name).
    summary : str
        One line for humans.
    head_prefixes : tuple of str
        State-dict prefixes of the class-specific output convolutions.
    aux_prefix : str or None
        State-dict prefix of the auxiliary classifier (None when there is none).
    signature : str
        A state-dict key only this architecture has (to recognise a file).
    coco_weights : str
        Name of the torchvision weights enum member for COCO-with-VOC-labels.
    imagenet_weights : str
        ``"EnumName.MEMBER"`` of the ImageNet backbone weights.
    """

    name: str
    summary: str
    head_prefixes: tuple[str, ...]
    aux_prefix: str | None
    signature: str
    coco_weights: str
    imagenet_weights: str

    @property
    def supports_aux(self) -> bool:
        """Whether an auxiliary classifier can be kept."""
        return self.aux_prefix is not None


ARCHITECTURES: Mapping[str, Architecture] = {
    "fcn_resnet50": Architecture(
        name="fcn_resnet50",
        summary="FCN with a dilated ResNet-50 backbone (the paper's; 35 M parameters)",
        head_prefixes=("classifier.4.", "aux_classifier.4."),
        aux_prefix="aux_classifier.",
        signature="backbone.layer4.2.conv3.weight",
        coco_weights="FCN_ResNet50_Weights",
        imagenet_weights="ResNet50_Weights.IMAGENET1K_V1",
    ),
    "lraspp_mobilenet_v3_large": Architecture(
        name="lraspp_mobilenet_v3_large",
        summary="LR-ASPP with a MobileNetV3-Large backbone (3.2 M parameters; laptops, demo)",
        head_prefixes=("classifier.low_classifier.", "classifier.high_classifier."),
        aux_prefix=None,
        signature="classifier.low_classifier.weight",
        coco_weights="LRASPP_MobileNet_V3_Large_Weights",
        imagenet_weights="MobileNet_V3_Large_Weights.IMAGENET1K_V1",
    ),
    "deeplabv3_mobilenet_v3_large": Architecture(
        name="deeplabv3_mobilenet_v3_large",
        summary="DeepLabV3 with a MobileNetV3-Large backbone (11 M parameters)",
        head_prefixes=("classifier.4.", "aux_classifier.4."),
        aux_prefix="aux_classifier.",
        signature="classifier.0.convs.0.0.weight",
        coco_weights="DeepLabV3_MobileNet_V3_Large_Weights",
        imagenet_weights="MobileNet_V3_Large_Weights.IMAGENET1K_V1",
    ),
}
"""The segmentation networks on offer, by name."""


def get_architecture(arch: str) -> Architecture:
    """The registry entry for ``arch``, with a clear error for unknown names."""
    try:
        return ARCHITECTURES[arch]
    except (KeyError, TypeError):
        raise OptionError(
            f"unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}"
        ) from None


def guess_architecture(keys: Any) -> str | None:
    """The registered architecture whose signature key is among ``keys`` (or None)."""
    names = set(keys)
    for spec in ARCHITECTURES.values():
        if spec.signature in names:
            return spec.name
    return None


def _torchvision_builder(arch: str) -> Callable[..., nn.Module]:
    from torchvision.models import segmentation

    builder: Callable[..., nn.Module] = getattr(segmentation, arch)
    return builder


def _weights_member(arch: str, which: str) -> Any:
    """The torchvision weights enum member for ``which`` in {"coco", "imagenet"}."""
    from torchvision import models
    from torchvision.models import segmentation

    spec = get_architecture(arch)
    if which == "coco":
        return getattr(segmentation, spec.coco_weights).COCO_WITH_VOC_LABELS_V1
    enum_name, member = spec.imagenet_weights.split(".")
    return getattr(getattr(models, enum_name), member)


def pretrained_weights_file(arch: str = "fcn_resnet50", which: str = "coco") -> Path:
    """Where torchvision's cache keeps the ``which`` weights of ``arch``.

    That is ``torch.hub.get_dir()/checkpoints/<file name of the weights URL>``,
    e.g. ``~/.cache/torch/hub/checkpoints/fcn_resnet50_coco-1167a1af.pth``;
    ``TORCH_HOME`` moves it to ``$TORCH_HOME/hub/checkpoints``.
    """
    if which not in ("coco", "imagenet"):
        raise OptionError(f"which must be 'coco' or 'imagenet', found {which!r}")
    weights = _weights_member(arch, which)
    name = os.path.basename(urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def _read_cached_weights(arch: str, which: str) -> dict[str, torch.Tensor]:
    """Read cached torchvision weights through the weights API, never downloading."""
    weights = _weights_member(arch, which)
    path = pretrained_weights_file(arch, which)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"pretrained={which!r} for {arch} needs the file {path.name} "
            f"(torchvision {weights!r}, from {weights.url}); place it in the folder "
            f"{path.parent} (torch.hub.get_dir()/checkpoints; set TORCH_HOME to use "
            "another cache folder). aurora_xr never downloads: copy the file there, "
            "or pass pretrained='/path/to/that/file'."
        )
    try:
        state = weights.get_state_dict(
            model_dir=str(path.parent),
            map_location="cpu",
            progress=False,
            check_hash=False,
            weights_only=True,
        )
    except Exception as exc:  # unpickling refused, truncated zip, ...
        raise CheckpointError(
            f"cannot read the cached weights {path}: {type(exc).__name__}: {exc}"
        ) from exc
    return _as_state_dict(state, path)


def _as_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """A flat ``{name: tensor}`` dict from what a weights file held."""
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and len(obj) <= 4:
                obj = inner
                break
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise CheckpointError(
            f"{path} does not hold a state dict (a mapping of names to tensors), "
            f"found {type(obj).__name__}"
        )
    return {k.removeprefix("module."): v for k, v in obj.items()}


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state dict from a local file without executing pickled code.

    ``.safetensors`` files are read with safetensors; anything else with
    ``torch.load(weights_only=True)``, which refuses pickled objects other
    than tensors and plain containers.

    Raises
    ------
    WeightsNotFoundError
        If the file does not exist.
    CheckpointError
        If it cannot be read safely or holds no state dict.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise WeightsNotFoundError(f"pretrained weights file not found: {file}")
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(file), device="cpu")
        else:
            obj = torch.load(str(file), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"cannot read {file} as a plain state dict (only tensors are accepted, never "
            f"pickled code): {type(exc).__name__}: {exc}"
        ) from exc
    return _as_state_dict(obj, file)


def _load_pretrained(
    model: nn.Module, state: dict[str, torch.Tensor], arch: str, source: str
) -> None:
    """Load ``state`` into ``model``, dropping head tensors that do not fit."""
    spec = get_architecture(arch)
    guessed = guess_architecture(state)
    if guessed is not None and guessed != arch:
        raise CheckpointError(f"{source} holds {guessed} weights, which do not fit {arch}")
    own = model.state_dict()
    keep: dict[str, torch.Tensor] = {}
    misshapen: list[str] = []
    for key, value in state.items():
        in_head = key.startswith(spec.head_prefixes)
        if spec.aux_prefix is not None and key.startswith(spec.aux_prefix) and key not in own:
            continue  # the auxiliary classifier was dropped
        if in_head and (key not in own or own[key].shape != value.shape):
            continue  # a head for other classes: replaced by the new head
        if key in own and own[key].shape != value.shape:
            misshapen.append(f"{key} {tuple(value.shape)} != {tuple(own[key].shape)}")
            continue
        keep[key] = value
    if misshapen:
        raise CheckpointError(
            f"{source} does not fit architecture {arch}: {len(misshapen)} tensors of the wrong "
            f"shape (e.g. {misshapen[:2]})"
        )
    missing, unexpected = model.load_state_dict(keep, strict=False)
    missing = [k for k in missing if not k.startswith(spec.head_prefixes)]
    if missing or unexpected:
        raise CheckpointError(
            f"{source} does not fit architecture {arch}: "
            f"{len(missing)} missing tensors (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {list(unexpected)[:3]})"
        )


def _load_backbone(model: nn.Module, state: dict[str, torch.Tensor], arch: str) -> None:
    """Load ImageNet classification weights into the segmentation backbone."""
    backbone = model.get_submodule("backbone")
    own = backbone.state_dict()
    keep = {}
    for key, value in state.items():
        name = key.removeprefix("features.")
        if name in own and own[name].shape == value.shape:
            keep[name] = value
    missing = sorted(set(own) - set(keep))
    if missing:
        raise CheckpointError(
            f"the ImageNet weights do not fit the {arch} backbone: "
            f"{len(missing)} tensors missing (e.g. {missing[:3]})"
        )
    backbone.load_state_dict(keep, strict=True)


def build_model(
    arch: str = "fcn_resnet50",
    *,
    pretrained: str | os.PathLike[str] | None = None,
    num_outputs: int = 1,
    aux: bool = False,
) -> nn.Module:
    """A torchvision segmentation network with an ``num_outputs``-channel head.

    Parameters
    ----------
    arch : str
        A name in :data:`ARCHITECTURES`: ``"fcn_resnet50"`` (default, the
        paper's), ``"lraspp_mobilenet_v3_large"`` or
        ``"deeplabv3_mobilenet_v3_large"``.
    pretrained : None, "coco", "imagenet" or path
        ``None``: random initialisation. ``"coco"``: torchvision's
        COCO-with-VOC-labels weights from the local cache (never downloaded).
        ``"imagenet"``: only the ImageNet backbone, from the local cache.
        A path: a local state dict of this architecture (any number of
        classes; a head of another shape is replaced).
    num_outputs : int
        Output channels of the new 1x1 convolution head (1: aurora logit).
    aux : bool
        Keep the auxiliary classifier (with its own new head); dropped by
        default.

    Returns
    -------
    torch.nn.Module
        The network in training mode; calling it returns a dict whose
        ``"out"`` entry holds ``(n, num_outputs, h, w)`` logits.

    Raises
    ------
    OptionError
        Unknown architecture or bad options.
    WeightsNotFoundError
        Pretrained weights are not in the local cache or the path is missing;
        the message names the file and the folder to put it in.
    CheckpointError
        A weights file cannot be read safely or does not fit the architecture.
    """
    spec = get_architecture(arch)
    if not isinstance(num_outputs, int) or num_outputs < 1:
        raise OptionError(f"num_outputs must be an int >= 1, found {num_outputs!r}")
    if aux and not spec.supports_aux:
        raise OptionError(f"{arch} has no auxiliary classifier; use aux=False")
    kwargs: dict[str, Any] = {"weights": None, "weights_backbone": None, "num_classes": num_outputs}
    if spec.supports_aux:
        kwargs["aux_loss"] = bool(aux)
    model = _torchvision_builder(arch)(**kwargs)
    if pretrained is None:
        pass
    elif isinstance(pretrained, str) and pretrained in ("coco", "imagenet"):
        state = _read_cached_weights(arch, pretrained)
        if pretrained == "coco":
            _load_pretrained(model, state, arch, f"the cached COCO weights of {arch}")
        else:
            _load_backbone(model, state, arch)
    elif isinstance(pretrained, str | os.PathLike):
        state = load_state_dict_file(pretrained)
        _load_pretrained(model, state, arch, str(pretrained))
    else:
        raise OptionError(
            f"pretrained must be None, 'coco', 'imagenet' or a file path, found {pretrained!r}"
        )
    setattr(model, ARCH_ATTRIBUTE, arch)
    return model


def model_architecture(model: nn.Module) -> str | None:
    """The architecture name :func:`build_model` recorded on ``model`` (or a guess)."""
    name = getattr(model, ARCH_ATTRIBUTE, None)
    if isinstance(name, str):
        return name
    return guess_architecture(model.state_dict())


def count_parameters(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(int(p.numel()) for p in model.parameters())
