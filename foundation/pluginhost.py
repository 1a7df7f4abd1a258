"""The plugin host: finds plugins through the ``jizuo.plugins`` entry-point group (first-party plugins in
plugins/ are registered the same way), validates each manifest, leaves out and reports any plugin that
fails to load or declares an incompatible foundation range, and keeps running.

Loading in explicit steps: the entry-point group, then the optional allow-list ``JIZUO_PLUGINS``
(comma-separated names; unset = all). Tests add plugins with ``host.register(obj, name)``.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import jsonschema
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from foundation import hookspecs
from foundation.version import __version__

log = logging.getLogger("jizuo.plugins")
MANIFEST_SCHEMA = json.loads((Path(__file__).parent.parent / "schemas" / "plugin-manifest.schema.json").read_text())


@dataclass
class Loaded:
    name: str
    obj: Any
    manifest: dict[str, Any]
    origin: str  # "entry point <dist>" or "registered"


@dataclass
class Failure:
    name: str
    reason: str


@dataclass
class PluginHost:
    pm: pluggy.PluginManager = field(default_factory=lambda: pluggy.PluginManager("jizuo"))
    loaded: dict[str, Loaded] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pm.add_hookspecs(hookspecs)

    # ---- loading ------------------------------------------------------------------------------------
    def load_entry_points(self, allow: set[str] | None = None) -> None:
        for ep in entry_points(group="jizuo.plugins"):
            if allow is not None and ep.name not in allow:
                continue
            try:
                obj = ep.load()
            except Exception as err:  # noqa: BLE001 - a broken plugin is reported and left out
                self._fail(ep.name, f"import failed: {type(err).__name__}: {err}")
                continue
            dist = ep.dist.name if ep.dist else "?"
            self.register(obj, ep.name, origin=f"entry point ({dist})")

    def register(self, obj: Any, name: str, origin: str = "registered") -> bool:
        try:
            self.pm.register(obj, name=name)
            self.pm.check_pending()
        except Exception as err:  # noqa: BLE001 - pluggy's validation error or a misspelt hook
            if self.pm.is_registered(obj):
                self.pm.unregister(obj)
            self._fail(name, f"hook error: {err}")
            return False
        problem, manifest = self._check_manifest(obj, name)
        if problem:
            self.pm.unregister(obj)
            self._fail(name, problem)
            return False
        self.loaded[name] = Loaded(name, obj, manifest, origin)
        return True

    def unregister(self, name: str) -> None:
        item = self.loaded.pop(name, None)
        if item is not None:
            self.pm.unregister(item.obj)

    def _fail(self, name: str, reason: str) -> None:
        log.warning("plugin %s left out: %s", name, reason)
        self.failures.append(Failure(name, reason))

    def _check_manifest(self, obj: Any, name: str) -> tuple[str | None, dict]:
        fn = getattr(obj, "jizuo_manifest", None)
        if fn is None:
            return "no jizuo_manifest hook", {}
        try:
            manifest = fn()
            jsonschema.validate(manifest, MANIFEST_SCHEMA, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as err:
            where = "/".join(str(p) for p in err.absolute_path) or "(manifest)"
            return f"manifest invalid at {where}: {err.message}", {}
        except Exception as err:  # noqa: BLE001
            return f"manifest failed: {type(err).__name__}: {err}", {}
        if manifest["name"] != name:
            return f"manifest name {manifest['name']!r} differs from entry point {name!r}", {}
        try:
            if Version(__version__) not in SpecifierSet(manifest["foundation"]):
                return f"needs foundation {manifest['foundation']}, this is {__version__}", {}
        except InvalidSpecifier:
            return f"foundation range {manifest['foundation']!r} is not a version specifier", {}
        return None, manifest

    # ---- calling one plugin's hook ------------------------------------------------------------------
    def call(self, name: str, hook: str, **kwargs: Any) -> Any:
        """The result of ``hook`` as implemented by plugin ``name`` (None when it does not implement it)."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name == name:
                return impl.function(**kwargs)
        return None

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return [(impl.plugin_name, impl.function(**kwargs))
                for impl in getattr(self.pm.hook, hook).get_hookimpls()]


def discover() -> PluginHost:
    """A host with the installed plugins (respecting ``JIZUO_PLUGINS``)."""
    host = PluginHost()
    allow = os.environ.get("JIZUO_PLUGINS")
    host.load_entry_points({n.strip() for n in allow.split(",") if n.strip()} if allow is not None else None)
    return host


def migration_dirs(host: PluginHost) -> list[str]:
    return [str(path) for _, path in host.each("jizuo_migrations") if path]
