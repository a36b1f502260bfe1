"""The run ledger's state bucket and its alarm."""

from __future__ import annotations

import pytest

from bucket_checks import state_bucket_problems
from cfn_eval import deployed_outputs, evaluated, ref
from cloudwatch_model import alarms_by_metric
from role_checks import role_problems, state_location
from stack_facts import ALL_FEATURES, TOPIC, deployed


@pytest.mark.parametrize("mode, features", [("audit", ()), ("enforce", ALL_FEATURES)])
def test_state_bucket_is_always_created_private_versioned_and_named_to_the_function(template, mode, features):
    resources = deployed(template, mode, features=features)
    assert state_bucket_problems(resources) == []
    assert state_location(resources) == "s3://${StateBucket}/rootsweep"
    assert role_problems(resources, mode, features=features) == []
    assert deployed_outputs(template)["StateLocation"]["Value"] == "s3://${StateBucket}/rootsweep"


def test_ledger_failed_alarm_for_every_schedule_interval(template):
    for interval in template["Parameters"]["ScheduleIntervalHours"]["AllowedValues"]:
        resources = evaluated(template, ScheduleIntervalHours=interval)
        (_, alarm), = alarms_by_metric(resources, "LedgerFailed")
        props = alarm["Properties"]
        assert props["Namespace"] == "Rootsweep" and "Dimensions" not in props
        assert (props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)
        # One schedule interval: the sweep's period.
        assert (props["Period"], props["EvaluationPeriods"]) == (int(interval) * 3600, 1)
        assert props["TreatMissingData"] == "notBreaching"
        assert props["AlarmActions"] == [ref(TOPIC)]
