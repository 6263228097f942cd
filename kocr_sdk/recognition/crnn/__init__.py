"""CNN + self-attention + CTC on variable-width crops: the AS-IS recogniser, kept as
the baseline the column-patch ViTSTR is measured against."""

from .model import ARCHS, ConvCTC

__all__ = ["ARCHS", "ConvCTC"]
