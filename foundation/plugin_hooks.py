"""Hooks answered by a name: a plugin lists which of its modules answers each hook that takes no arguments,
and the module is imported only when the host first asks (so a plugin's package imports nothing heavy at
start-up, and one module's import error is reported against its hook, not the whole plugin)::

    class Aid(lazy_hooks(jizuo_capabilities="plugins.aid.caps:CAPABILITIES",   # a value
                         jizuo_blueprints="[plugins.aid.views:blueprint()]")):  # a call
        @hookimpl
        def jizuo_demo_data(self, session, school_id, seed): ...              # hooks with arguments stay methods

``"module:attr"`` answers (a copy of) the attribute, ``"module:attr()"`` the result of calling it, and either
in brackets, ``"[module:attr()]"``, a list of that one answer.
"""
from __future__ import annotations

import copy
import importlib
from typing import Any

from foundation import hookspecs
from foundation.hookspecs import hookimpl


def _answer(hook: str, target: str) -> Any:
    listed = target.startswith("[") and target.endswith("]")
    module, sep, attr = target.strip("[]").partition(":")
    call = attr.endswith("()")
    attr = attr.removesuffix("()")
    if not sep or not module or not attr.isidentifier():
        raise ValueError(f"{hook}: '{target}' is not 'module:attr' or 'module:attr()'")
    spec = getattr(hookspecs, hook, None)
    if not hook.startswith("jizuo_") or spec is None:
        raise ValueError(f"{hook}: no such hook")
    if spec.__code__.co_argcount:
        raise ValueError(f"{hook} takes arguments: write it as a method")

    def impl(self: Any) -> Any:
        value = getattr(importlib.import_module(module), attr)
        value = value() if call else copy.copy(value)  # the host never mutates a plugin's own constant
        return [value] if listed else value

    impl.__name__ = impl.__qualname__ = hook
    impl.__doc__ = f"Answered by {target}."
    return hookimpl(impl)


def lazy_hooks(**hooks: str) -> type:
    """A base class whose methods answer the named argument-free hooks from ``module:attr`` targets."""
    return type("LazyHooks", (), {hook: _answer(hook, target) for hook, target in hooks.items()})
