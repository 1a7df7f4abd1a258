"""The data standard (standards/) loaded, validated and cross-checked: see ``catalog``."""
from foundation.standards.catalog import Catalog, Problem, catalog, load_catalog

__all__ = ["Catalog", "Problem", "catalog", "load_catalog"]
