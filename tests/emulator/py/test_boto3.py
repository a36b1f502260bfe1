"""boto3 against the rootsweep-emulator binary: the same endpoint, botocore's own wire formats.

Starts the built binary (ROOTSWEEP_EMULATOR_BIN, default target/debug/rootsweep-emulator) on a
free port with a generated org, then checks each service's effect through the admin API.
"""

import contextlib
import importlib
import json
import os
import subprocess
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.auth
import botocore.compat
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[3]
# The emulator's default caller credentials (README: SigV4): it checks every signature.
CALLER = {
    "aws_access_key_id": "AKIDEXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
ACCOUNTS = 45


@contextlib.contextmanager
def running_emulator(*args):
    """The emulator binary on a free port with a generated org and `args`; yields its URL."""
    binary = Path(os.environ.get("ROOTSWEEP_EMULATOR_BIN", REPO / "target/debug/rootsweep-emulator"))
    process = subprocess.Popen(
        [str(binary), "--listen", "127.0.0.1:0", "--accounts", str(ACCOUNTS), "--seed", "5", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"first stdout line should be the URL, got {url!r}"
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0, "the emulator stops cleanly on SIGTERM"


@pytest.fixture(scope="module")
def emulator():
    with running_emulator() as url:
        yield url


def admin(url, path):
    with urllib.request.urlopen(f"{url}/_emulator/{path}") as response:
        return json.load(response)


def post(url, path, document):
    request = urllib.request.Request(f"{url}/_emulator/{path}", data=json.dumps(document).encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        return response.status


def client(url, service, credentials=None, attempts=3, region="us-east-1"):
    credentials = credentials or CALLER
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
        **credentials,
    )


def root_session(url, account_id, policy):
    response = client(url, "sts").assume_root(
        TargetPrincipal=account_id,
        TaskPolicyArn={"arn": policy},
        DurationSeconds=900,
    )
    creds = response["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIAEMU")
    assert "EMUSECRET" in creds["SecretAccessKey"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def account_named(state, prefix):
    return next(a for a in state["accounts"] if a["name"].startswith(prefix + "-"))


def test_list_accounts_paginator_sees_every_account(emulator):
    organizations = client(emulator, "organizations")
    pages = list(organizations.get_paginator("list_accounts").paginate())
    assert [len(page["Accounts"]) for page in pages] == [20, 20, 5]
    ids = [account["Id"] for page in pages for account in page["Accounts"]]
    assert ids == [account["id"] for account in admin(emulator, "state")["accounts"]]
    assert isinstance(pages[0]["Accounts"][0]["JoinedTimestamp"], datetime)


def test_audit_then_delete_a_due_password(emulator):
    due = account_named(admin(emulator, "state"), "due")
    audit = client(emulator, "iam", root_session(emulator, due["id"], AUDIT))
    user = audit.get_user()["User"]
    assert user["UserId"] == due["id"]
    assert user["Arn"] == f"arn:aws:iam::{due['id']}:root"
    assert "PasswordLastUsed" in user
    profile = audit.get_login_profile()["LoginProfile"]
    created = datetime.fromisoformat(due["root_user"]["login_profile"]["created"].replace("Z", "+00:00"))
    assert profile["CreateDate"] == created
    assert audit.list_access_keys()["AccessKeyMetadata"] == []
    assert audit.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0

    with pytest.raises(ClientError) as denied:
        audit.delete_login_profile()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    remover = client(emulator, "iam", root_session(emulator, due["id"], DELETE))
    remover.delete_login_profile()
    with pytest.raises(remover.exceptions.NoSuchEntityException):
        remover.get_login_profile()

    after = next(a for a in admin(emulator, "state")["accounts"] if a["id"] == due["id"])
    assert "login_profile" not in after["root_user"]
    assert after["root_user"]["password_last_used"] == due["root_user"]["password_last_used"]
    calls = admin(emulator, "calls")
    delete = next(c for c in calls if c["operation"] == "DeleteLoginProfile" and c["status"] == 200)
    assert delete["caller"] == "root_session"
    assert delete["session_account_id"] == due["id"]
    assert delete["task_policy"] == "IAMDeleteRootUserCredentials"


def test_assume_root_duration_is_checked_by_the_server(emulator):
    due = account_named(admin(emulator, "state"), "due")
    with pytest.raises(ClientError) as error:
        client(emulator, "sts").assume_root(
            TargetPrincipal=due["id"], TaskPolicyArn={"arn": AUDIT}, DurationSeconds=3600
        )
    assert error.value.response["Error"]["Code"] == "ValidationError"


def test_put_metric_data_over_json(emulator):
    cloudwatch = client(emulator, "cloudwatch")
    when = datetime(2025, 3, 15, 10, 23, 45, tzinfo=timezone.utc)
    cloudwatch.put_metric_data(
        Namespace="RootSweepPy",
        MetricData=[
            {
                "MetricName": "AccountsAudited",
                "Dimensions": [{"Name": "Mode", "Value": "audit"}],
                "Timestamp": when,
                "Value": 42.0,
                "Unit": "Count",
            },
            {"MetricName": "Latency", "Values": [1.0, 2.0], "Counts": [3.0, 1.0]},
        ],
    )
    stored = [m for m in admin(emulator, "metrics") if m["namespace"] == "RootSweepPy"]
    assert [m["metric_name"] for m in stored] == ["AccountsAudited", "Latency"]
    assert stored[0]["value"] == 42.0
    assert stored[0]["unit"] == "Count"
    assert stored[0]["dimensions"] == [{"name": "Mode", "value": "audit"}]
    assert datetime.fromisoformat(stored[0]["timestamp"].replace("Z", "+00:00")) == when
    assert (stored[1]["values"], stored[1]["counts"]) == ([1.0, 2.0], [3.0, 1.0])
    call = [c for c in admin(emulator, "calls") if c["operation"] == "PutMetricData"][-1]
    assert call["protocol"] == "awsJson1_0", "botocore speaks JSON 1.0 to CloudWatch"


def test_faults_over_the_admin_api(emulator):
    assert post(emulator, "faults", [{"operation": "ListRoots", "kind": "throttle", "count": 1}]) == 204
    roots = client(emulator, "organizations").list_roots()["Roots"]
    assert len(roots) == 1
    statuses = [c["status"] for c in admin(emulator, "calls") if c["operation"] == "ListRoots"]
    assert statuses == [400, 200], "botocore retried the throttled call"


def error_of(call):
    with pytest.raises(ClientError) as error:
        call()
    response = error.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_throttling_file_limits_assume_root(tmp_path):
    limits = tmp_path / "throttling.json"
    limits.write_text(json.dumps({"assume_root": {"rate_per_second": 0, "burst": 1}}))
    with running_emulator("--throttling", str(limits)) as url:
        due = account_named(admin(url, "state"), "due")
        root_session(url, due["id"], AUDIT)
        sts = client(url, "sts", attempts=1)
        call = lambda: sts.assume_root(TargetPrincipal=due["id"], TaskPolicyArn={"arn": AUDIT})
        assert error_of(call) == (400, "Throttling", "Rate exceeded")
        stats = admin(url, "throttling")
        assert stats["config"] == {"assume_root": {"rate_per_second": 0.0, "burst": 1}}
        assert stats["throttled"] == {"AssumeRoot": 1}
        throttled = [c for c in admin(url, "calls") if c["throttled"]]
        assert [(c["operation"], c["throttled"]) for c in throttled] == [("AssumeRoot", "assume_root_rate")]


def test_throttling_over_the_admin_api(emulator):
    assert post(emulator, "throttling", {"organizations": {"rate": {"rate_per_second": 0, "burst": 1}}}) == 204
    try:
        organizations = client(emulator, "organizations", attempts=1)
        organizations.describe_organization()
        status, code, message = error_of(organizations.describe_organization)
        assert (status, code) == (400, "TooManyRequestsException")
        assert message.startswith("You have sent too many requests")
    finally:
        assert post(emulator, "throttling", {}) == 204
    client(emulator, "organizations").describe_organization()


def test_iam_propagation_delay_keeps_reads_stale():
    with running_emulator("--iam-propagation-delay-ms", "3600000") as url:
        due = account_named(admin(url, "state"), "due")
        remover = client(url, "iam", root_session(url, due["id"], DELETE))
        remover.delete_login_profile()
        after = next(a for a in admin(url, "state")["accounts"] if a["id"] == due["id"])
        assert "login_profile" not in after["root_user"], "the deletion happened"
        assert "LoginProfile" in remover.get_login_profile(), "but IAM reads do not see it yet"
        with pytest.raises(remover.exceptions.NoSuchEntityException):
            remover.delete_login_profile()


def test_iam_marker_paging(emulator):
    holder = account_named(admin(emulator, "state"), "access-keys")
    expected = [key["id"] for key in holder["root_user"]["access_keys"]]
    assert len(expected) == 2, "seed 5's first access-keys account has two keys"
    iam = client(emulator, "iam", root_session(emulator, holder["id"], AUDIT))
    keys = iam.list_access_keys(MaxItems=1)
    assert keys["IsTruncated"] and [k["AccessKeyId"] for k in keys["AccessKeyMetadata"]] == expected[:1]
    pages = list(iam.get_paginator("list_access_keys").paginate(PaginationConfig={"PageSize": 1}))
    assert [k["AccessKeyId"] for page in pages for k in page["AccessKeyMetadata"]] == expected
    with pytest.raises(ClientError) as error:
        iam.list_mfa_devices(Marker=keys["Marker"])
    assert error.value.response["Error"] == {"Type": "Sender", "Code": "ValidationError", "Message": "Invalid Marker."}
    assert error_of(lambda: iam.list_mfa_devices(MaxItems=1001))[:2] == (400, "ValidationError")


def test_organizations_short_pages_and_bound_tokens():
    with running_emulator("--organizations-short-pages", "0") as url:
        organizations = client(url, "organizations", attempts=1)
        pages = list(organizations.get_paginator("list_accounts").paginate())
        sizes = [len(page["Accounts"]) for page in pages]
        assert 0 in sizes[:-1] and sizes[-1] == 0, f"empty pages with a NextToken, and an empty last one: {sizes}"
        assert any(0 < size < 20 for size in sizes), sizes
        ids = [account["Id"] for page in pages for account in page["Accounts"]]
        assert ids == [account["id"] for account in admin(url, "state")["accounts"]]

        token = organizations.list_accounts()["NextToken"]
        root = next(r for page in organizations.get_paginator("list_roots").paginate() for r in page["Roots"])
        with pytest.raises(ClientError) as error:
            organizations.list_accounts_for_parent(ParentId=root["Id"], NextToken=token)
        assert error.value.response["Error"]["Code"] == "InvalidInputException"
        assert error.value.response["Reason"] == "INVALID_NEXT_TOKEN"
        assert error_of(lambda: organizations.list_accounts(MaxResults=21))[:2] == (400, "InvalidInputException")


def test_signatures_are_checked(emulator):
    wrong = {**CALLER, "aws_secret_access_key": "not the secret"}
    mismatch = "The request signature we calculated does not match the signature you provided."
    status, code, message = error_of(client(emulator, "sts", wrong, attempts=1).get_caller_identity)
    assert (status, code) == (403, "SignatureDoesNotMatch") and message.startswith(mismatch)
    status, code, _ = error_of(client(emulator, "organizations", wrong, attempts=1).list_roots)
    assert (status, code) == (400, "InvalidSignatureException")
    unknown = {"aws_access_key_id": "AKIAUNKNOWNKEY000000", "aws_secret_access_key": "x"}
    assert error_of(client(emulator, "iam", unknown, attempts=1).list_organizations_features) == (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    status, code, _ = error_of(client(emulator, "organizations", unknown, attempts=1).list_roots)
    assert (status, code) == (400, "UnrecognizedClientException")
    status, code, _ = error_of(client(emulator, "sts", region="e2e-0", attempts=1).get_caller_identity)
    assert (status, code) == (403, "SignatureDoesNotMatch")


def skew_clock(monkeypatch, delta):
    """Moves the clock botocore signs with: its own signer's and, with awscrt installed, the CRT's."""
    real = botocore.compat.get_current_datetime
    skewed = lambda *args, **kwargs: real(*args, **kwargs) + delta
    monkeypatch.setattr(botocore.auth, "get_current_datetime", skewed)
    crt_auth = importlib.import_module("botocore.crt.auth") if botocore.compat.HAS_CRT else None
    if crt_auth is not None:
        monkeypatch.setattr(crt_auth, "get_current_datetime", skewed)


def test_clock_skew_beyond_five_minutes(emulator, monkeypatch):
    skew_clock(monkeypatch, -timedelta(minutes=10))
    status, code, message = error_of(client(emulator, "sts", attempts=1).get_caller_identity)
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith("Signature expired: ") and message.endswith(" - 5 min.)")
    status, code, message = error_of(client(emulator, "organizations", attempts=1).list_roots)
    assert (status, code) == (400, "InvalidSignatureException") and message.startswith("Signature expired")
    skew_clock(monkeypatch, timedelta(minutes=4))
    client(emulator, "sts", attempts=1).get_caller_identity()


def test_caller_credentials_flag():
    with running_emulator("--caller-access-key-id", "AKIAPYCALLER", "--caller-secret-access-key", "py-secret") as url:
        custom = {"aws_access_key_id": "AKIAPYCALLER", "aws_secret_access_key": "py-secret"}
        assert client(url, "sts", custom).get_caller_identity()["Arn"].startswith("arn:aws:sts::")
        assert error_of(client(url, "sts", attempts=1).get_caller_identity)[1] == "InvalidClientTokenId"


def test_caller_policy_from_the_template():
    template = REPO / "infra/template.yaml"
    with running_emulator("--caller-policy-template", str(template), "--template-parameter", "Mode=audit") as url:
        due = account_named(admin(url, "state"), "due")
        root_session(url, due["id"], AUDIT)
        sts = client(url, "sts", attempts=1)
        status, code, message = error_of(
            lambda: sts.assume_root(TargetPrincipal=due["id"], TaskPolicyArn={"arn": DELETE})
        )
        assert (status, code) == (403, "AccessDenied")
        assert message == (
            f"User: {sts.get_caller_identity()['Arn']} is not authorized to perform: sts:AssumeRoot on resource: "
            f"arn:aws:iam::{due['id']}:root because no identity-based policy allows the sts:AssumeRoot action"
        )
        organizations = client(url, "organizations", attempts=1)
        organizations.describe_organization()
        assert error_of(organizations.list_roots)[:2] == (400, "AccessDeniedException")


def test_assume_root_is_refused_on_the_global_endpoint(emulator):
    due = account_named(admin(emulator, "state"), "due")
    sts = client(emulator, "sts", attempts=1)

    def global_host(request, **_):
        request.headers["Host"] = "sts.amazonaws.com"

    sts.meta.events.register("before-sign.sts.*", global_host)
    assert error_of(lambda: sts.assume_root(TargetPrincipal=due["id"], TaskPolicyArn={"arn": AUDIT})) == (
        400,
        "InvalidAction",
        "Unknown Operation",
    )
    assert sts.get_caller_identity()["Arn"].startswith("arn:aws:sts::")


def test_put_metric_data_limits_over_json(emulator):
    cloudwatch = client(emulator, "cloudwatch", attempts=1)
    before = len(admin(emulator, "metrics"))
    cases = [
        ([{"MetricName": "M", "Value": 1.0}] * 1001, "The collection MetricData must not have a size greater than 1000."),
        (
            [{"MetricName": "M", "Value": 1.0, "Dimensions": [{"Name": f"D{i}", "Value": "v"} for i in range(31)]}],
            "The collection MetricData.member.1.Dimensions must not have a size greater than 30.",
        ),
        ([{"MetricName": "M", "Value": float("nan")}], "The value NaN for parameter MetricData.member.1.Value is invalid."),
        ([{"MetricName": "M", "Value": float("-inf")}], "The value -Infinity for parameter MetricData.member.1.Value is invalid."),
        ([{"MetricName": "M", "Value": 2.0**361}], "for parameter MetricData.member.1.Value is invalid."),
    ]
    for data, says in cases:
        with pytest.raises(ClientError) as error:
            cloudwatch.put_metric_data(Namespace="RootSweepPy", MetricData=data)
        response = error.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == "InvalidParameterValue;Sender"
        assert response["Error"]["Code"] == "InvalidParameterValue"
        assert response["Error"]["Message"].endswith(says), response["Error"]["Message"]
    assert len(admin(emulator, "metrics")) == before


def test_iam_answers_for_the_callers_own_credentials(emulator):
    iam = client(emulator, "iam", attempts=1)
    assert error_of(iam.get_login_profile) == (
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
    )
    holder = account_named(admin(emulator, "state"), "access-keys")
    audit = client(emulator, "iam", root_session(emulator, holder["id"], AUDIT), attempts=1)
    status, code, message = error_of(lambda: audit.get_access_key_last_used(AccessKeyId="AKIANOSUCHKEY0000001"))
    assert (status, code) == (403, "AccessDenied")
    assert message.endswith("iam:GetAccessKeyLastUsed on resource: access key AKIANOSUCHKEY0000001")


FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:rootsweep"
ROLE = "arn:aws:iam::111122223333:role/rootsweep-follow-up-invoke"


def fire(url, now):
    """Fires the schedules due at `now` (RFC 3339) through the admin API; answers what fired."""
    request = urllib.request.Request(f"{url}/_emulator/schedules/fire?now={now}", data=b"", method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_scheduler_one_time_schedules_and_their_firing():
    with running_emulator("--schedule-group", "follow-ups") as url:
        caller = admin(url, "state")["caller_account_id"]
        scheduler = client(url, "scheduler", attempts=1)

        def create(name, expression="at(2026-12-02T18:00:00)", action="DELETE"):
            return scheduler.create_schedule(
                Name=name,
                GroupName="follow-ups",
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": FUNCTION, "RoleArn": ROLE, "Input": json.dumps({"accounts": [name]})},
                ActionAfterCompletion=action,
            )["ScheduleArn"]

        assert create("f-1") == f"arn:aws:scheduler:us-east-1:{caller}:schedule/follow-ups/f-1"
        got = scheduler.get_schedule(Name="f-1", GroupName="follow-ups")
        assert (got["ScheduleExpression"], got["ActionAfterCompletion"]) == ("at(2026-12-02T18:00:00)", "DELETE")
        assert json.loads(got["Target"]["Input"]) == {"accounts": ["f-1"]}
        assert isinstance(got["CreationDate"], datetime)
        with pytest.raises(scheduler.exceptions.ConflictException):
            create("f-1")
        for name in ["f-2", "f-3"]:
            create(name, "at(2026-12-05T00:00:00)", "NONE")
        pages = list(
            scheduler.get_paginator("list_schedules").paginate(GroupName="follow-ups", PaginationConfig={"PageSize": 2})
        )
        assert [[s["Name"] for s in page["Schedules"]] for page in pages] == [["f-1", "f-2"], ["f-3"]]
        assert "ScheduleExpression" not in pages[0]["Schedules"][0], "summaries carry no expression"

        assert error_of(lambda: scheduler.get_schedule(Name="nope", GroupName="follow-ups")) == (
            404,
            "ResourceNotFoundException",
            "Schedule nope does not exist.",
        )
        assert error_of(lambda: scheduler.list_schedules(GroupName="other"))[:2] == (404, "ResourceNotFoundException")
        assert error_of(lambda: create("r", "rate(5 minutes)"))[:2] == (400, "ValidationException")

        fired = fire(url, "2026-12-02T18:00:00Z")
        assert [(f["name"], f["deleted"]) for f in fired] == [("f-1", True)]
        assert json.loads(fired[0]["input"]) == {"accounts": ["f-1"]}
        assert fire(url, "2026-12-02T18:00:00Z") == []
        with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
            scheduler.get_schedule(Name="f-1", GroupName="follow-ups")
        assert [f["name"] for f in fire(url, "2026-12-06T00:00:00Z")] == ["f-2", "f-3"]
        kept = admin(url, "schedules")
        assert [(s["name"], s["fired_at"]) for s in kept] == [("f-2", "2026-12-06T00:00:00Z"), ("f-3", "2026-12-06T00:00:00Z")]
        assert len(admin(url, "schedules/fired")) == 3
        call = next(c for c in admin(url, "calls") if c["operation"] == "CreateSchedule")
        assert (call["service"], call["protocol"]) == ("scheduler", "restJson1")


def asff(caller, member, updated="2026-12-02T18:00:00Z", **overrides):
    """A finding about `member`'s root credentials, in the caller's default product."""
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"rootsweep/{member}",
        "ProductArn": f"arn:aws:securityhub:us-east-1:{caller}:product/{caller}/default",
        "GeneratorId": "rootsweep/root-credentials",
        "AwsAccountId": caller,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2026-12-01T00:00:00Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "HIGH"},
        "Title": f"Root credentials in {member}",
        "Description": "The root user has a password past its grace period.",
        "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{member}"}],
        "RecordState": "ACTIVE",
    }
    return {**finding, **overrides}


def test_security_hub_findings(emulator):
    caller = admin(emulator, "state")["caller_account_id"]
    hub = client(emulator, "securityhub", attempts=1)
    imported = hub.batch_import_findings(
        Findings=[
            asff(caller, "100000000001"),
            asff(caller, "100000000002"),
            asff(caller, "100000000003", AwsAccountId="100000000003"),
            {key: value for key, value in asff(caller, "100000000004").items() if key != "Severity"},
        ]
    )
    assert (imported["SuccessCount"], imported["FailedCount"]) == (2, 2)
    assert [(f["Id"], f["ErrorCode"]) for f in imported["FailedFindings"]] == [
        ("rootsweep/100000000003", "AccessDeniedException"),
        ("rootsweep/100000000004", "InvalidInput"),
    ]
    hub.batch_import_findings(Findings=[asff(caller, "100000000002", "2026-12-03T00:00:00Z", RecordState="ARCHIVED")])

    filters = {
        "GeneratorId": [{"Value": "rootsweep/", "Comparison": "PREFIX"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    pages = list(hub.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 1}))
    found = [f for page in pages for f in page["Findings"]]
    assert [f["Id"] for f in found] == ["rootsweep/100000000001"]
    assert (found[0]["Region"], found[0]["Workflow"]["Status"]) == ("us-east-1", "NEW")
    archived = next(f for f in admin(emulator, "findings") if f["Id"] == "rootsweep/100000000002")
    assert (archived["RecordState"], archived["CreatedAt"]) == ("ARCHIVED", "2026-12-01T00:00:00Z")

    assert error_of(lambda: hub.batch_import_findings(Findings=[asff(caller, str(i)) for i in range(101)]))[:2] == (
        400,
        "InvalidInputException",
    )
    mixed = {"Title": [{"Value": "a", "Comparison": "CONTAINS"}, {"Value": "b", "Comparison": "NOT_CONTAINS"}]}
    assert error_of(lambda: hub.get_findings(Filters=mixed))[:2] == (400, "InvalidInputException")
    call = next(c for c in admin(emulator, "calls") if c["operation"] == "GetFindings")
    assert (call["service"], call["protocol"]) == ("securityhub", "restJson1")


def test_security_hub_not_enabled():
    with running_emulator("--security-hub-disabled") as url:
        hub = client(url, "securityhub", attempts=1)
        caller = admin(url, "state")["caller_account_id"]
        assert error_of(hub.get_findings) == (
            401,
            "InvalidAccessException",
            f"Account {caller} is not subscribed to AWS Security Hub",
        )


def test_s3_objects_path_style(tmp_path):
    with running_emulator("--bucket", "rootsweep-archive") as url:
        s3 = client(url, "s3", attempts=1)
        key = "rootsweep/runs/date=2026-12-02/run 1+2.jsonl.gz"
        body = bytes(range(256)) * 300
        put = s3.put_object(Bucket="rootsweep-archive", Key=key, Body=body, ContentType="application/gzip", Metadata={"run-id": "1"})
        got = s3.get_object(Bucket="rootsweep-archive", Key=key)
        assert got["Body"].read() == body
        assert (got["ContentType"], got["Metadata"], got["ETag"]) == ("application/gzip", {"run-id": "1"}, put["ETag"])
        assert s3.head_object(Bucket="rootsweep-archive", Key=key)["ContentLength"] == len(body)

        big = tmp_path / "big.bin"
        big.write_bytes(body)
        with big.open("rb") as stream:
            s3.put_object(Bucket="rootsweep-archive", Key="from-a-file", Body=stream)
        for name in ["a", "b", "c"]:
            s3.put_object(Bucket="rootsweep-archive", Key=f"rootsweep/runs/date=2026-12-03/{name}", Body=b"{}")
        pages = list(
            s3.get_paginator("list_objects_v2").paginate(
                Bucket="rootsweep-archive", Prefix="rootsweep/runs/", PaginationConfig={"PageSize": 2}
            )
        )
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        assert keys == [key] + [f"rootsweep/runs/date=2026-12-03/{n}" for n in "abc"], "botocore decodes encoding-type=url"
        assert [page["KeyCount"] for page in pages] == [2, 2]

        listed = {o["key"]: o for o in admin(url, "objects")}
        assert listed[key]["size"] == len(body) and listed[key]["content_type"] == "application/gzip"
        with urllib.request.urlopen(f"{url}/_emulator/objects/rootsweep-archive/from-a-file") as response:
            assert response.read() == body

        assert error_of(lambda: s3.get_object(Bucket="rootsweep-archive", Key="nope")) == (
            404,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        status, code, _ = error_of(lambda: s3.list_objects_v2(Bucket="no-such-bucket"))
        assert (status, code) == (404, "NoSuchBucket")
        call = next(c for c in admin(url, "calls") if c["operation"] == "PutObject")
        assert (call["service"], call["protocol"]) == ("s3", "restXml")


def test_lambda_function_configuration(tmp_path):
    variables = tmp_path / "rootsweep.json"
    variables.write_text(json.dumps({"ROOTSWEEP_MODE": "enforce", "ROOTSWEEP_MAX_REMEDIATIONS": "10"}))
    with running_emulator("--function", f"rootsweep={variables}") as url:
        caller = admin(url, "state")["caller_account_id"]
        arn = f"arn:aws:lambda:us-east-1:{caller}:function:rootsweep"
        functions = client(url, "lambda", attempts=1)
        for name in ["rootsweep", arn, f"{caller}:function:rootsweep"]:
            got = functions.get_function_configuration(FunctionName=name)
            assert (got["FunctionArn"], got["Version"], got["State"]) == (arn, "$LATEST", "Active")
            assert got["Environment"]["Variables"] == {"ROOTSWEEP_MODE": "enforce", "ROOTSWEEP_MAX_REMEDIATIONS": "10"}
        assert functions.get_function_configuration(FunctionName="rootsweep", Qualifier="$LATEST")["FunctionArn"] == f"{arn}:$LATEST"
        assert error_of(lambda: functions.get_function_configuration(FunctionName="nope")) == (
            404,
            "ResourceNotFoundException",
            f"Function not found: arn:aws:lambda:us-east-1:{caller}:function:nope",
        )
        with pytest.raises(functions.exceptions.ResourceNotFoundException):
            functions.get_function_configuration(FunctionName="rootsweep", Qualifier="1")
        call = next(c for c in admin(url, "calls") if c["operation"] == "GetFunctionConfiguration")
        assert (call["service"], call["protocol"]) == ("lambda", "restJson1")
