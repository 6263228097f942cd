"""kocr's own stage implementations, each registered through the public hooks like any plugin."""
