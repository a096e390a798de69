"""The node store: the builder's working memory, paged, columnar, spillable."""
from .point_store import PointStore

__all__ = ["PointStore"]
