"""The template with every option on: consistent, and clean for cfn-lint and checkov."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bucket_checks import archive_bucket_problems, state_bucket_problems
from cfn_eval import INFRA, evaluated, load_template, parameter_values, rules_hold
from follow_up_checks import follow_up_problems
from role_checks import role_problems
from stack_facts import ALL_FEATURES, EVERYTHING_ON, EXEMPTIONS_SET, FUNCTION


CHECKOV = Path(__file__).resolve().parents[2] / ".venv" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def everything_on_template(tmp_path_factory) -> Path:
    variant = load_template()
    for name, value in EVERYTHING_ON.items():
        variant["Parameters"][name]["Default"] = value
    # CodeUri is relative to the template: point it at the crate from the copy's directory.
    variant["Resources"][FUNCTION]["Properties"]["CodeUri"] = str((INFRA / "../functions/rootsweep").resolve())
    path = tmp_path_factory.mktemp("variant") / "template.json"
    path.write_text(json.dumps(variant, indent=1))
    return path


def test_everything_on_is_a_consistent_deployment(template):
    values = parameter_values(template, **EVERYTHING_ON)
    assert all(rules_hold(template, **values).values())
    resources = evaluated(template, **EVERYTHING_ON)
    assert role_problems(resources, "enforce", tuple(EXEMPTIONS_SET), ALL_FEATURES) == []
    assert follow_up_problems(resources) == [] and archive_bucket_problems(resources, object_lock_days=30) == []
    assert state_bucket_problems(resources) == []


def test_cfn_lint_passes_with_everything_on(everything_on_template):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(everything_on_template)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov's virtualenv (.venv/checkov) is made by make lint-infra")
def test_checkov_passes_with_everything_on(everything_on_template):
    result = subprocess.run(
        [str(CHECKOV), "--quiet", "--compact", "--skip-download", "--framework", "cloudformation", "-f", str(everything_on_template)],
        capture_output=True,
        text=True,
        env={**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The archive bucket and the Glue table were scanned, not dropped as conditional.
    passed = int(re.search(r"Passed checks: (\d+)", result.stdout).group(1))
    assert passed >= 28, result.stdout
