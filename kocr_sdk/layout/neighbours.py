"""Sparse neighbourhoods of boxes, so DBSCAN never sees the O(n²) distance matrix.

A dense matrix for a 3,000-word page is nine million distances, almost all between words that
cannot possibly be neighbours. Sorting the boxes by their top edge and looking, for each box, only
at the boxes whose top lies inside a band below it (one ``searchsorted`` and some ``repeat``
arithmetic, no Python loop) yields every pair that *can* be within reach; the geometric distance
is then computed for those pairs alone and handed to DBSCAN as a ``metric="precomputed"`` sparse
graph, where a missing entry means "not a neighbour".
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..errors import KocrConfigError
from .config import ClusterConfig

# DBSCAN reads stored entries as neighbours; a distance of exactly 0 must not look like "absent"
# to anything that drops explicit zeros, so stored distances are shifted by this much.
_TINY = 1e-9


def band_pairs(starts: np.ndarray, reach: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` with ``starts[i] <= starts[j] <= reach[i]`` and ``i != j``, each once.

    Every pair of intervals that may interact is found from the one that starts first, provided
    ``reach[i]`` is the furthest start a partner of ``i`` may have.
    """
    n = len(starts)
    if n < 2:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    order = np.argsort(starts, kind="stable")
    s = starts[order]
    ends = np.searchsorted(s, reach[order], side="right")
    first = np.arange(1, n + 1)
    counts = np.maximum(ends - first, 0)
    total = int(counts.sum())
    i_sorted = np.repeat(np.arange(n), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    j_sorted = np.repeat(first, counts) + offsets
    return order[i_sorted], order[j_sorted]


def line_pairs(boxes: np.ndarray, heights: np.ndarray, cfg: ClusterConfig,
               floor: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of words that may share a line, and their distance: horizontal gap / taller height
    (at least ``floor``, see ``ClusterConfig.height_floor``).

    Words are candidates only if their vertical extents overlap by ``line_overlap`` of the
    shorter one, so rows above and below, however close, are never in reach.
    """
    i, j = band_pairs(boxes[:, 1], boxes[:, 3])
    if len(i) == 0:
        return i, j, np.zeros(0)
    a, b = boxes[i], boxes[j]
    overlap = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    shorter = np.minimum(heights[i], heights[j])
    taller = np.maximum(np.maximum(heights[i], heights[j]), floor)
    gap = np.maximum(0.0, np.maximum(a[:, 0], b[:, 0]) - np.minimum(a[:, 2], b[:, 2]))
    dist = gap / taller
    keep = (overlap >= cfg.line_overlap * shorter) & (dist <= cfg.line_gap)
    return i[keep], j[keep], dist[keep]


def block_pairs(boxes: np.ndarray, heights: np.ndarray, cfg: ClusterConfig,
                floor: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of lines that may share a block, and their distance: vertical gap / smaller height
    (at least ``floor``).

    Lines must overlap horizontally (columns side by side never do) and have similar text
    heights (a title is not part of the paragraph under it).
    """
    reach = boxes[:, 3] + cfg.block_gap * np.maximum(heights, floor)
    i, j = band_pairs(boxes[:, 1], reach)
    if len(i) == 0:
        return i, j, np.zeros(0)
    a, b = boxes[i], boxes[j]
    smaller = np.minimum(heights[i], heights[j])
    larger = np.maximum(heights[i], heights[j])
    x_overlap = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    narrower = np.minimum(a[:, 2] - a[:, 0], b[:, 2] - b[:, 0])
    gap = np.maximum(0.0, np.maximum(a[:, 1], b[:, 1]) - np.minimum(a[:, 3], b[:, 3]))
    dist = gap / np.maximum(smaller, floor)
    keep = ((x_overlap > 0) & (x_overlap >= cfg.block_overlap * narrower)
            & (larger <= cfg.block_height_ratio * smaller) & (dist <= cfg.block_gap))
    return i[keep], j[keep], dist[keep]


def dbscan_labels(n: int, i: np.ndarray, j: np.ndarray, dist: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN cluster label per item over the sparse symmetric graph of ``(i, j, dist)``.

    Items DBSCAN calls noise (possible only with ``min_samples > 1``) become clusters of their
    own: a word nobody is near is still text to read.

    With ``min_samples == 1`` (the default) every item is a core point and DBSCAN's clusters are
    the connected components of the graph's edges within ``eps``: SciPy's ``connected_components``
    computes them, labelled in the same order (by each cluster's first item), without importing
    scikit-learn, whose import alone takes longer than reading a page's words.
    """
    if n == 0:
        return np.zeros(0, np.intp)
    if min_samples <= 1:
        from scipy.sparse.csgraph import connected_components

        near = dist + _TINY <= eps + 2 * _TINY  # DBSCAN's own comparison below, to the same bit
        graph = sparse.coo_matrix((np.ones(int(near.sum())), (i[near], j[near])), shape=(n, n))
        return connected_components(graph, directed=False)[1].astype(np.intp)
    try:
        from sklearn.cluster import DBSCAN  # imported on first use: registering the plugin must stay cheap
    except ImportError:
        raise KocrConfigError(f"layout.min_samples {min_samples} clusters with scikit-learn's DBSCAN, which is not "
                              'installed: pip install "kocr-sdk[cluster]" (or min_samples: 1)') from None

    graph = _sorted_graph(n, np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([dist, dist]) + _TINY)
    labels = DBSCAN(eps=eps + 2 * _TINY, min_samples=min_samples, metric="precomputed").fit(graph).labels_.copy()
    noise = labels < 0
    if noise.any():
        labels[noise] = labels.max() + 1 + np.arange(int(noise.sum()))
    return labels


def _sorted_graph(n: int, rows: np.ndarray, cols: np.ndarray, data: np.ndarray) -> sparse.csr_matrix:
    """A CSR graph with every row's entries sorted by distance and the diagonal stored first.

    scikit-learn sorts a precomputed graph by row values (and stores the diagonal, since a
    point is its own neighbour) whenever it is not already so; building it that way here makes
    those checks pass at once, which is most of DBSCAN's time on a page.
    """
    rows = np.concatenate([np.arange(n), rows])
    cols = np.concatenate([np.arange(n), cols])
    data = np.concatenate([np.zeros(n), data])
    order = np.lexsort((data, rows))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((data[order], cols[order], indptr), shape=(n, n))
