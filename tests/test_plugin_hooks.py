"""Hooks answered by name (foundation/plugin_hooks.py): the module is imported when the host asks, a value is
a copy the host may change freely, and a malformed target is refused where the plugin is defined."""
import sys

import pluggy
import pytest

from foundation.plugin_api import hookimpl, lazy_hooks


def _host(plugin):
    from foundation import hookspecs

    pm = pluggy.PluginManager("jizuo")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    return pm


def test_answers_import_late_and_copy_values(tmp_path, monkeypatch):
    (tmp_path / "lazy_probe_mod.py").write_text(
        "CAPS = {'x.read': {'zh': '读', 'en': 'Read'}}\n"
        "def blueprint():\n    return 'bp'\n"
        "def figures():\n    return [{'key': 'x.count'}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    class Probe(lazy_hooks(jizuo_capabilities="lazy_probe_mod:CAPS",
                           jizuo_blueprints="[lazy_probe_mod:blueprint()]",
                           jizuo_district_figures="lazy_probe_mod:figures()")):
        @hookimpl
        def jizuo_migrations(self):
            return None

    pm = _host(Probe())
    assert "lazy_probe_mod" not in sys.modules  # nothing imported until asked
    caps = pm.hook.jizuo_capabilities()[0]
    assert caps == {"x.read": {"zh": "读", "en": "Read"}}
    caps["y.write"] = {}
    assert "y.write" not in sys.modules["lazy_probe_mod"].CAPS
    assert pm.hook.jizuo_blueprints() == [["bp"]]
    assert pm.hook.jizuo_district_figures() == [[{"key": "x.count"}]]


@pytest.mark.parametrize("hooks, words", [
    ({"jizuo_capabilities": "no_colon"}, "not 'module:attr'"),
    ({"jizuo_capabilities": "mod:not an attr"}, "not 'module:attr'"),
    ({"jizuo_nothing": "mod:X"}, "no such hook"),
    ({"jizuo_demo_data": "mod:fill()"}, "takes arguments"),
])
def test_malformed_targets_are_refused_where_written(hooks, words):
    with pytest.raises(ValueError, match=words):
        lazy_hooks(**hooks)


def test_first_party_plugins_answer_every_lazy_hook():
    """Each first-party plugin's named targets exist (a typo would only show when the host first asked)."""
    import importlib

    for name in ("points", "aid", "wellbeing", "learning", "afterschool"):
        plugin = importlib.import_module(f"plugins.{name}").plugin
        for hook in dir(type(plugin)):
            doc = getattr(getattr(type(plugin), hook), "__doc__", "") or ""
            if hook.startswith("jizuo_") and doc.startswith("Answered by "):
                assert getattr(plugin, hook)() is not None, f"{name}.{hook}"
