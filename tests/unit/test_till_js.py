"""The till's JavaScript unit tests (tests/js/, node's own test runner), run as part of pytest
so that `make test` and CI fail when they do."""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_tills_javascript_unit_tests_pass():
    node = shutil.which("node")
    assert node, "node is missing: scripts/system-deps.sh installs it"
    run = subprocess.run([node, "--test", "--test-reporter=spec", "tests/js/"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    passed = re.search(r"^ℹ pass (\d+)$", run.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 20, run.stdout[-4000:]
    assert re.search(r"^ℹ fail 0$", run.stdout, re.MULTILINE), run.stdout[-4000:]
