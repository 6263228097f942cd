"""Text recognition: charsets, crop preprocessing, and recogniser architectures (one folder each)."""
