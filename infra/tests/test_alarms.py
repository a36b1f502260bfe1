"""The alarms, the dashboard and the alarm topic's subscription."""

from __future__ import annotations

import json

import pytest

from cfn_eval import Evaluator, evaluated, getatt, parameter_values, ref
from cloudwatch_model import MISSING, alarms_by_metric, metric_math
from stack_facts import (
    ALL_FEATURES,
    FAILED_INVOCATION_QUEUE,
    FUNCTION,
    SCHEDULE_DLQ,
    TOPIC,
    deployed,
)


@pytest.mark.parametrize(
    "metric",
    ["SweepCompleted", "AccountsFailed", "CredentialsDeleted", "Errors", "AccountsHeldByOddDates", "AccountsRetryLater"],
)
def test_each_alarm_exists_and_notifies_the_topic(template, metric):
    resources = evaluated(template)
    alarms = alarms_by_metric(resources, metric)
    assert len(alarms) == 1, f"expected one alarm on {metric}, found {[n for n, _ in alarms]}"
    (_, alarm), = alarms
    assert ref(TOPIC) in alarm["Properties"]["AlarmActions"]
    topic = resources[TOPIC]
    assert topic["Type"] == "AWS::SNS::Topic" and topic["Properties"].get("KmsMasterKeyId")
    if metric == "Errors":
        props = alarm["Properties"]
        assert props["Namespace"] == "AWS/Lambda"
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": ref(FUNCTION)}]
    else:
        namespaces = {alarm["Properties"].get("Namespace")} | {
            q["MetricStat"]["Metric"]["Namespace"] for q in alarm["Properties"].get("Metrics", []) if "MetricStat" in q
        }
        assert namespaces - {None} == {"Rootsweep"}


def test_missed_sweep_alarm_treats_missing_data_as_breaching(template):
    resources = evaluated(template)
    (_, alarm), = alarms_by_metric(resources, "SweepCompleted")
    props = alarm["Properties"]
    assert props["TreatMissingData"] == "breaching"
    assert props["Statistic"] == "Sum"
    assert (props["ComparisonOperator"], props["Threshold"]) == ("LessThanThreshold", 1)
    # Every period in the window must lack a run: N out of N.
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"]
    # Default: nightly (24 h) plus 2 h slack.
    assert props["Period"] * props["EvaluationPeriods"] == (24 + 2) * 3600


def test_missed_sweep_window_is_interval_plus_slack_for_every_allowed_value(template):
    params = template["Parameters"]
    intervals = params["ScheduleIntervalHours"]["AllowedValues"]
    slacks = params["MissedSweepSlackHours"]["AllowedValues"]
    for interval in intervals:
        for slack in slacks:
            resources = evaluated(template, ScheduleIntervalHours=interval, MissedSweepSlackHours=slack)
            (_, alarm), = alarms_by_metric(resources, "SweepCompleted")
            props = alarm["Properties"]
            window = props["Period"] * props["EvaluationPeriods"]
            assert window == (int(interval) + int(slack)) * 3600, (interval, slack)
            assert window <= 7 * 86400  # CloudWatch's limit for Period x EvaluationPeriods


def test_odd_dates_alarm_fires_on_any_account_held_by_odd_dates_and_clears(template):
    for interval in template["Parameters"]["ScheduleIntervalHours"]["AllowedValues"]:
        resources = evaluated(template, ScheduleIntervalHours=interval)
        (_, alarm), = alarms_by_metric(resources, "AccountsHeldByOddDates")
        props = alarm["Properties"]
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
        # Maximum over one schedule interval: the last scheduled run decides, a targeted run's
        # zero in between does not clear it.
        assert props["Statistic"] == "Maximum"
        assert props["Period"] == int(interval) * 3600
        assert props["EvaluationPeriods"] == 1
        assert props["TreatMissingData"] == "ignore"
        assert props["OKActions"] == [ref(TOPIC)]


