"""The docs stay short and speak of the project only (not of how it was developed)."""

import pathlib
import re
import subprocess

import pytest

from conftest import REPOSITORY

LIMITS = {"README.md": 1500, "checkpoints/README.md": 2000}
WORD = "sess" "ion"  # split, so that this file does not match itself
DEVELOPMENT_WORDS = re.compile(rf"\b{WORD}s?\b(?!_hash)|\bissue #?\d+|\bstage I[1-4]\b|\bI[1-4] stage", re.IGNORECASE)
ALLOWED = (f'scope="{WORD}"',)  # pytest's fixture scope
TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".ini", ".sh", ".cfg", ""}


def tracked_text_files():
    try:
        names = subprocess.run(["git", "ls-files"], cwd=REPOSITORY, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPOSITORY / name for name in names if pathlib.Path(name).suffix in TEXT_SUFFIXES and (REPOSITORY / name).is_file()]


@pytest.mark.parametrize("name, limit", LIMITS.items())
def test_docs_are_short(name, limit):
    words = len((REPOSITORY / name).read_text().split())
    assert words <= limit, f"{name} has {words} words (at most {limit})"


def test_no_tracked_text_tells_how_the_project_was_developed():
    found = []
    for path in tracked_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if DEVELOPMENT_WORDS.search(line) and not any(allowed in line for allowed in ALLOWED):
                found.append(f"{path.relative_to(REPOSITORY)}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)
