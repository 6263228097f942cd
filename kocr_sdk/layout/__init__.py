"""Text clustering and reading order: words → lines → blocks (DBSCAN), in the page's reading frame."""

from .cluster import Layout, blocks_of, cluster_page, layout_from_blocks, layout_page
from .clusterer import DbscanClusterer
from .config import ClusterConfig
from .frame import ReadingFrame, WordGeometry
from .order import row_order, rows_of, xy_cut

__all__ = [
    "ClusterConfig", "DbscanClusterer", "Layout", "ReadingFrame", "WordGeometry",
    "blocks_of", "cluster_page", "layout_from_blocks", "layout_page", "row_order", "rows_of", "xy_cut",
]