def test_retry_later_alarm_needs_two_consecutive_runs_for_every_schedule_interval(template):
    for interval in template["Parameters"]["ScheduleIntervalHours"]["AllowedValues"]:
        resources = evaluated(template, ScheduleIntervalHours=interval)
        (_, alarm), = alarms_by_metric(resources, "AccountsRetryLater")
        props = alarm["Properties"]
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
        assert props["Statistic"] == "Maximum"
        # One period per scheduled run, two of two breaching: the last two runs.
        assert props["Period"] == int(interval) * 3600, interval
        assert props["EvaluationPeriods"] == props["DatapointsToAlarm"] == 2
        assert props["Period"] * props["EvaluationPeriods"] <= 7 * 86400  # CloudWatch's limit
        assert props["Period"] % 60 == 0
        assert props["TreatMissingData"] == "ignore"  # a missed run is the missed-sweep alarm's
        assert props["OKActions"] == [ref(TOPIC)]


def dashboard(resources: dict) -> dict:
    body = resources["RootsweepDashboard"]["Properties"]["DashboardBody"]
    return json.loads(body)


@pytest.mark.parametrize("features", [(), ALL_FEATURES])
def test_dashboard_shows_every_alarm_and_is_valid_json(template, features):
    resources = deployed(template, features=features)
    body = dashboard(resources)
    shown = [
        alarm
        for widget in body["widgets"]
        if widget["type"] == "alarm"
        for alarm in widget["properties"]["alarms"]
    ]
    alarms = sorted(name for name, res in resources.items() if res["Type"] == "AWS::CloudWatch::Alarm")
    assert sorted(shown) == sorted("${" + name + ".Arn}" for name in alarms)
    metrics = json.dumps(body)
    for metric in ("AccountsHeldByOddDates", "AccountsRetryLater", "FollowUpsCreated", "FollowUpsReplaced", "FollowUpsKept", "FollowUpsFailed"):
        assert f'"{metric}"' in metrics


def test_alarm_email_subscription_only_when_an_address_is_given(template):
    subscriptions = [
        (name, res) for name, res in template["Resources"].items() if res["Type"] == "AWS::SNS::Subscription"
    ]
    assert len(subscriptions) == 1
    (_, subscription), = subscriptions
    assert Evaluator(template, parameter_values(template)).condition(subscription["Condition"]) is False
    assert (
        Evaluator(template, parameter_values(template, AlarmEmail="secops@example.com")).condition(
            subscription["Condition"]
        )
        is True
    )


def test_the_metric_math_model_is_faithful():
    assert metric_math("a + b", {"a": 1}) is MISSING
    assert metric_math("FILL(a, 0) + FILL(b, 0)", {"a": 1}) == 1
    assert metric_math("FILL(a, 0) + FILL(b, 0)", {}) == 0
    assert metric_math("a + b", {"a": 1, "b": 2}) == 3


# SQS publishes metrics only for active queues: each combination of waiting and idle queues.
@pytest.mark.parametrize("waiting", [{"schedule": 1}, {"invocation": 2}, {"schedule": 1, "invocation": 3}, {}])
def test_dead_letters_alarm_fires_when_any_one_queue_holds_a_message(template, waiting):
    resources = evaluated(template)
    (_, alarm), = [
        (name, res) for name, res in alarms_by_metric(resources, "ApproximateNumberOfMessagesVisible") if res["Properties"].get("Metrics")
    ]
    props = alarm["Properties"]
    queries = {q["Id"]: q for q in props["Metrics"]}
    queues = {i: q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for i, q in queries.items() if "MetricStat" in q}
    assert sorted(queues.values(), key=str) == [getatt(FAILED_INVOCATION_QUEUE, "QueueName"), getatt(SCHEDULE_DLQ, "QueueName")]
    (expression,) = [q["Expression"] for q in queries.values() if q.get("ReturnData")]
    value = metric_math(expression, waiting)
    assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
    if waiting:
        assert value is not MISSING and value > 0, (expression, waiting)
    else:
        assert value is MISSING or value == 0
