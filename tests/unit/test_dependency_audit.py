"""`make audit` fails the build on a known vulnerability; an audit it cannot complete is loud,
and fails only when required (scripts/audit_dependencies.py). pip-audit is stood in for by a
script that writes the report pip-audit would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def audit(tmp_path: Path, dependencies: list[dict], **env) -> subprocess.CompletedProcess:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    fake = tmp_path / "pip-audit"
    # Writes the canned report where `-o` says, like pip-audit.
    fake.write_text(f"#!{sys.executable}\nimport shutil, sys\n"
                    f"shutil.copy({str(report)!r}, sys.argv[sys.argv.index('-o') + 1])\n")
    fake.chmod(0o755)
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "audit_dependencies.py")], capture_output=True,
                          text=True, env={**os.environ, "EXCHANGE_PIP_AUDIT": str(fake), **env})


def test_a_known_vulnerability_fails_the_build(tmp_path):
    result = audit(tmp_path, [
        {"name": "pyjwt", "version": "2.3.0", "vulns": [{"id": "GHSA-ffqj-6fqr-9h24", "fix_versions": ["2.4.0"]}]},
        {"name": "flask", "version": "3.1.3", "vulns": []}])
    assert result.returncode == 1
    assert "VULNERABLE pyjwt==2.3.0: GHSA-ffqj-6fqr-9h24 (fixed in 2.4.0)" in result.stdout


def test_a_clean_complete_audit_passes(tmp_path):
    result = audit(tmp_path, [{"name": "flask", "version": "3.1.3", "vulns": []}])
    assert result.returncode == 0 and "1 of 1 packages audited, 0 with known vulnerabilities" in result.stdout


def test_an_incomplete_audit_is_loud_and_fails_when_required(tmp_path):
    unaudited = [{"name": "flask", "version": "3.1.3", "skip_reason": "Dependency not found on PyPI"}]
    relaxed = audit(tmp_path, unaudited, EXCHANGE_AUDIT_REQUIRED="0")
    assert relaxed.returncode == 0 and "DEPENDENCY AUDIT INCOMPLETE" in relaxed.stderr
    assert audit(tmp_path, unaudited, EXCHANGE_AUDIT_REQUIRED="1").returncode == 2
