"""A one-shot, anchor-free text detector: slim separable backbone, feature pyramid to stride 4, and
dense heads for characters and words (the TO-BE detector).

Every location of the stride-4 map predicts, for characters and for words separately:

- ``*_ctr`` (1 channel, a logit): FCOS centerness — high at a box centre, falling to zero at its
  sides. Its local maxima are the detections, so no NMS pass is needed.
- ``*_reg`` (4 channels): the distances from the location to the left, top, right and bottom
  sides of the box it lies in, as ``log(distance / stride)`` (see :mod:`.targets`).
- ``*_off`` (2 channels): where the box centre is, relative to the location, in cells.
  Characters and words get one offset each: a cell can be the centre cell of a character *and*
  of a word whose centres differ by a few pixels, and one 2-channel map could hold only one.

and, shared by both, ``orient`` (4 logits): whether the text at that location reads at 0, 90,
180 or 270 degrees (counter-clockwise rotation of upright text, like :func:`~kocr_sdk.geometry.rotate_points`).

Why this shape, for CPU speed at A4 size (1240×1754 at 150 dpi):

- Depthwise-separable blocks (MobileNet-v1 style, no expansion): at stride 4 a page has 136k
  locations, so a full 3×3 convolution of 48 channels there costs 5.6 GFLOPs; a separable one
  0.75. No inverted residuals: their expansion would multiply the channels of exactly the
  largest maps.
- Most of the depth sits at strides 16 and 32 (few locations, cheap), with dilated blocks at
  stride 32, so a location in the middle of a long word or line sees both of its ends
  (theoretical receptive field ~1,100 input pixels) — needed to regress distances of hundreds of pixels.
- A light FPN (1×1 laterals, nearest upsampling, one separable smoothing block per level)
  brings that context back to stride 4, where small characters are still several cells wide.
- The heads are one separable block per level (char, word) and a 1×1 projection: the stride-4
  work is a handful of 1×1 convolutions of ≤ 48 channels.

Sizes are data (``ARCHS``), ``create_model(name)`` the only constructor (timm style).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .constants import PAD_VALUE, STRIDE  # noqa: F401  (PAD_VALUE re-exported: training imports it from here)
OUTPUT_CHANNELS = {
    "char_ctr": 1,
    "word_ctr": 1,
    "char_reg": 4,
    "word_reg": 4,
    "char_off": 2,
    "word_off": 2,
    "orient": 4,
}


@dataclass(frozen=True)
class ArchConfig:
    stem: int = 16
    widths: tuple[int, int, int, int] = (32, 64, 128, 256)  # strides 4, 8, 16, 32
    depths: tuple[int, int, int, int] = (1, 3, 4, 4)
    dilations32: tuple[int, ...] = (2, 4, 8)  # of the stride-32 blocks after the first
    fpn: int = 48
    head: int = 48
    # Dilations of the word branch's line-context block at stride 4 (empty: no block). See LineContext.
    line_context: tuple[int, ...] = ()
    line_kernel: int = 9


ARCHS: dict[str, ArchConfig] = {
    "afd-slim": ArchConfig(),
    "afd-tiny": ArchConfig(stem=16, widths=(24, 48, 96, 160), depths=(1, 2, 2, 2), dilations32=(2, 4), fpn=32, head=32),
    "afd-small": ArchConfig(stem=24, widths=(48, 96, 192, 320), depths=(2, 3, 6, 4), dilations32=(2, 4, 8), fpn=64, head=64),
    # afd-slim with a line-context block on the word branch: starts as afd-slim exactly (see LineContext).
    "afd-slim-line": ArchConfig(line_context=(1, 3)),
}


class ConvBN(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int | tuple[int, int] = 1, stride: int = 1, groups: int = 1,
                 dilation: int | tuple[int, int] = 1, act: bool = True):
        kh, kw = (k, k) if isinstance(k, int) else k
        dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
        pad = (dh * (kh - 1) // 2, dw * (kw - 1) // 2)
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class SepBlock(nn.Module):
    """Depthwise 3×3 then pointwise 1×1; residual when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.dw = ConvBN(cin, cin, 3, stride, groups=cin, dilation=dilation)
        self.pw = ConvBN(cin, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return F.relu(y + x if self.residual else y, inplace=True)


class LineContext(nn.Module):
    """Long, thin depthwise convolutions along and across the text line at stride 4, then one 1×1.

    Why: most of the words the detector misses are two neighbours read as one box (docs/benchmarks.md,
    "why words go unmatched"). The space between them is about one stride-4 cell wide, so only
    the finest features see it, and they see ±5 cells around them; a cell in the middle of a
    word must know where that word's own end is to regress it, and the coarse levels that do
    see far along the line cannot resolve a one-cell gap. Each stage here is a 1×k and a k×1
    depthwise convolution (both axes, because pages come in all four orientations) at dilation
    ``d``; with k = 9 and dilations (1, 3) a cell sees ±16 cells (64 px) of fine features along
    either axis, for 1.1 GFLOPs more at 1248×1760 (8.59 against afd-slim's 7.49, counted by
    :func:`flop_breakdown`).

    The last batch norm starts with zero scale, so the block adds nothing at first: weights of
    the plain architecture load into it unchanged and give the same maps (``init_from``), and
    training teaches it what to add.
    """

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.along = nn.ModuleList(ConvBN(channels, channels, (1, kernel), groups=channels, dilation=(1, d), act=False)
                                   for d in dilations)
        self.across = nn.ModuleList(ConvBN(channels, channels, (kernel, 1), groups=channels, dilation=(d, 1), act=False)
                                    for d in dilations)
        self.pw = ConvBN(channels, channels, 1, act=False)

    def zero_init(self) -> None:
        nn.init.zeros_(self.pw[1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for along, across in zip(self.along, self.across):
            y = F.relu(along(y) + across(y), inplace=True)
        return F.relu(x + self.pw(y), inplace=True)


def _stage(cin: int, cout: int, depth: int, dilations: tuple[int, ...] = ()) -> nn.Sequential:
    blocks = [SepBlock(cin, cout, stride=2)]
    for i in range(depth - 1):
        blocks.append(SepBlock(cout, cout, dilation=dilations[i] if i < len(dilations) else 1))
    return nn.Sequential(*blocks)


class PyramidBackbone(nn.Module):
    """The separable backbone and its FPN down to stride 4, shared by every detector family.

    A base class rather than a member module so that the parameter names (``stem.*``, ``s4.*``,
    ..., ``lateral.*``, ``smooth.*``) stay those of the shipped anchor-free weights.
    """

    def __init__(self, cfg: ArchConfig) -> None:
        super().__init__()
        w = cfg.widths
        self.stem = nn.Sequential(ConvBN(3, cfg.stem, 3, 2), SepBlock(cfg.stem, cfg.stem))
        self.s4 = _stage(cfg.stem, w[0], cfg.depths[0])
        self.s8 = _stage(w[0], w[1], cfg.depths[1])
        self.s16 = _stage(w[1], w[2], cfg.depths[2])
        self.s32 = _stage(w[2], w[3], cfg.depths[3], cfg.dilations32)
        self.lateral = nn.ModuleList(ConvBN(c, cfg.fpn, 1) for c in w)
        self.smooth = nn.ModuleList(SepBlock(cfg.fpn, cfg.fpn) for _ in w[:-1])

    def pyramid(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(stride-2 stem features, stride-4 FPN features with the context of every level)."""
        c2 = self.stem(x)
        c4 = self.s4(c2)
        c8 = self.s8(c4)
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        feats = [c4, c8, c16, c32]
        p = self.lateral[3](c32)
        for i in (2, 1, 0):
            lat = self.lateral[i](feats[i])
            p = self.smooth[i](lat + F.interpolate(p, size=lat.shape[-2:], mode="nearest"))
        return c2, p

    def _init_convs(self) -> None:
        """He initialisation of every convolution (heads included; subclasses then shrink their
        output layers so that maps start near 0)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


class AnchorFreeNet(PyramidBackbone):
    """Image (B, 3, H, W), H and W multiples of 32 → dict of stride-4 maps (see module docstring)."""

    stride = STRIDE

    def __init__(self, cfg: ArchConfig) -> None:
        super().__init__(cfg)
        self.cfg = cfg
        self.char_tower = SepBlock(cfg.fpn, cfg.head)
        self.word_tower = SepBlock(cfg.fpn, cfg.head)
        self.word_context = LineContext(cfg.head, cfg.line_kernel, cfg.line_context) if cfg.line_context else None
        n_char = OUTPUT_CHANNELS["char_ctr"] + OUTPUT_CHANNELS["char_reg"] + OUTPUT_CHANNELS["char_off"]
        n_word = OUTPUT_CHANNELS["word_ctr"] + OUTPUT_CHANNELS["word_reg"] + OUTPUT_CHANNELS["word_off"]
        self.char_head = nn.Conv2d(cfg.head, n_char, 1)
        self.word_head = nn.Conv2d(cfg.head, n_word + OUTPUT_CHANNELS["orient"], 1)
        self._init()

    def _init(self) -> None:
        self._init_convs()
        for head in (self.char_head, self.word_head):
            nn.init.normal_(head.weight, std=0.01)
            nn.init.zeros_(head.bias)
            head.bias.data[0] = -4.0  # centerness starts near 0: most locations hold no centre
        # Distances start at typical sizes (log(d / 4)): ~10 px for characters, ~40 px for words.
        self.char_head.bias.data[1:5] = 1.0
        self.word_head.bias.data[1:5] = 2.3
        if self.word_context is not None:
            self.word_context.zero_init()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _, p = self.pyramid(x)
        char = self.char_head(self.char_tower(p))
        word = self.word_tower(p)
        if self.word_context is not None:
            word = self.word_context(word)
        word = self.word_head(word)
        return {
            "char_ctr": char[:, 0:1],
            "char_reg": char[:, 1:5],
            "char_off": char[:, 5:7],
            "word_ctr": word[:, 0:1],
            "word_reg": word[:, 1:5],
            "word_off": word[:, 5:7],
            "orient": word[:, 7:11],
        }


def create_model(arch: str = "afd-slim") -> "AnchorFreeNet":
    try:
        cfg = ARCHS[arch]
    except KeyError:
        raise ValueError(f"unknown detector architecture {arch!r}; known: {', '.join(ARCHS)}") from None
    return AnchorFreeNet(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def flop_breakdown(model: nn.Module, height: int, width: int) -> dict[str, int]:
    """FLOPs (2 × multiply-accumulates) of one forward pass at ``height``×``width``, counted by
    forward hooks: ``conv`` for every convolution (depthwise ones with their groups, biases
    included), ``bn`` for the batch norms (2 per element; folded away at inference by
    :func:`fuse_batchnorm`). ReLUs, additions and nearest upsampling are memory traffic, not
    arithmetic that matters here, and are left out.
    """
    totals = {"conv": 0, "bn": 0}

    def conv_hook(m: nn.Conv2d, inp, out) -> None:
        kh, kw = m.kernel_size
        macs = out.numel() * (m.in_channels // m.groups) * kh * kw
        totals["conv"] += 2 * macs + (out.numel() if m.bias is not None else 0)

    def bn_hook(m: nn.BatchNorm2d, inp, out) -> None:
        totals["bn"] += 2 * out.numel()

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.BatchNorm2d):
            handles.append(m.register_forward_hook(bn_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return totals


@torch.no_grad()
def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm of a :class:`ConvBN` into its convolution (inference only, in place).

    At stride 4 a batch norm is a full pass over a 48-channel map of ~140k locations: on CPU it
    costs about as much as the 1×1 convolution before it, for no arithmetic that matters.
    """
    for module in model.modules():
        if isinstance(module, ConvBN) and isinstance(module[1], nn.BatchNorm2d):
            conv, bn = module[0], module[1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                              dilation=conv.dilation, groups=conv.groups, bias=True)
            fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
            base = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            fused.bias.copy_((base - bn.running_mean) * scale + bn.bias)
            module[0] = fused
            module[1] = nn.Identity()
    return model


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 RGB (B, 3, H, W) → the network's input: centred, roughly unit scale.

    Kept as uint8 until here so that training batches cross to the GPU (and out of DataLoader
    workers) at a quarter of the bytes. The arithmetic is done in place on a float copy that is
    always fresh (``copy=True``: never the caller's tensor, even when it is float already): on an
    A4 page that is 4 ms instead of 10–17 ms for the two temporaries of ``(x - a) / b``.
    """
    return images.to(torch.float32, copy=True).sub_(127.5).div_(64.0)
