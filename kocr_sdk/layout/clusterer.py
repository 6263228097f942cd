"""kocr's own text clusterer stage: DBSCAN over text-height-scaled geometry."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError

from ..document import Block, Page
from ..errors import KocrConfigError
from ..yamlio import located_errors
from ..interfaces import Clusterer
from .cluster import cluster_page
from .config import ClusterConfig


class DbscanClusterer(Clusterer):
    """Lines and blocks by DBSCAN on sparse neighbourhoods, ordered by XY-cut.

    Options are :class:`ClusterConfig` fields (units of text height), given as the engine's
    ``options: {dbscan: {...}}``; an unknown option is a configuration error, not ignored.
    """

    name: ClassVar[str] = "dbscan"
    priority: ClassVar[int] = 0
    description: ClassVar[str] = "DBSCAN text clustering with XY-cut reading order"

    def __init__(self, device: str = "cpu", **options: Any) -> None:
        super().__init__(device, **options)
        try:
            self.config = ClusterConfig(**options)
        except ValidationError as exc:
            raise KocrConfigError(f"options of clusterer {self.name!r}:\n" + located_errors(exc, "options", None)) from None

    def cluster(self, page: Page) -> list[Block]:
        return cluster_page(page, self.config)
