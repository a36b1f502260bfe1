"""Follow-ups: on by default, their invoke role, recovery rule, permission and environment."""

from __future__ import annotations

import pytest

from cfn_eval import deployed_outputs, evaluated, getatt, ref
from cloudwatch_model import alarms_by_metric
from event_patterns import event_matches
from follow_up_checks import follow_up_problems
from role_checks import role_problems
from stack_facts import (
    FOLLOW_UP_GROUP_RESOURCE,
    FUNCTION,
    INVOKE_ROLE,
    RECOVERY_RULE,
    TOPIC,
    deployed,
)


def test_defaults_turn_follow_ups_on(template):
    params = template["Parameters"]
    assert params["FollowUps"]["Default"] == "Enabled"
    assert sorted(params["FollowUps"]["AllowedValues"]) == ["Disabled", "Enabled"]
    assert params["FollowUpInGrace"]["Default"] == "false"
    assert sorted(params["FollowUpInGrace"]["AllowedValues"]) == ["false", "true"]
    assert role_problems(evaluated(template), "audit", features=("follow_ups",)) == []


def test_follow_ups_invoke_role_rule_and_permission(template):
    assert follow_up_problems(deployed(template, features=("follow_ups",))) == []


def test_follow_ups_disabled_creates_nothing_of_them(template):
    resources = deployed(template)
    for name in (FOLLOW_UP_GROUP_RESOURCE, INVOKE_ROLE, "FollowUpInvokePolicy", RECOVERY_RULE, "RecoveryRulePermission", "FollowUpsFailedAlarm"):
        assert name not in resources
    assert not [name for name, res in resources.items() if res["Type"] in (
        "AWS::Scheduler::ScheduleGroup", "AWS::Events::Rule", "AWS::Lambda::Permission")]
    queue_policy = resources["DeadLetterQueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [st["Effect"] for st in queue_policy] == ["Deny"]
    variables = resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["ROOTSWEEP_FOLLOW_UP_GROUP"] == ""
    assert variables["ROOTSWEEP_FOLLOW_UP_ROLE_ARN"] == ""
    # In-grace follow-ups need follow-ups: off with them.
    assert deployed(template, FollowUpInGrace="true")[FUNCTION]["Properties"]["Environment"]["Variables"][
        "ROOTSWEEP_FOLLOW_UP_IN_GRACE"
    ] == "false"
    assert "FollowUpScheduleGroupName" not in deployed_outputs(template, FollowUps="Disabled")


@pytest.mark.parametrize("in_grace", ["true", "false"])
def test_follow_up_environment(template, in_grace):
    resources = deployed(template, features=("follow_ups",), FollowUpInGrace=in_grace)
    variables = resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["ROOTSWEEP_FOLLOW_UP_GROUP"] == ref(FOLLOW_UP_GROUP_RESOURCE)
    assert variables["ROOTSWEEP_FOLLOW_UP_ROLE_ARN"] == getatt(INVOKE_ROLE, "Arn")
    assert variables["ROOTSWEEP_FOLLOW_UP_IN_GRACE"] == in_grace
    outputs = deployed_outputs(template, FollowUps="Enabled")
    assert outputs["FollowUpScheduleGroupName"]["Value"] == ref(FOLLOW_UP_GROUP_RESOURCE)


def test_the_recovery_event_matcher_is_faithful():
    # The matcher itself: exact values, suffix, exists - so the rule checks in follow_up_checks.py mean something.
    assert event_matches({"a": ["x"]}, {"a": "x"}) and not event_matches({"a": ["x"]}, {"a": "y"})
    assert event_matches({"a": [{"exists": False}]}, {}) and not event_matches({"a": [{"exists": False}]}, {"a": "e"})
    assert event_matches({"a": {"b": [{"suffix": "/P"}]}}, {"a": {"b": "arn/P"}})
    assert not event_matches({"a": {"b": [{"suffix": "/P"}]}}, {"a": {"b": "arn/Q"}})
    assert not event_matches({"a": {"b": ["x"]}}, {"a": "x"})


def test_follow_ups_failed_alarm(template):
    resources = deployed(template, features=("follow_ups",))
    (_, alarm), = alarms_by_metric(resources, "FollowUpsFailed")
    props = alarm["Properties"]
    assert props["Namespace"] == "Rootsweep"
    assert (props["ComparisonOperator"], props["Threshold"], props["Statistic"]) == ("GreaterThanThreshold", 0, "Sum")
    assert props["AlarmActions"] == [ref(TOPIC)]
    assert alarms_by_metric(deployed(template), "FollowUpsFailed") == []
