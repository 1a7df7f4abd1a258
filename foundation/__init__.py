"""Jizuo (基座) foundation: the core every school and every capability plugin stands on.

The public entry point is :func:`create_app`; everything a plugin may use is re-exported from
``foundation.api`` modules as they are documented in docs/.
"""
from __future__ import annotations

from foundation.app import create_app
from foundation.version import __version__

__all__ = ["create_app", "__version__"]
