"""Page rectification: find the paper in a photo and flatten it before detection (kocr's ``paper`` rectifier)."""

from .paper import PaperQuad, find_paper, order_corners
from .stage import PaperRectifier, flattening

__all__ = ["PaperRectifier", "PaperQuad", "find_paper", "flattening", "order_corners"]
