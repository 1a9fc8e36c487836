"""The layer contracts in pyproject.toml hold for the tree, and they do catch an import the wrong way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

PACKAGES = ("pendo_core", "pendo_sim", "api", "pages", "jobs")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], check=False, cwd=root, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and pyproject.toml, to break on purpose."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract() -> None:
    """`lint-imports` passes on the repository as it is (make lint runs the same)."""
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("pendo_core/store/models.py", "import pendo_core.usage.queries", "pendo_core.store is not allowed to import"),
    ("pendo_core/usage/measures.py", "import sqlalchemy", "Pure rules import no storage"),
    ("pendo_core/pipeline/run.py", "import pendo_sim.data", "Delivery layers"),
    ("api/accounts.py", "import pages.ui.shared", "Delivery layers"),
    ("pendo_core/alerts/rules.py", "import pendo_core.chat.facts", "pendo_core.alerts is not allowed to import"),
    ("pendo_core/pipeline/errors.py", "import pendo_core.pipeline.run", "The sync pipeline's inside"),
], ids=["store-imports-a-topic", "pure-measures-import-sqlalchemy", "library-imports-the-simulator",
        "api-imports-pages", "alerts-import-chat", "pipeline-errors-import-the-run"])
def test_an_import_the_wrong_way_fails_the_lint(tree: Path, module: str, line: str, broken: str) -> None:
    """One added import against the layers makes `lint-imports` fail and name the broken contract."""
    path = tree / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        result = _lint(tree)
    finally:
        path.write_text(original)
    assert result.returncode == 1
    assert broken in result.stdout, result.stdout[-3000:]
