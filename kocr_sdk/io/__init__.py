"""Reading page images from whatever a user has: paths, directories, globs, PDFs, multi-page
TIFFs, bytes, PIL images, arrays."""

from .images import (
    IMAGE_SUFFIXES,
    INPUT_SUFFIXES,
    PageImage,
    count_pages,
    expand_inputs,
    iter_pages,
    to_rgb_array,
)
from .pdf import TextLayer, TextLayerWord

__all__ = ["PageImage", "iter_pages", "to_rgb_array", "count_pages", "expand_inputs", "IMAGE_SUFFIXES",
           "INPUT_SUFFIXES", "TextLayer", "TextLayerWord"]
