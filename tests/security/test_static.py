"""bandit finds nothing in the application code that is not answered where it stands (a
``# nosec BXXX: why`` comment next to the line)."""
import json
import subprocess
import sys

from app.config import PROJECT_ROOT

PACKAGES = ("app", "nominations", "review", "voting", "results")


def test_bandit_finds_nothing_unanswered():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", *PACKAGES, "-f", "json"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=300)
    report = json.loads(result.stdout)
    issues = [f"{i['filename']}:{i['line_number']} {i['test_id']} {i['issue_text']}"
              for i in report["results"]]
    assert issues == [], "\n".join(issues)
    assert report["metrics"]["_totals"]["loc"] > 5000  # it really read the code
