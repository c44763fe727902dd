"""The README a newcomer reads in minutes, and the measured results in docs/, one hop away."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_readme_is_short():
    assert len(README.splitlines()) <= 300


def test_readme_setup_commands_are_the_ones_ci_runs():
    """.ci/run types the README's two set-up commands; a change to one must reach the other."""
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert len(blocks) >= 2
    assert blocks[0] in ci.splitlines() and blocks[1] in ci.splitlines()


def test_every_docs_page_is_linked_from_the_readme_and_its_links_resolve():
    assert DOCS
    for page in DOCS:
        assert f"(docs/{page.name}" in README, f"README has no line pointing to docs/{page.name}"
    for path in [ROOT / "README.md", *DOCS]:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", text):
            assert (path.parent / target).is_file(), f"{path.name} links to missing {target}"


def test_readme_and_docs_speak_of_results_not_of_how_they_were_built():
    history = re.compile(
        r"\b(session \d+|this session|round \d+|this round|work period)\b|shared/tools", re.I
    )
    for path in [ROOT / "README.md", *DOCS]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not history.search(line), f"{path.name}:{n}: {line.strip()}"
