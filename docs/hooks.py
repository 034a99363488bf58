"""Build hooks for the documentation site (``hooks:`` and mkdocstrings in mkdocs.yml).

* ``examples/*.ipynb`` become the Notebooks section (pages ``examples/NAME/``),
  rendered by mkdocs-jupyter without running them, read where they are:
  nothing is copied into ``docs/``.
  ``DCEP_DOCS_NOTEBOOKS`` names another folder to take them from.
* The changelog page includes ``CHANGELOG.md`` from the repository root
  through pymdownx.snippets, whatever directory ``mkdocs`` runs in.
* :class:`RstProse`, a Griffe extension, makes the reStructuredText-flavoured
  docstrings read as Markdown: ``:class:`~dcep.X``` roles become code that
  links to the API reference where the target is documented, and ``>>>``
  examples become highlighted code blocks.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Final

import griffe
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log: Final = logging.getLogger("mkdocs.hooks.dcep")

NOTEBOOKS_TITLE: Final = "Notebooks"


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _notebooks(config: MkDocsConfig) -> list[Path]:
    folder = os.environ.get("DCEP_DOCS_NOTEBOOKS") or str(_root(config) / "examples")
    return sorted(Path(folder).resolve().glob("*.ipynb"))


def _uri(notebook: Path) -> str:
    """Where a notebook's page sits in the site: ``examples/name.ipynb``, as in the repository."""
    return f"{notebook.parent.name}/{notebook.name}"


def _with_notebooks(items: list[Any], notebooks: list[str]) -> list[Any]:
    """The nav ``items`` with the Notebooks section filled, or left out when there are none.

    Every other entry stays as written: a page the nav names that does not
    exist fails the strict build (``validation.nav.not_found``), so that a
    deleted page cannot quietly vanish from the site.
    """
    kept: list[Any] = []
    for item in items:
        if isinstance(item, dict) and item.get(NOTEBOOKS_TITLE) == []:
            if notebooks:
                kept.append({NOTEBOOKS_TITLE: notebooks})
            continue
        kept.append(item)
    return kept


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    notebooks = [_uri(path) for path in _notebooks(config)]
    config.nav = _with_notebooks(config.nav or [], notebooks)
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(_root(config))]
    return config


@event_priority(50)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    # A File read from its own folder, not File.generated: mkdocs-jupyter's wrapper
    # finds the source through src_dir, which a generated file does not have.
    for path in _notebooks(config):
        files.append(
            File(
                _uri(path),
                src_dir=str(path.parent.parent),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


_ROLE: Final = re.compile(
    r":(?:class|func|meth|attr|data|mod|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`"
)
_PROMPT: Final = re.compile(r"[ \t]*>>> ")


def _public(path: str) -> str:
    """``path`` without its private modules: dcep.values._money.Amount -> dcep.values.Amount."""
    return ".".join(part for part in path.split(".") if not part.startswith("_"))


def _identifier(obj: griffe.Object, target: str, role_is_member: bool) -> str:
    """Where ``target``, as written in ``obj``'s docstring, is documented (a guess)."""
    if target.startswith("dcep"):
        return target
    if role_is_member and "." not in target:
        owner = obj if obj.is_class else obj.parent
        if owner is not None and owner.is_class:
            return f"{_public(owner.path)}.{target}"
    return f"{_public(obj.module.path)}.{target}"


def rst_to_markdown(obj: griffe.Object, text: str) -> str:
    """``text``, a docstring of ``obj``, with roles as links and ``>>>`` examples fenced."""

    def role(match: re.Match[str]) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        member = match[0].startswith((":meth:", ":attr:"))
        identifier = _identifier(obj, target, member)
        # An optional autoref: a link where the target is documented, plain code where not.
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    lines = _ROLE.sub(role, text).splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        if _PROMPT.match(lines[index]) is None:
            out.append(lines[index])
            index += 1
            continue
        # A doctest runs to the next blank line.
        out.append("```pycon")
        while index < len(lines) and lines[index].strip():
            out.append(lines[index])
            index += 1
        out.append("```")
    return "\n".join(out)


class RstProse(griffe.Extension):
    """Render the docstrings' reStructuredText habits as Markdown (see the module docstring)."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj, obj.docstring.value)
