"""Clustering parameters, in units of text height.

Pixels mean nothing across a 150 dpi scan, a 12-megapixel phone photo and a receipt printed at
half the size, so every distance here is divided by the height of the text it separates: a gap
of ``1.0`` is "as wide as the letters are tall", whatever the resolution.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClusterConfig(BaseModel):
    """How far apart words may be and still read as one line, and lines as one block.

    Passed as engine options of the ``dbscan`` clusterer, e.g.
    ``EngineConfig(options={"dbscan": {"line_gap": 1.5}})``.
    """

    model_config = ConfigDict(extra="forbid")

    line_gap: float = Field(
        1.5, gt=0,
        description="Largest horizontal gap between two words of one line, in heights of the taller word. "
                    "An inter-word space is ~0.3 (up to ~1.2 after a '.' in a monospaced receipt); a key and "
                    "a value in a column far to its right, or two table columns, are several.",
    )
    line_overlap: float = Field(
        0.5, gt=0, le=1,
        description="Least vertical overlap of two words of one line, as a share of the shorter word's height.",
    )
    block_gap: float = Field(
        0.9, ge=0,
        description="Largest vertical gap between two lines of one block, in heights of the smaller text. "
                    "Paragraph leading leaves ~0.3-0.6; form rows and paragraph breaks leave more.",
    )
    block_overlap: float = Field(
        0.05, ge=0, le=1,
        description="Least horizontal overlap of two stacked lines of one block, as a share of the narrower "
                    "line; columns side by side never overlap, so they are never one block.",
    )
    block_height_ratio: float = Field(
        1.7, ge=1,
        description="Lines whose text heights differ by more than this factor (a title above body text) are "
                    "not one block.",
    )
    height_floor: float = Field(
        0.9, ge=0, le=1,
        description="A word counts as at least this share of the page's typical text height (75th percentile "
                    "of word heights) when gaps are scaled: digits and punctuation are shorter than the letters "
                    "around them, and a date's '6.' must not make the space after it look wide.",
    )
    min_samples: int = Field(
        1, ge=1,
        description="DBSCAN's min_samples. 1 makes every word a core point: text has no noise to discard, "
                    "and a lone word is still a line of its own.",
    )
    deskew: bool = Field(
        True,
        description="Estimate the reading direction from the word quads (rotation and skew); when False, "
                    "only Page.orientation turns the frame.",
    )
    cut_tolerance: float = Field(
        0.1, ge=0, le=0.5,
        description="Share of its height by which each box is shrunk before looking for whitespace cuts in "
                    "reading order, so a slight overlap from skew does not hide a gap.",
    )
