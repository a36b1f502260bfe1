"""The function itself (build, runtime, schedule, failures, logs) and the parameters that
configure it.
"""

from __future__ import annotations

import json
import re

import pytest

from cfn_eval import INFRA, evaluated, getatt, ref
from stack_facts import (
    CONDITIONAL_ENV,
    ENV_PARAMETERS,
    FAILED_INVOCATION_QUEUE,
    FUNCTION,
    GRACE_BOUNDS_SECONDS,
    LOG_GROUP,
    SESSION_BOUNDS_SECONDS,
    STACK_ENV,
    UNIT_SECONDS,
)


def test_number_parameters_are_compared_as_strings(template):
    # Wherever the template uses a Number parameter its value is a string ("0", not 0): an
    # Fn::Equals against the number 0 would never hold, and Object Lock would be turned on with
    # a retention of 0 days.
    numbers = {name for name, p in template["Parameters"].items() if p["Type"] == "Number"}
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "Fn::Equals":
                    refs = [x["Ref"] for x in item if isinstance(x, dict) and "Ref" in x]
                    literals = [x for x in item if not isinstance(x, dict)]
                    if set(refs) & numbers:
                        found.append(literals)
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(template["Conditions"])
    walk(template["Rules"])
    assert found and all(isinstance(x, str) for literals in found for x in literals), found


def test_mode_parameter_defaults_to_audit(template):
    mode = template["Parameters"]["Mode"]
    assert mode["Default"] == "audit"
    assert sorted(mode["AllowedValues"]) == ["audit", "enforce"]


