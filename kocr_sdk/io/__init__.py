"""Reading page images from whatever a user has: paths, directories, bytes, PIL images, arrays."""

from .images import IMAGE_SUFFIXES, PageImage, iter_pages, to_rgb_array

__all__ = ["PageImage", "iter_pages", "to_rgb_array", "IMAGE_SUFFIXES"]
