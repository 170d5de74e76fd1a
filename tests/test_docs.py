"""The documentation holds together: every place a message cites exists, and every link between the pages resolves.

Plan-time messages (in the snapshots), synth errors, `make check` fixes and the examples cite README sections
("README, Migrating to v1") and docs pages ("docs/migrating-to-v1.md, EKS already upgraded your cluster"); the
README keeps a short section under each cited heading that points on to the page. Links are checked the way
GitHub renders them: the file exists and the `#anchor` is one of its headings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CITING = [
    *sorted((ROOT / "karpenter_model").rglob("*.py")),
    *sorted((ROOT / "karpenter_constructs").rglob("*.py")),
    *sorted((ROOT / "stacks").rglob("*.py")),
    *sorted((ROOT / "karpenter_check").rglob("*.py")),
    ROOT / "main.py",
    *sorted((ROOT / "examples").rglob("*.yaml")),
    *sorted((ROOT / "tests" / "__snapshots__").rglob("*.ambr")),
]
# Pages another branch adds: links to them may dangle until that branch is merged; then the set must be emptied.
PENDING: set[Path] = set()

# A citation's section name, after any JSON or Python escaping of its opening quote.
_README_CITATION = re.compile(r"""README, (?:\\*")?([A-Za-z][^"',;)\\\n]*)""")
# As the messages write them: a page, then a heading (capitalized, unlike prose such as "docs/x.md, generated from").
_DOCS_CITATION = re.compile(r"""(docs/[a-z0-9-]+\.md), (?:\\*")?([A-Z][^"',;)\\\n]*)""")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def headings(page: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)  # not `# comments` in code
    return [match.group(1).strip() for match in re.finditer(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def cites(pattern: re.Pattern[str]) -> set[tuple[str, ...]]:
    return {(path.name, *match.groups()) for path in CITING for match in pattern.finditer(path.read_text())}


def _section_exists(page: Path, cited: str) -> bool:
    return any(heading.lower().startswith(cited.strip().lower()) for heading in headings(page))


def test_the_corpus_of_citations_is_the_real_one():
    readme = {cited.strip() for _, cited in cites(_README_CITATION)}
    assert {"Migrating to v1", "EKS already upgraded your cluster", "configuration"} <= readme
    assert "Controller identity: IRSA or EKS Pod Identity" in readme
    assert cites(_DOCS_CITATION), "karpenter_check's calendar row cites docs/migrating-to-v1.md"


def test_every_readme_section_a_message_cites_exists():
    readme = ROOT / "README.md"
    missing = sorted({(name, cited) for name, cited in cites(_README_CITATION) if not _section_exists(readme, cited)})
    assert not missing, f"README.md has no heading starting with these cited sections (file, section): {missing}"


def test_every_docs_section_a_message_cites_exists():
    for name, page, cited in sorted(cites(_DOCS_CITATION)):
        assert (ROOT / page).is_file(), f"{name} cites {page}, which does not exist"
        assert _section_exists(ROOT / page, cited), f"{name} cites {page}, {cited!r}: no such heading"


def test_each_cited_readme_section_points_on_to_a_page():
    """The README keeps only a few lines under a cited heading; the section links to the page with the details."""
    text = (ROOT / "README.md").read_text()
    for cited in ("Configuration", "Migrating to v1", "EKS already upgraded your cluster", "Controller identity"):
        section = re.search(rf"^#+ {re.escape(cited)}.*?(?=^#|\Z)", text, flags=re.MULTILINE | re.DOTALL)
        assert section, cited
        assert re.search(r"\]\(docs/[a-z0-9-]+\.md", section.group(0)), f"README section {cited!r} links to no docs page"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_between_pages_resolves(page: Path):
    broken = []
    text = re.sub(r"^```.*?^```|`[^`\n]*`", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)  # code is not a link
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if path in PENDING:
            continue
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in {slug(h) for h in headings(path)}:
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


def test_pending_pages_are_still_pending():
    arrived = sorted(str(page.relative_to(ROOT)) for page in PENDING if page.exists())
    assert not arrived, f"{arrived} exist now: remove them from PENDING in tests/test_docs.py"


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 160
