"""Text clustering and reading order: words → lines → blocks (DBSCAN), in the page's reading frame."""

from .cluster import Layout, blocks_of, cluster_page, layout_page
from .clusterer import DbscanClusterer
from .config import ClusterConfig
from .frame import ReadingFrame, WordGeometry
from .order import row_order, xy_cut

__all__ = [
    "ClusterConfig", "DbscanClusterer", "Layout", "ReadingFrame", "WordGeometry",
    "blocks_of", "cluster_page", "layout_page", "row_order", "xy_cut",
]
