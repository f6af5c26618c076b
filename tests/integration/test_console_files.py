"""The console's committed files: the README's diagram is the ASL's, the page's colours
are the graph's, and the npm lock file names no download address."""

from __future__ import annotations

import json
import re
from pathlib import Path

from local_runtime.console.asl_graph import STATUS_STYLES
from local_runtime.tools.diagram import BEGIN, END, MERMAID_FILE, README, diagram, readme_with

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_diagram_the_asl_draws() -> None:
    flowchart = diagram()
    readme = README.read_text()

    block = readme[readme.index(BEGIN) : readme.index(END)]
    assert f"```mermaid\n{flowchart}```" in block, "README is stale: run `make diagram`"
    assert readme_with(readme, flowchart) == readme
    assert MERMAID_FILE.read_text() == flowchart, "docs/state-machine.mmd: run `make diagram`"


def test_the_diagram_command_finds_a_stale_readme_and_rewrites_it() -> None:
    readme = README.read_text()
    stale = readme_with(readme, "flowchart TD\n    A --> B\n")

    assert stale != readme
    assert readme_with(stale, diagram()) == readme


def test_the_page_paints_states_with_the_colours_the_graph_uses() -> None:
    css = (ROOT / "console" / "console.css").read_text()

    for status, style in STATUS_STYLES.items():
        fill = re.search(r"fill:(#[0-9a-f]{6})", style)
        stroke = re.search(r"stroke:(#[0-9a-f]{6})", style)
        assert fill and f"--{status}: {fill.group(1)};" in css, status
        assert stroke and f"--{status}-edge: {stroke.group(1)};" in css, status


def test_the_npm_lock_file_names_no_download_address() -> None:
    lock = json.loads((ROOT / "console" / "package-lock.json").read_text())
    package = json.loads((ROOT / "console" / "package.json").read_text())

    packages = lock["packages"]
    assert packages["node_modules/mermaid"]["version"] == package["dependencies"]["mermaid"]
    assert all("resolved" not in entry for entry in packages.values())
    assert all("integrity" in entry for name, entry in packages.items() if name)
    # The only addresses left are the authors' funding pages.
    without_funding = [{k: v for k, v in e.items() if k != "funding"} for e in packages.values()]
    assert "http" not in json.dumps(without_funding)
