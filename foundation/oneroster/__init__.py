"""OneRoster 1.1 / 1.2 CSV bundles: import into the org tree and people tables, export from them."""
from foundation.oneroster.exporter import export_bundle
from foundation.oneroster.importer import import_bundle
from foundation.oneroster.report import ImportReport, Issue

__all__ = ["ImportReport", "Issue", "export_bundle", "import_bundle"]
