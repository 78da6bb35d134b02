"""The README and the documentation pages: length, wording, links and project files."""
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

import btype

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))


def _text_files():
    """The repository's files (tracked or not ignored), text ones only."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
        paths = [ROOT / line for line in listed.splitlines()]
    except (OSError, subprocess.CalledProcessError):   # not a git checkout
        skip = {".git", "_build", "__pycache__", ".hypothesis", ".pytest_cache", "generated"}
        paths = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    for path in paths:
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".sh", ".cff", ".ipynb",
                                              ".rst", ".txt", ".cfg", ""}:
            yield path


def test_readme_is_short_and_keeps_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) < 250
    assert "./install.sh && python -m experiments.compare --preset quick --out results/quick" in text
    assert "./install.sh dev && python3 -m pytest" in text
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in text


@pytest.mark.parametrize("path", [README] + PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_speak_of_the_package_not_its_making(path):
    text = path.read_text()
    assert not re.search(r"issue [0-9]|previous version", text, re.IGNORECASE)


def test_nothing_points_outside_the_repository():
    # Spelled in two parts so that this file does not match itself.
    needles = ("../" + "shared", "shared/" + "DESIGN")
    hits = [str(p.relative_to(ROOT)) for p in _text_files()
            if any(n in p.read_text(errors="replace") for n in needles)]
    assert hits == []


def test_readme_links_and_images_exist():
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links to its documentation pages"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == []


def test_version_is_one_number_everywhere():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # Written once, in btype/__init__.py; the build reads it from there.
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "btype.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", btype.__version__)
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: \"?{re.escape(btype.__version__)}\"?$", citation, re.MULTILINE)
    assert f"## {btype.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_project_files():
    assert (ROOT / "btype" / "py.typed").exists()
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Copyright (c) 2026 the btype authors" in licence
    citation = (ROOT / "CITATION.cff").read_text()
    assert "cff-version: 1.2.0" in citation and "title:" in citation and "authors:" in citation


def test_readme_quickstart_runs(capsys):
    pytest.importorskip("torch")
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert block, "the README has a quickstart"
    exec(compile(block.group(1), "README.md quickstart", "exec"), {})
    printed = capsys.readouterr().out
    assert "module btype_net" in printed          # the Verilog of the pruned machine
    assert printed.count(" True solved") == 3     # es, sgd and sgd+es each solve mux6
