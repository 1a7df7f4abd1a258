"""The foundation's version (plugins' manifests name the range they work with)."""
__version__ = "0.1.0"
