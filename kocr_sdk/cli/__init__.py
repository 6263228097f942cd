"""The ``kocr`` command line."""
