"""Clusters of words and lines: with ``min_samples: 1`` the clusterer takes DBSCAN's clusters as
the graph's connected components (SciPy, no scikit-learn import); they must be DBSCAN's own,
labels included, on any graph."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kocr_sdk.layout.neighbours import _TINY, _sorted_graph, dbscan_labels


def _sklearn_dbscan(n, i, j, dist, eps):
    from sklearn.cluster import DBSCAN

    graph = _sorted_graph(n, np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([dist, dist]) + _TINY)
    return DBSCAN(eps=eps + 2 * _TINY, min_samples=1, metric="precomputed").fit(graph).labels_


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 40))
    m = draw(st.integers(0, 80))
    i = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.intp)
    j = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.intp)
    dist = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.5000000001, 0.75, 1.0, 2.0]),
                                  min_size=m, max_size=m)), float)
    keep = i != j
    return n, i[keep], j[keep], dist[keep]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(graphs(), st.sampled_from([0.0, 0.5, 0.75, 1.5]))
def test_components_are_dbscans_clusters_with_its_labels(graph, eps):
    n, i, j, dist = graph
    assert dbscan_labels(n, i, j, dist, eps, 1).tolist() == _sklearn_dbscan(n, i, j, dist, eps).tolist()


def test_clusters_of_min_samples_1_need_no_scikit_learn_import():
    import subprocess
    import sys

    code = ("import sys, numpy as np\nfrom kocr_sdk.layout.neighbours import dbscan_labels\n"
            "dbscan_labels(3, np.array([0]), np.array([1]), np.array([0.1]), 0.5, 1)\n"
            "assert 'sklearn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