def test_function_build_runtime_and_concurrency(template):
    fn = template["Resources"][FUNCTION]
    assert fn["Type"] == "AWS::Serverless::Function"
    assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert fn["Metadata"]["BuildProperties"] == {"Binary": "rootsweep-lambda"}
    props = fn["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["Architectures"] == [{"Ref": "Architecture"}]
    arch = template["Parameters"]["Architecture"]
    # x86_64: what make package and CI build and check here; arm64 stays an option.
    assert arch["Default"] == "x86_64" and sorted(arch["AllowedValues"]) == ["arm64", "x86_64"]
    assert props["Timeout"] == {"Ref": "Timeout"}
    timeout = template["Parameters"]["Timeout"]
    assert timeout["Default"] == 900 and timeout["MaxValue"] == 900
    # The run starts no account in its last 60 s and the handler refuses to start with 60 s or
    # less left: a timeout of 120 s is the least that leaves any time to work.
    assert timeout["MinValue"] == 120


def test_code_uri_is_the_crate_that_defines_the_lambda_binary(template):
    code_uri = template["Resources"][FUNCTION]["Properties"]["CodeUri"]
    manifest = (INFRA / code_uri / "Cargo.toml").resolve()
    assert manifest.is_file(), manifest
    text = manifest.read_text()
    assert re.search(r'\[\[bin\]\]\s*name\s*=\s*"rootsweep-lambda"', text), "no [[bin]] rootsweep-lambda"


def test_environment_comes_from_the_parameters(template):
    variables = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    plain = {var: value for var, value in variables.items() if var not in CONDITIONAL_ENV | STACK_ENV}
    assert plain == {var: {"Ref": param} for var, param in ENV_PARAMETERS.items()}
    # The rest depend on whether their feature is on, or name the stack's resources: checked
    # with each feature and with the state bucket.
    assert set(variables) - set(plain) == CONDITIONAL_ENV | STACK_ENV
    params = template["Parameters"]
    assert params["GracePeriod"]["Default"] == "72h"
    assert params["Concurrency"]["Default"] == 8
    assert (params["Concurrency"]["MinValue"], params["Concurrency"]["MaxValue"]) == (1, 64)
    assert params["ExemptAccounts"]["Default"] == ""
    assert params["MetricsNamespace"]["Default"] == "Rootsweep"
    assert params["RootSessionDuration"]["Default"] == "900s"
    delete_virtual = params["DeleteVirtualMfaDevices"]
    # Off by default: later copies of the delete task policy refuse the call, and a refused call
    # shows up in the member account as AccessDenied by root.
    assert delete_virtual["Default"] == "false"
    assert sorted(delete_virtual["AllowedValues"]) == ["false", "true"]


@pytest.mark.parametrize(
    "parameter, good, bad",
    [
        (
            "GracePeriod",
            ["72h", "7d", "90m", "2w", "60m", "1h", "365d", "8760h", "52w", "525600m"],
            ["72", "0h", "-3d", "1h 30m", "3 days", "59m", "48m", "366d", "8761h", "53w", "525601m", "072h"],
        ),
        ("ExemptAccounts", ["", "111111111111", "111111111111,222222222222"], ["12345", "111111111111,", "111111111111, 222222222222"]),
        ("ExemptOrganizationalUnits", ["", "ou-ab12-cd34ef56", "ou-ab12-cd34ef56,r-ab12"], ["ou-1", "OU-AB12-CD34EF56", "ou-ab12-cd34ef56, r-ab12"]),
        ("RootSessionDuration", ["900s", "90s", "15m", "2m"], ["901s", "89s", "60s", "1m", "16m", "1h", "900"]),
        ("MetricsNamespace", ["Rootsweep", "Security/Rootsweep"], ["", "AWS/Rootsweep", ":x", "x" * 256]),
        ("ScheduleExpression", ["cron(0 3 * * ? *)", "rate(12 hours)"], ["nightly", "0 3 * * *"]),
        ("AlarmEmail", ["", "secops@example.com"], ["secops", "a@b"]),
        ("LogsKmsKeyArn", ["", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"], ["alias/aws/logs"]),
        ("AthenaDatabaseName", ["", "rootsweep", "security_evidence", "r2"], ["Rootsweep", "root-sweep", "2rootsweep", "a" * 65]),
        ("ArchiveBucketName", ["", "evidence-bucket", "org.audit.evidence"], ["Evidence", "ab", "bucket/", "s3://evidence", "a" * 64]),
        (
            "ArchivePrefix",
            ["rootsweep", "audit/rootsweep", "a.b/c_d-e", "2026"],
            ["", "/rootsweep", "rootsweep/", "a//b", "runs/*", "a?", ".", "a/../b", "a/./b", "${AWS::Region}", "a b"],
        ),
    ],
)
def test_parameter_patterns(template, parameter, good, bad):
    param = template["Parameters"][parameter]
    pattern = re.compile(param["AllowedPattern"])
    assert pattern.fullmatch(str(param["Default"])), "the default must satisfy its own pattern"
    assert [v for v in good if not pattern.fullmatch(v)] == []
    assert [v for v in bad if pattern.fullmatch(v)] == []


@pytest.mark.parametrize(
    "parameter, units, bounds",
    [("GracePeriod", "mhdw", GRACE_BOUNDS_SECONDS), ("RootSessionDuration", "sm", SESSION_BOUNDS_SECONDS)],
)
def test_duration_patterns_accept_exactly_what_the_function_accepts(template, parameter, units, bounds):
    # Every number in every unit the pattern knows, up to well past the upper bound: accepted
    # exactly when the function would accept it.
    pattern = re.compile(template["Parameters"][parameter]["AllowedPattern"])
    low, high = bounds
    wrong = []
    for unit in units:
        for amount in range(0, high // UNIT_SECONDS[unit] + 100):
            value = f"{amount}{unit}"
            if bool(pattern.fullmatch(value)) != (low <= amount * UNIT_SECONDS[unit] <= high):
                wrong.append(value)
    assert wrong == []


def test_schedule_has_retry_policy_dead_letter_queue_and_full_run_input(template):
    resources = evaluated(template)
    events = resources[FUNCTION]["Properties"]["Events"]
    schedules = [e for e in events.values() if e["Type"] in ("ScheduleV2", "Schedule")]
    assert len(schedules) == 1
    schedule = schedules[0]
    assert schedule["Type"] == "ScheduleV2"
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 3 * * ? *)"  # nightly by default
    assert json.loads(props["Input"]) == {}
    retry = props["RetryPolicy"]
    assert retry["MaximumRetryAttempts"] >= 1 and 60 <= retry["MaximumEventAgeInSeconds"] <= 86400
    dlq = props["DeadLetterConfig"]["Arn"]
    assert dlq["Fn::GetAtt"][1] == "Arn"
    queue = resources[dlq["Fn::GetAtt"][0]]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"].get("SqsManagedSseEnabled") is True or queue["Properties"].get("KmsMasterKeyId")


def test_async_failures_go_to_an_on_failure_destination(template):
    resources = evaluated(template)
    config = resources[FUNCTION]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 0
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": getatt(FAILED_INVOCATION_QUEUE, "Arn")}
    queue = resources[FAILED_INVOCATION_QUEUE]["Properties"]
    assert queue.get("SqsManagedSseEnabled") is True or queue.get("KmsMasterKeyId")


def test_log_group_has_retention_and_json_format(template):
    resources = evaluated(template)
    logging = resources[FUNCTION]["Properties"]["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["LogGroup"] == ref(LOG_GROUP)
    log_group = template["Resources"][LOG_GROUP]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] in template["Parameters"]["LogRetentionDays"]["AllowedValues"]
    # The report lines are logged at INFO: Lambda's filter set to WARN or ERROR would drop them.
    assert set(template["Parameters"]["LogLevel"]["AllowedValues"]) <= {"TRACE", "DEBUG", "INFO"}
    assert logging["ApplicationLogLevel"] == template["Parameters"]["LogLevel"]["Default"] == "INFO"
    assert "KmsKeyId" not in resources[LOG_GROUP]["Properties"]  # no key given: none set
    with_key = evaluated(template, LogsKmsKeyArn="arn:aws:kms:us-east-1:111122223333:key/abc")
    assert with_key[LOG_GROUP]["Properties"]["KmsKeyId"] == "arn:aws:kms:us-east-1:111122223333:key/abc"
