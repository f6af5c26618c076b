"""The README and the guides under docs/: every relative link names a file that exists,
and every #anchor a heading that the target file has (as GitHub spells headings)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$")


def prose(markdown: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans blanked out."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(re.sub(r"`[^`]*`", "``", line))
    return lines


def anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(m.group(1)) for line in prose(page.read_text()) if (m := HEADING.match(line))}


def broken_links(page: Path) -> list[str]:
    broken = []
    for line in prose(page.read_text()):
        for target in LINK.findall(line):
            if re.match(r"^[a-z]+:", target):  # https:, mailto:: not ours to check
                continue
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{target}: no such file")
            elif fragment and fragment not in anchors(linked):
                broken.append(f"{target}: {linked.name} has no heading #{fragment}")
    return broken


def test_every_link_in_the_readme_and_the_guides_resolves() -> None:
    broken = {page.relative_to(ROOT).as_posix(): broken_links(page) for page in PAGES}

    assert {page: links for page, links in broken.items() if links} == {}


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# A guide\n\n## Two words, here\n")
    page = tmp_path / "index.md"
    page.write_text(
        "[ok](guide.md#two-words-here) [gone](missing.md) [no heading](guide.md#three)\n"
        "```\n[inside a code block](ignored.md)\n```\n"
    )

    assert broken_links(page) == [
        "missing.md: no such file",
        "guide.md#three: guide.md has no heading #three",
    ]


def test_every_guide_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()

    unlinked = [page.name for page in PAGES[1:] if f"(docs/{page.name}" not in readme]
    assert unlinked == []
