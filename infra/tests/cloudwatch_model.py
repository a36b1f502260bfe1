"""Finding the template's alarms by metric, and one period of CloudWatch metric math for what the
alarms use.
"""

from __future__ import annotations

import re


def alarm_metric_names(alarm: dict) -> set[str]:
    props = alarm["Properties"]
    names = {props.get("MetricName")}
    for query in props.get("Metrics", []):
        names.add(query.get("MetricStat", {}).get("Metric", {}).get("MetricName"))
    return names - {None}


def alarms_by_metric(resources: dict, metric: str) -> list[tuple[str, dict]]:
    return [
        (name, res)
        for name, res in resources.items()
        if res["Type"] == "AWS::CloudWatch::Alarm" and metric in alarm_metric_names(res)
    ]


class Missing:
    """A metric without a data point in a period: arithmetic on it has no data point either."""

    def __add__(self, other):
        return self

    __radd__ = __add__


MISSING = Missing()


def metric_math(expression: str, values: dict):
    """One period of CloudWatch metric math, for what the alarms use: `+` and `FILL(m, 0)`; a
    metric absent from `values` has no data point in the period
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html)."""
    assert re.fullmatch(r"[A-Za-z0-9_(), +]+", expression), f"not modelled here: {expression}"
    ids = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)) - {"FILL"}

    def fill(value, default):
        return default if value is MISSING else value

    return eval(expression, {"__builtins__": {}, "FILL": fill}, {i: values.get(i, MISSING) for i in ids})
