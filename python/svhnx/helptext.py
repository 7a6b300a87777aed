"""Docstrings as command-line help: reStructuredText markup turned into plain words."""

from __future__ import annotations

import re

# :class:`~svhnx.evaluate.views.Ensemble`, :func:`name`, :mod:`svhnx.ops`, :class:`text <target>`
_ROLE = re.compile(r":[a-z]+:`(~?)([^`<]*?)\s*(?:<[^>]*>)?`")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return target.rsplit(".", 1)[-1] if tilde else target


def plain(doc: str | None) -> str:
    """``doc`` without reST markup: roles become their target (the last part with ``~``), inline
    literals lose their double backticks, ``::`` becomes ``:``."""
    text = _ROLE.sub(_role, doc or "")
    text = text.replace("``", "").replace("::\n", ":\n")
    return text.strip()
