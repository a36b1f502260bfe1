"""Policy facts of infra/template.yaml, checked so that a later edit cannot silently widen the role.

The template is read with cfn-lint's own decoder (it understands !Ref, !If, !Sub ...) and its
intrinsic functions are evaluated here for a given set of parameter values: the role is checked
as deployed in audit mode and in enforce mode. Each check returns a list of problems; the tests
assert that list is empty, and test_checks_catch_* assert the checks flag a widened template.

Layout: cfn_eval.py evaluates the template; stack_facts.py holds what the stack is made of;
event_patterns.py matches EventBridge patterns; *_checks.py return the problems of one part;
cloudwatch_model.py finds alarms and models metric math; the test_*.py files test one concern each.
"""

from __future__ import annotations

import pytest

from cfn_eval import load_template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()
