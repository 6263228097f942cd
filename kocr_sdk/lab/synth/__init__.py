"""Synthetic data: the text, fonts and renders every kocr model trains on (docs/data.md)."""
