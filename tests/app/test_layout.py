"""The house rules of STYLE.md: the flow of imports between packages."""
import ast
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT

FEATURES = {"nominations", "review", "voting", "results"}


def test_import_contracts_hold():
    """intake -> review | voting -> results; review and voting never import each other.

    Run as its own process: import-linter reconfigures logging, which would silence the
    loggers of the tests that come after it.
    """
    command = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(command), "--config", str(PROJECT_ROOT / "setup.cfg")],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_app_imports_no_feature_package_at_module_level():
    offenders = []
    for path in Path(PROJECT_ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only; create_app() imports inside its body
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FEATURES]
    assert offenders == []

