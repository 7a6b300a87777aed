"""Every relative link in the README, the CHANGELOG and docs/ leads to a file that exists, and every
``#anchor`` into a Markdown file to one of its headings (as GitHub spells them)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$")


def anchors(page: str) -> set[str]:
    """The ``#anchor`` of each heading in ``page``, as GitHub makes them (a repeat gets ``-1``, ``-2``...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in without_code(page).splitlines():
        heading = HEADING.match(line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


def without_code(page: str) -> str:
    """``page`` without its fenced code blocks, whose ``#`` lines are comments, not headings."""
    return re.sub(r"^```.*?^```", "", page, flags=re.S | re.M)


def broken_links(page: Path) -> list[str]:
    """The relative links in ``page`` that lead to no file, or to no heading of a Markdown file."""
    broken = []
    for target in LINK.findall(without_code(page.read_text())):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = page.parent / path if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(target)
    return broken


def test_anchors_are_spelled_as_github_spells_them() -> None:
    page = "# svhnx\n## Reading a whole photo: the U-Net localizer and `svhnx.predict`\n```\n# a comment\n```\n## Notes\n## Notes\n"
    assert anchors(page) == {"svhnx", "reading-a-whole-photo-the-u-net-localizer-and-svhnxpredict", "notes", "notes-1"}


def test_a_missing_file_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Only heading\n")
    page = tmp_path / "page.md"
    page.write_text("[a](other.md#only-heading) [b](other.md#gone) [c](missing.json) [d](#here)\n# Here\n"
                    "[e](https://example.org/x)\n```\n[f](inside-code.md)\n```\n")
    assert broken_links(page) == ["other.md#gone", "missing.json"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_in_the_docs_resolves(page: Path) -> None:
    assert broken_links(page) == []
