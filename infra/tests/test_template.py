"""Policy facts of infra/template.yaml, checked so that a later edit cannot silently widen the role.

The template is read with cfn-lint's own decoder (it understands !Ref, !If, !Sub ...) and its
intrinsic functions are evaluated here for a given set of parameter values: the role is checked
as deployed in audit mode and in enforce mode. Each check returns a list of problems; the tests
assert that list is empty, and test_checks_catch_* assert the checks flag a widened template.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode

INFRA = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = INFRA / "template.yaml"
FORWARDER_PATH = INFRA / "forwarder.yaml"

FUNCTION = "RootsweepFunction"
ROLE = "RootsweepRole"
TOPIC = "AlarmTopic"
LOG_GROUP = "RootsweepLogGroup"
FAILED_INVOCATION_QUEUE = "FailedInvocationQueue"

AUDIT_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
DELETE_POLICY = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
ROOT_RESOURCE = "arn:aws:iam::*:root"

# The calls the function's code makes with its own role (the contract with functions/rootsweep).
FUNCTION_ACTIONS = {
    "iam:ListOrganizationsFeatures",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "sts:AssumeRoot",
    "cloudwatch:PutMetricData",
    # The run ledger (ROOTSWEEP_STATE): one object read and written, its bucket listable.
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
}
STATE_BUCKET = "StateBucket"
# The ledger's object under ROOTSWEEP_STATE (the function's contract: <prefix>/ledger.json.gz).
LEDGER_OBJECT = "ledger.json.gz"
# Calls the function makes only when an exemption needs them, and the parameters that ask for them.
EXEMPTION_ACTIONS = {
    "ExemptOrganizationalUnits": {
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent",
    },
    "ExemptTagKey": {"organizations:ListTagsForResource"},
}
EXEMPTIONS_SET = {"ExemptOrganizationalUnits": "ou-ab12-breakgls", "ExemptTagKey": "rootsweep:exempt"}
TAGS_RESOURCE = "arn:aws:organizations::*:account/o-*/*"
# What Lambda itself does with the role: write the function's logs, send on-failure records.
PLATFORM_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
# Actions without resource-level permissions: the only ones allowed on Resource "*".
RESOURCE_STAR_ALLOWED = {
    "iam:ListOrganizationsFeatures",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListAccountsForParent",
    "cloudwatch:PutMetricData",
}

# Optional features: the parameter values that turn each on and off, and the calls each adds to
# the function's role (none without it).
FOLLOW_UP_GROUP_RESOURCE = "FollowUpScheduleGroup"
INVOKE_ROLE = "FollowUpInvokeRole"
RECOVERY_RULE = "RecoveryRule"
SCHEDULE_DLQ = "ScheduleDeadLetterQueue"
SCHEDULER_ACTIONS = ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"]
FEATURES = {
    "follow_ups": {
        "on": {"FollowUps": "Enabled"},
        "off": {"FollowUps": "Disabled"},
        "actions": set(SCHEDULER_ACTIONS) | {"iam:PassRole"},
    },
    "security_hub": {
        "on": {"SecurityHubFindings": "true"},
        "off": {"SecurityHubFindings": "false"},
        "actions": {"securityhub:BatchImportFindings", "securityhub:GetFindings"},
    },
    "archive": {
        "on": {"CreateArchiveBucket": "true"},
        "off": {"CreateArchiveBucket": "false", "ArchiveBucketName": ""},
        "actions": {"s3:PutObject"},
    },
}
ARCHIVE_BUCKET = "ArchiveBucket"
RUN_REPORTS_TABLE = "RunReportsTable"

# The report lines as the function writes them: made by its own writer in a Rust test
# (functions/rootsweep/tests/features.rs, the_athena_fixture_is_what_the_function_writes), which
# fails when the format changes and the fixture does not.
REPORT_LINES = INFRA / "tests" / "fixtures" / "report_lines.jsonl"
# Report fields the Athena table leaves out, each for its reason: the log level (not evidence);
# audit_order_seed (a u64 can exceed Athena's bigint); the summary's follow_ups, archive and
# findings (what a run delivered, not what it found); the run ledger's own health (ledger). The
# SerDe skips undeclared fields.
NOT_IN_TABLE = {"level", "audit_order_seed", "follow_ups", "archive", "findings", "ledger"}


def hive_type(values: list):
    """The Hive type that reads every one of `values` (JSON values of one field)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, int):
        return "int"
    if isinstance(first, float):
        return "double"
    if isinstance(first, str):
        return "string"
    if isinstance(first, dict):
        inner = {hive_type(list(v.values())) for v in present}
        return f"map<string,{inner.pop()}>"
    items = [item for v in present for item in v]
    if not items:
        return None
    if isinstance(items[0], dict):
        keys = list(dict.fromkeys(k for item in items for k in item))
        members = ",".join(f"{k}:{hive_type([item.get(k) for item in items])}" for k in keys)
        return f"array<struct<{members}>>"
    return f"array<{hive_type(items)}>"


def report_fields() -> dict:
    """Each field of the report lines with the Hive type that reads it, from the fixture."""
    lines = [json.loads(line) for line in REPORT_LINES.read_text().splitlines()]
    assert {line["kind"] for line in lines} == {"account_report", "run_summary"}
    names = list(dict.fromkeys(k for line in lines for k in line))
    return {name: hive_type([line.get(name) for line in lines]) for name in names}


CREATED_BUCKET = "${ArchiveBucket}"  # the created bucket's name, as Fn::Sub leaves it here
ALL_FEATURES = tuple(FEATURES)

ENV_PARAMETERS = {
    "ROOTSWEEP_MODE": "Mode",
    "ROOTSWEEP_GRACE_PERIOD": "GracePeriod",
    "ROOTSWEEP_CONCURRENCY": "Concurrency",
    "ROOTSWEEP_EXEMPT_ACCOUNTS": "ExemptAccounts",
    "ROOTSWEEP_EXEMPT_OUS": "ExemptOrganizationalUnits",
    "ROOTSWEEP_EXEMPT_TAG_KEY": "ExemptTagKey",
    "ROOTSWEEP_EXEMPT_TAG_VALUE": "ExemptTagValue",
    "ROOTSWEEP_METRICS_NAMESPACE": "MetricsNamespace",
    "ROOTSWEEP_ROOT_SESSION_DURATION": "RootSessionDuration",
    "ROOTSWEEP_MAX_REMEDIATIONS": "MaxRemediations",
    "ROOTSWEEP_ASSUME_ROOT_RATE": "AssumeRootRate",
    "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES": "DeleteVirtualMfaDevices",
    "ROOTSWEEP_SECURITY_HUB": "SecurityHubFindings",
}

# Variables whose value depends on a feature being on (empty or "false" when it is off).
CONDITIONAL_ENV = {
    "ROOTSWEEP_FOLLOW_UP_GROUP",
    "ROOTSWEEP_FOLLOW_UP_ROLE_ARN",
    "ROOTSWEEP_FOLLOW_UP_IN_GRACE",
    "ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN",
    "ROOTSWEEP_ARCHIVE",
}
# Variables naming resources the stack always creates.
STACK_ENV = {"ROOTSWEEP_STATE"}

# The bounds the function enforces (functions/rootsweep/src/config.rs): the parameters' patterns
# must accept exactly these, so that a deployment never starts a function that refuses to run.
GRACE_BOUNDS_SECONDS = (3600, 365 * 86400)
SESSION_BOUNDS_SECONDS = (90, 900)  # two calls at the 45 s operation timeout .. AssumeRoot's max
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

STACK_UUID = "51af3dc0-da77-11e4-872e-1234567db123"


def stack_id(name: str, uuid: str = STACK_UUID) -> str:
    """AWS::StackId as CloudFormation gives it: the stack's name, then a UUID new for each stack."""
    return f"arn:aws:cloudformation:us-east-1:111122223333:stack/{name}/{uuid}"


PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "rootsweep",
    "AWS::StackId": stack_id("rootsweep"),
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()


# ------------------------------------------------------------------------------------------
# Loading and evaluating the template
# ------------------------------------------------------------------------------------------
def load_template(path: Path = TEMPLATE_PATH) -> dict:
    template, matches = decode(str(path))
    assert not matches, [str(m) for m in matches]
    assert template is not None
    return template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def parameter_values(template: dict, **overrides) -> dict:
    values = {name: p.get("Default") for name, p in template.get("Parameters", {}).items()}
    values.update(overrides)
    return values


class Evaluator:
    """Evaluates the intrinsic functions the template uses, for given parameter values.

    References to resources stay symbolic: {"Ref": name} and {"Fn::GetAtt": [name, attr]}.
    """

    def __init__(self, template: dict, params: dict):
        self.template = template
        self.params = params
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, node) -> bool:
        (fn, arg), = node.items()
        if fn == "Fn::Equals":
            a, b = (self.value(x) for x in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not self._truth(arg[0])
        if fn == "Fn::And":
            return all(self._truth(x) for x in arg)
        if fn == "Fn::Or":
            return any(self._truth(x) for x in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise AssertionError(f"unsupported condition function {fn}")

    def _lookup(self, name: str):
        if name in self.params:
            return self.params[name]
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        return None

    def _sub(self, text: str, variables: dict) -> str:
        def replace(match: re.Match) -> str:
            if match.group(1) is not None:
                return "${" + match.group(1) + "}"  # ${!Literal} is the literal ${Literal}
            name = match.group(2)
            if name in variables:
                return symbolic(self.value(variables[name]))
            found = self._lookup(name)
            if found is None or found is NO_VALUE:
                return match.group(0)  # a resource reference: keep it symbolic
            return str(found)

        return re.sub(r"\$\{!([^}]+)\}|\$\{([^}!]+)\}", replace, text)

    def value(self, node):
        if isinstance(node, dict):
            if len(node) == 1:
                (fn, arg), = node.items()
                if fn == "Ref":
                    found = self._lookup(arg)
                    return {"Ref": str(arg)} if found is None else found
                if fn == "Fn::If":
                    cond, yes, no = arg
                    return self.value(yes if self.condition(cond) else no)
                if fn == "Fn::Sub":
                    if isinstance(arg, list):
                        return self._sub(str(arg[0]), dict(arg[1]))
                    return self._sub(str(arg), {})
                if fn == "Fn::FindInMap":
                    name, key1, key2 = (self.value(x) for x in arg)
                    return self.template["Mappings"][name][str(key1)][str(key2)]
                if fn == "Fn::GetAtt":
                    parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
                    return {"Fn::GetAtt": [str(p) for p in parts]}
                if fn == "Fn::Split":
                    delimiter, source = arg
                    return self.value(source).split(str(delimiter))
                if fn == "Fn::Join":
                    delimiter, items = arg
                    return str(delimiter).join(str(v) for v in self.value(items))
                if fn == "Fn::Select":
                    index, items = arg
                    return self.value(items)[int(self.value(index))]
            out = {}
            for key, item in node.items():
                item = self.value(item)
                if item is not NO_VALUE:
                    out[str(key)] = item
            return out
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        if isinstance(node, str):
            return str(node)
        return node


def deployed_outputs(template: dict, **overrides) -> dict:
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    return {
        name: evaluator.value(output)
        for name, output in template["Outputs"].items()
        if "Condition" not in output or evaluator.condition(output["Condition"])
    }


def symbolic(value) -> str:
    """A value as Fn::Sub writes it: a resource reference left unresolved reads ${Name}."""
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return str(value)


def evaluated(template: dict, **overrides) -> dict:
    """The resources as deployed with these parameter values: those whose condition is false
    are left out, the intrinsic functions of the rest evaluated."""
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    return {
        name: evaluator.value(resource)
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or evaluator.condition(resource["Condition"])
    }


def deployed(template: dict, mode: str = "audit", exemptions=(), features=(), **overrides) -> dict:
    """The resources in `mode` with exactly the given exemptions and optional features on."""
    values: dict = {}
    for name, feature in FEATURES.items():
        values.update(feature["on"] if name in features else feature["off"])
    values.update({name: EXEMPTIONS_SET[name] for name in exemptions})
    values.update(overrides)
    return evaluated(template, Mode=mode, **values)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def ref(name: str) -> dict:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}


# ------------------------------------------------------------------------------------------
# The checks (each returns a list of problems)
# ------------------------------------------------------------------------------------------
def role_statements(resources: dict) -> tuple[list[dict], list[str]]:
    """Every Allow statement that reaches the function's role, and problems with how it does."""
    problems = []
    role = resources[ROLE]
    props = role["Properties"]
    for key in ("ManagedPolicyArns",):
        if props.get(key):
            problems.append(f"{ROLE} has {key}: every permission must be an inline, checked statement")
    documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
    # A policy resource attached to the role from outside would bypass the inline checks.
    for name, res in resources.items():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            roles = as_list(res["Properties"].get("Roles", [])) + as_list(res["Properties"].get("RoleName", []))
            if ref(ROLE) in roles:
                problems.append(f"{name} attaches a policy to {ROLE} from outside the role")
                documents.append(res["Properties"]["PolicyDocument"])
    function = resources[FUNCTION]["Properties"]
    if function.get("Policies"):
        problems.append(f"{FUNCTION} has SAM Policies: permissions belong in {ROLE}")
    if function.get("Role") != getatt(ROLE, "Arn"):
        problems.append(f"{FUNCTION} does not run with {ROLE}")
    statements = []
    for document in documents:
        for statement in as_list(document["Statement"]):
            for forbidden in ("NotAction", "NotResource", "NotPrincipal"):
                if forbidden in statement:
                    problems.append(f"statement {statement.get('Sid')} uses {forbidden}")
            if statement.get("Effect") == "Allow":
                statements.append(statement)
    return statements, problems


def role_problems(
    resources: dict,
    mode: str,
    exemptions: tuple[str, ...] = (),
    features: tuple[str, ...] = (),
    archive_bucket: str = CREATED_BUCKET,
    archive_prefix: str = "rootsweep",
) -> list[str]:
    """Problems with the role as deployed in `mode` with the exemption parameters `exemptions` set
    and the optional `features` on (the archive in `archive_bucket` under `archive_prefix`)."""
    expected_actions = FUNCTION_ACTIONS | PLATFORM_ACTIONS
    for parameter in exemptions:
        expected_actions |= EXEMPTION_ACTIONS[parameter]
    for feature in features:
        expected_actions |= FEATURES[feature]["actions"]
    statements, problems = role_statements(resources)
    s3_expected = s3_statement_shapes(resources, "archive" in features, archive_bucket, archive_prefix)
    s3_seen: list[str] = []
    actions: set[str] = set()
    for st in statements:
        sid = st.get("Sid", "?")
        st_actions = as_list(st.get("Action", []))
        for action in st_actions:
            if not isinstance(action, str) or "*" in action or "?" in action:
                problems.append(f"{sid}: action {action!r} is not explicit")
        actions.update(a for a in st_actions if isinstance(a, str))
        resources_ = as_list(st.get("Resource", []))
        if not resources_:
            problems.append(f"{sid}: no Resource")
        if "*" in resources_:
            wide = set(st_actions) - RESOURCE_STAR_ALLOWED
            if wide:
                problems.append(f"{sid}: Resource '*' for {sorted(wide)}, which support resource-level permissions")

        if "sts:AssumeRoot" in st_actions:
            if st_actions != ["sts:AssumeRoot"]:
                problems.append(f"{sid}: sts:AssumeRoot shares a statement with {st_actions}")
            if resources_ != [ROOT_RESOURCE]:
                problems.append(f"{sid}: sts:AssumeRoot on {resources_}, not only {ROOT_RESOURCE}")
            expected = [AUDIT_POLICY, DELETE_POLICY] if mode == "enforce" else [AUDIT_POLICY]
            condition = st.get("Condition")
            # Plain StringEquals: sts:TaskPolicyArn is single-valued, and ForAllValues would also
            # match a request that lacks the key.
            if condition != {"StringEquals": {"sts:TaskPolicyArn": expected}}:
                problems.append(f"{sid}: in {mode} mode the condition is {condition}, not sts:TaskPolicyArn = {expected}")

        if "cloudwatch:PutMetricData" in st_actions:
            namespace = (st.get("Condition") or {}).get("StringEquals", {}).get("cloudwatch:namespace")
            if st_actions != ["cloudwatch:PutMetricData"] or namespace != "Rootsweep":
                problems.append(f"{sid}: PutMetricData is not limited to the MetricsNamespace parameter ({st.get('Condition')})")

        if set(st_actions) & {"logs:CreateLogStream", "logs:PutLogEvents"}:
            if resources_ != [getatt(LOG_GROUP, "Arn")]:
                problems.append(f"{sid}: log actions on {resources_}, not only the function's log group")
        if "organizations:ListTagsForResource" in st_actions and resources_ != [TAGS_RESOURCE]:
            problems.append(f"{sid}: ListTagsForResource on {resources_}, not only member accounts")
        if "sqs:SendMessage" in st_actions and resources_ != [getatt(FAILED_INVOCATION_QUEUE, "Arn")]:
            problems.append(f"{sid}: sqs:SendMessage on {resources_}, not only the on-failure queue")

        # Security Hub: findings of this account's default product about this account only;
        # reading this account's hub.
        if "securityhub:BatchImportFindings" in st_actions:
            if st_actions != ["securityhub:BatchImportFindings"]:
                problems.append(f"{sid}: BatchImportFindings shares a statement with {st_actions}")
            if resources_ != [DEFAULT_PRODUCT]:
                problems.append(f"{sid}: BatchImportFindings on {resources_}, not only {DEFAULT_PRODUCT}")
            if st.get("Condition") != {"StringEquals": {"securityhub:TargetAccount": ACCOUNT}}:
                problems.append(f"{sid}: BatchImportFindings not limited to this account: {st.get('Condition')}")
        if "securityhub:GetFindings" in st_actions:
            if st_actions != ["securityhub:GetFindings"] or resources_ != [HUB]:
                problems.append(f"{sid}: GetFindings as {st_actions} on {resources_}, not only on {HUB}")
        if any(a.startswith("securityhub:") for a in st_actions) and not set(st_actions) <= FEATURES["security_hub"]["actions"]:
            problems.append(f"{sid}: Security Hub actions {st_actions}")

        # S3: each statement exactly one of the expected shapes (actions, resources), unconditioned.
        if any(a.startswith("s3:") for a in st_actions):
            shape = (tuple(sorted(map(str, st_actions))), tuple(map(str, resources_)))
            if shape not in s3_expected:
                problems.append(f"{sid}: S3 {st_actions} on {resources_}, not one of {sorted(s3_expected.values())}")
            else:
                s3_seen.append(s3_expected[shape])
            if st.get("Condition"):
                problems.append(f"{sid}: unexpected condition {st['Condition']}")

        # Follow-ups: schedules of the stack's own group only; the invoke role only, to Scheduler.
        if set(st_actions) & set(SCHEDULER_ACTIONS):
            if sorted(st_actions) != sorted(SCHEDULER_ACTIONS):
                problems.append(f"{sid}: scheduler actions {st_actions}, expected exactly {SCHEDULER_ACTIONS}")
            if resources_ != [FOLLOW_UP_SCHEDULES]:
                problems.append(f"{sid}: scheduler actions on {resources_}, not only {FOLLOW_UP_SCHEDULES}")
            if st.get("Condition"):
                problems.append(f"{sid}: unexpected condition {st['Condition']}")
        if "iam:PassRole" in st_actions:
            if st_actions != ["iam:PassRole"]:
                problems.append(f"{sid}: iam:PassRole shares a statement with {st_actions}")
            if resources_ != [getatt(INVOKE_ROLE, "Arn")]:
                problems.append(f"{sid}: iam:PassRole on {resources_}, not only {INVOKE_ROLE}")
            if st.get("Condition") != {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}:
                problems.append(f"{sid}: iam:PassRole not limited to Scheduler: {st.get('Condition')}")

    if sorted(s3_seen) != sorted(s3_expected.values()):
        problems.append(f"S3 statements {sorted(s3_seen)}, expected exactly {sorted(s3_expected.values())}")
    assume_root = [st for st in statements if "sts:AssumeRoot" in as_list(st.get("Action", []))]
    if len(assume_root) != 1:
        problems.append(f"{len(assume_root)} statements grant sts:AssumeRoot, expected exactly 1")
    if actions != expected_actions:
        problems.append(
            f"role actions differ from the contract: extra {sorted(actions - expected_actions)}, "
            f"missing {sorted(expected_actions - actions)}"
        )

    trust = resources[ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    if trust != [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]:
        problems.append(f"{ROLE} trusts more than Lambda: {trust}")
    return problems


def state_location(resources: dict) -> str:
    """ROOTSWEEP_STATE as the function gets it."""
    return resources[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_STATE"]


def s3_statement_shapes(resources: dict, archive: bool, archive_bucket: str, archive_prefix: str) -> dict:
    """The S3 statements the role must hold, as (sorted actions, resources) -> what for: the
    ledger's one object (read and written), its bucket (listed), and with an archive new objects
    under <prefix>/runs/. The ledger's object is derived from ROOTSWEEP_STATE, so the role and
    the function's configuration cannot drift apart."""
    bucket, _, prefix = state_location(resources).removeprefix("s3://").partition("/")
    shapes = {
        (("s3:GetObject", "s3:PutObject"), (f"arn:aws:s3:::{bucket}/{prefix}/{LEDGER_OBJECT}",)): "ledger object",
        (("s3:ListBucket",), (f"arn:aws:s3:::{bucket}",)): "ledger bucket listing",
    }
    if archive:
        shapes[(("s3:PutObject",), (f"arn:aws:s3:::{archive_bucket}/{archive_prefix}/runs/*",))] = "archive"
    return shapes


FOLLOW_UP_SCHEDULES = "arn:aws:scheduler:us-east-1:111122223333:schedule/${FollowUpScheduleGroup}/*"
ACCOUNT = PSEUDO["AWS::AccountId"]
DEFAULT_PRODUCT = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
HUB = "arn:aws:securityhub:us-east-1:111122223333:hub/default"


def attached_documents(resources: dict, role: str) -> list[dict]:
    """Policy documents attached to `role` by policy resources outside it."""
    documents = []
    for res in resources.values():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            roles = as_list(res["Properties"].get("Roles", [])) + as_list(res["Properties"].get("RoleName", []))
            if ref(role) in roles:
                documents.append(res["Properties"]["PolicyDocument"])
    return documents


def event_matches(pattern: dict, event: dict) -> bool:
    """EventBridge pattern matching, for the operators the template uses: exact values, prefix,
    suffix and exists (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html)."""
    for key, rule in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event.get(key) if present else None
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not event_matches(rule, value):
                return False
            continue
        if not any(_matches_one(alternative, present, value) for alternative in rule):
            return False
    return True


def _matches_one(alternative, present: bool, value) -> bool:
    if isinstance(alternative, dict):
        (operator, argument), = alternative.items()
        if operator == "exists":
            return present == argument
        if operator == "prefix":
            return present and isinstance(value, str) and value.startswith(argument)
        if operator == "suffix":
            return present and isinstance(value, str) and value.endswith(argument)
        raise AssertionError(f"operator {operator} not modelled here")
    return present and value == alternative


def assume_root_event(task_policy: str = "IAMCreateRootUserPassword", **detail) -> dict:
    """An AssumeRoot CloudTrail record as EventBridge delivers it: the record's fields as in the
    IAM User Guide's example (Track privileged tasks in CloudTrail), in the event's detail."""
    record = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "accountId": "111122223333"},
        "eventTime": "2026-11-25T20:52:11Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoot",
        "awsRegion": "us-east-1",
        "requestParameters": {
            "targetPrincipal": "222222222222",
            "taskPolicyArn": {"arn": f"arn:aws:iam::aws:policy/root-task/{task_policy}"},
        },
        "responseElements": {"credentials": {"expiration": "Nov 25, 2026, 9:07:11 PM"}},
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
    }
    record.update(detail)
    return {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sts",
        "account": "111122223333",
        "region": "us-east-1",
        "detail": record,
    }


RECOVERY = assume_root_event()
NOT_RECOVERIES = {
    "refused": assume_root_event(errorCode="AccessDenied", errorMessage="not authorized", responseElements=None),
    "audit": assume_root_event("IAMAuditRootUserCredentials"),
    "delete": assume_root_event("IAMDeleteRootUserCredentials"),
    "s3_unlock": assume_root_event("S3UnlockBucketPolicy"),
    "assume_role": {**RECOVERY, "detail": {**RECOVERY["detail"], "eventName": "AssumeRole"}},
    "other_source": {**RECOVERY, "source": "aws.iam"},
    "console": {**RECOVERY, "detail-type": "AWS Console Signin via CloudTrail"},
}


def follow_up_problems(resources: dict) -> list[str]:
    """Problems with the follow-up resources (FollowUps=Enabled): the invoke role, the recovery
    rule and what it may invoke, the dead letters it may send."""
    problems = []
    group = resources[FOLLOW_UP_GROUP_RESOURCE]["Properties"].get("Name")
    if not (isinstance(group, str) and re.fullmatch(SCHEDULE_GROUP_NAME, group)):
        problems.append(f"schedule group name {group!r} is not a valid name of at most 64 characters")

    role = resources[INVOKE_ROLE]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    expected_trust = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {"aws:SourceArn": getatt(FOLLOW_UP_GROUP_RESOURCE, "Arn")},
            },
        }
    ]
    if trust != expected_trust:
        problems.append(f"{INVOKE_ROLE} trust is {trust}, not Scheduler for this account's follow-up group")
    for key in ("ManagedPolicyArns", "Policies"):
        if role.get(key):
            problems.append(f"{INVOKE_ROLE} has {key}")
    statements = [st for doc in attached_documents(resources, INVOKE_ROLE) for st in as_list(doc["Statement"])]
    expected_statements = [
        {"Sid": "InvokeRootsweep", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": getatt(FUNCTION, "Arn")},
        {"Sid": "SendFollowUpDeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": getatt(FOLLOW_UP_DLQ, "Arn")},
    ]
    if statements != expected_statements:
        problems.append(f"{INVOKE_ROLE} may do {statements}, not only invoke the function and dead-letter to its queue")
    problems += follow_up_dead_letter_problems(resources)

    rule = resources[RECOVERY_RULE]["Properties"]
    if rule.get("State") != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
        problems.append(f"rule state {rule.get('State')}: AssumeRoot is a read-only management event")
    if rule.get("EventBusName", "default") != "default":
        problems.append(f"rule on bus {rule['EventBusName']}: CloudTrail events arrive on the default bus")
    pattern = rule["EventPattern"]
    if not event_matches(pattern, RECOVERY):
        problems.append("the rule does not match a successful AssumeRoot with IAMCreateRootUserPassword")
    for name, event in NOT_RECOVERIES.items():
        if event_matches(pattern, event):
            problems.append(f"the rule matches a {name} event")
    targets = rule.get("Targets", [])
    if [target.get("Arn") for target in targets] != [getatt(FUNCTION, "Arn")]:
        problems.append(f"rule targets {targets}, not only the function")
    for target in targets:
        for key in ("Input", "InputPath", "InputTransformer"):
            if key in target:
                problems.append(f"rule target changes the event ({key}): the function reads it as CloudTrail sends it")
        if target.get("DeadLetterConfig") != {"Arn": getatt(SCHEDULE_DLQ, "Arn")}:
            problems.append(f"rule target dead letters go to {target.get('DeadLetterConfig')}")

    permissions = [res["Properties"] for res in resources.values() if res["Type"] == "AWS::Lambda::Permission"]
    expected_permission = {
        "FunctionName": getatt(FUNCTION, "Arn"),
        "Action": "lambda:InvokeFunction",
        "Principal": "events.amazonaws.com",
        "SourceAccount": ACCOUNT,
        "SourceArn": getatt(RECOVERY_RULE, "Arn"),
    }
    if permissions != [expected_permission]:
        problems.append(f"Lambda permissions {permissions}, expected only the recovery rule's")

    queue_policy = resources["DeadLetterQueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [st for st in queue_policy if st["Effect"] == "Allow"]
    expected_allow = [
        {
            "Sid": "RecoveryRuleDeadLetters",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": getatt(SCHEDULE_DLQ, "Arn"),
            "Condition": {"ArnEquals": {"aws:SourceArn": getatt(RECOVERY_RULE, "Arn")}},
        }
    ]
    if allows != expected_allow:
        problems.append(f"dead-letter queue policy allows {allows}")
    return problems


# EventBridge Scheduler: schedule group names of 1 to 64 of these characters.
SCHEDULE_GROUP_NAME = r"[0-9a-zA-Z_.-]{1,64}"
FOLLOW_UP_DLQ = "FollowUpDeadLetterQueue"


def follow_up_dead_letter_problems(resources: dict) -> list[str]:
    """Problems with where follow-up schedules dead-letter: an encrypted queue, named to the
    function, deleted with the stack, watched by an alarm to the topic, TLS only."""
    problems = []
    queue = resources.get(FOLLOW_UP_DLQ)
    if queue is None or queue["Type"] != "AWS::SQS::Queue":
        return [f"no {FOLLOW_UP_DLQ}"]
    props = queue["Properties"]
    if props.get("SqsManagedSseEnabled") is not True and not props.get("KmsMasterKeyId"):
        problems.append(f"{FOLLOW_UP_DLQ} is not encrypted")
    if props.get("MessageRetentionPeriod") != 1209600:
        problems.append(f"{FOLLOW_UP_DLQ} keeps messages {props.get('MessageRetentionPeriod')} s, not SQS's 14 days")
    variables = resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    if variables.get("ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN") != getatt(FOLLOW_UP_DLQ, "Arn"):
        problems.append(f"the function's follow-ups dead-letter to {variables.get('ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN')}")
    watching = [
        res["Properties"]
        for res in resources.values()
        if res["Type"] == "AWS::CloudWatch::Alarm"
        and res["Properties"].get("Namespace") == "AWS/SQS"
        and res["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": getatt(FOLLOW_UP_DLQ, "QueueName")}]
    ]
    expected = {
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 0,
        "AlarmActions": [ref(TOPIC)],
    }
    if [{k: alarm.get(k) for k in expected} for alarm in watching] != [expected]:
        problems.append(f"alarms on {FOLLOW_UP_DLQ}: {watching}, expected one on a waiting message, to the topic")
    policy = resources["DeadLetterQueuesPolicy"]["Properties"]
    tls = [st for st in policy["PolicyDocument"]["Statement"] if st.get("Sid") == "DenyInsecureTransport"]
    if ref(FOLLOW_UP_DLQ) not in policy["Queues"] or not tls or getatt(FOLLOW_UP_DLQ, "Arn") not in tls[0]["Resource"]:
        problems.append(f"{FOLLOW_UP_DLQ} is not under the TLS-only queue policy")
    return problems


def archive_bucket_problems(resources: dict, object_lock_days: int = 0, retention_days: int = 731) -> list[str]:
    """Problems with the archive bucket the stack creates (CreateArchiveBucket=true)."""
    problems = []
    bucket = resources[ARCHIVE_BUCKET]
    props = bucket["Properties"]
    if (bucket.get("DeletionPolicy"), bucket.get("UpdateReplacePolicy")) != ("Retain", "Retain"):
        problems.append("the archive bucket is not retained when the stack is deleted or the bucket replaced")
    rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if not rules or rules[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") not in ("AES256", "aws:kms"):
        problems.append(f"no default encryption: {rules}")
    if props.get("VersioningConfiguration") != {"Status": "Enabled"}:
        problems.append(f"versioning {props.get('VersioningConfiguration')}")
    block = props.get("PublicAccessBlockConfiguration", {})
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if block.get(key) is not True:
            problems.append(f"public access block {key} is {block.get(key)}")
    if props.get("OwnershipControls") != {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}:
        problems.append(f"object ownership {props.get('OwnershipControls')}")
    lifecycle = props.get("LifecycleConfiguration", {}).get("Rules", [])
    expiring = [r for r in lifecycle if r.get("Status") == "Enabled" and "ExpirationInDays" in r]
    if [r["ExpirationInDays"] for r in expiring] != [retention_days]:
        problems.append(f"current versions do not expire after {retention_days} days: {lifecycle}")
    if not [r for r in expiring if r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")]:
        problems.append("noncurrent versions never expire")
    for rule in lifecycle:
        if "Prefix" in rule or "TagFilters" in rule:
            problems.append(f"lifecycle rule {rule.get('Id')} covers part of the bucket only")
    if object_lock_days:
        expected_lock = {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": object_lock_days}},
        }
        if props.get("ObjectLockEnabled") is not True or props.get("ObjectLockConfiguration") != expected_lock:
            problems.append(f"Object Lock is not COMPLIANCE for {object_lock_days} days: {props.get('ObjectLockConfiguration')}")
    elif "ObjectLockEnabled" in props or "ObjectLockConfiguration" in props:
        problems.append("Object Lock set although ObjectLockRetentionDays is 0")

    return problems + bucket_policy_problems(resources, ARCHIVE_BUCKET)


def bucket_policy_problems(resources: dict, bucket: str) -> list[str]:
    """Problems with the policy of a bucket the stack creates: one, kept with the bucket, TLS
    only for everyone, allowing nothing (access is by IAM policy)."""
    problems = []
    policies = [res for res in resources.values() if res["Type"] == "AWS::S3::BucketPolicy" and res["Properties"]["Bucket"] == ref(bucket)]
    if len(policies) != 1:
        return [f"expected one bucket policy on {bucket}, found {len(policies)}"]
    policy = policies[0]
    if (policy.get("DeletionPolicy"), policy.get("UpdateReplacePolicy")) != ("Retain", "Retain"):
        problems.append(f"the policy of {bucket} is not kept with the bucket")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    everything = [getatt(bucket, "Arn"), "${" + bucket + ".Arn}/*"]
    tls = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": everything,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    if not any({k: v for k, v in st.items() if k != "Sid"} == tls for st in statements):
        problems.append(f"the policy of {bucket} does not deny every request without TLS")
    if [st for st in statements if st.get("Effect") != "Deny"]:
        problems.append(f"the policy of {bucket} allows something: access is the role's (and the operator's) IAM policy")
    return problems


def state_bucket_problems(resources: dict) -> list[str]:
    """Problems with the state bucket (the run ledger): encrypted, versioned, private, ACLs off,
    no fixed name, kept with its objects, replaced ledgers expiring after 30 days while the
    current one never does, TLS only."""
    problems = []
    bucket = resources.get(STATE_BUCKET)
    if bucket is None or bucket["Type"] != "AWS::S3::Bucket":
        return [f"no {STATE_BUCKET}"]
    props = bucket["Properties"]
    if (bucket.get("DeletionPolicy"), bucket.get("UpdateReplacePolicy")) != ("Retain", "Retain"):
        problems.append("the state bucket is not kept (CloudFormation cannot delete a bucket that holds objects)")
    if "BucketName" in props:
        problems.append(f"the state bucket has a fixed name {props['BucketName']}")
    rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if not rules or rules[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") not in ("AES256", "aws:kms"):
        problems.append(f"no default encryption: {rules}")
    if props.get("VersioningConfiguration") != {"Status": "Enabled"}:
        problems.append(f"versioning {props.get('VersioningConfiguration')}")
    block = props.get("PublicAccessBlockConfiguration", {})
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if block.get(key) is not True:
            problems.append(f"public access block {key} is {block.get(key)}")
    if props.get("OwnershipControls") != {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}:
        problems.append(f"object ownership {props.get('OwnershipControls')}")
    lifecycle = [r for r in props.get("LifecycleConfiguration", {}).get("Rules", []) if r.get("Status") == "Enabled"]
    if [r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") for r in lifecycle if "NoncurrentVersionExpiration" in r] != [30]:
        problems.append(f"replaced ledgers do not expire after 30 days: {lifecycle}")
    for rule in lifecycle:
        if {"ExpirationInDays", "ExpirationDate"} & set(rule):
            problems.append(f"lifecycle rule {rule.get('Id')} expires the current ledger")
        if "Prefix" in rule or "TagFilters" in rule or "Filter" in rule:
            problems.append(f"lifecycle rule {rule.get('Id')} covers part of the bucket only")
    return problems + bucket_policy_problems(resources, STATE_BUCKET)


def rules_hold(template: dict, **overrides) -> dict[str, bool]:
    """Each template rule for these parameter values: False when CloudFormation would refuse."""
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    results = {}
    for name, rule in template.get("Rules", {}).items():
        applies = evaluator._truth(rule["RuleCondition"]) if "RuleCondition" in rule else True
        results[name] = not applies or all(evaluator._truth(a["Assert"]) for a in rule["Assertions"])
    return results


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


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["audit", "enforce"])
def test_role_has_exactly_the_contract_permissions(template, mode):
    assert role_problems(deployed(template, mode), mode) == []


@pytest.mark.parametrize("mode", ["audit", "enforce"])
@pytest.mark.parametrize("exemptions", [("ExemptOrganizationalUnits",), ("ExemptTagKey",), tuple(EXEMPTIONS_SET)])
def test_exemptions_add_only_the_calls_they_need(template, mode, exemptions):
    assert role_problems(deployed(template, mode, exemptions), mode, exemptions) == []
    # Without the parameter, its calls are not granted (checked above), and with it they are.
    assert role_problems(deployed(template, mode), mode, exemptions) != []


@pytest.mark.parametrize("mode", ["audit", "enforce"])
@pytest.mark.parametrize("features", [(name,) for name in FEATURES] + [ALL_FEATURES])
def test_features_add_only_the_calls_they_need(template, mode, features):
    assert role_problems(deployed(template, mode, features=features), mode, features=features) == []
    assert role_problems(deployed(template, mode), mode, features=features) != []


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


@pytest.mark.parametrize("mode", ["audit", "enforce"])
def test_archive_in_an_existing_bucket(template, mode):
    resources = deployed(template, mode, features=("archive",), CreateArchiveBucket="false", ArchiveBucketName="evidence-bucket", ArchivePrefix="audit/rootsweep")
    assert ARCHIVE_BUCKET not in resources
    problems = role_problems(resources, mode, features=("archive",), archive_bucket="evidence-bucket", archive_prefix="audit/rootsweep")
    assert problems == []
    variables = resources[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["ROOTSWEEP_ARCHIVE"] == "s3://evidence-bucket/audit/rootsweep"
    outputs = deployed_outputs(template, ArchiveBucketName="evidence-bucket", ArchivePrefix="audit/rootsweep")
    assert outputs["ArchiveLocation"]["Value"] == "s3://evidence-bucket/audit/rootsweep"


def test_archive_in_a_created_bucket(template):
    resources = deployed(template, features=("archive",))
    assert archive_bucket_problems(resources) == []
    assert resources[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_ARCHIVE"] == "s3://${ArchiveBucket}/rootsweep"
    assert deployed_outputs(template, CreateArchiveBucket="true")["ArchiveLocation"]["Value"] == "s3://${ArchiveBucket}/rootsweep"
    longer = deployed(template, features=("archive",), ArchiveRetentionDays=2557)
    assert archive_bucket_problems(longer, retention_days=2557) == []


@pytest.mark.parametrize("days", [1, 365, 2557])
def test_object_lock_in_compliance_mode_when_asked(template, days):
    resources = deployed(template, features=("archive",), ObjectLockRetentionDays=days)
    assert archive_bucket_problems(resources, object_lock_days=days) == []
    assert archive_bucket_problems(deployed(template, features=("archive",)), object_lock_days=days) != []


def test_no_archive_by_default(template):
    resources = evaluated(template)
    assert ARCHIVE_BUCKET not in resources
    # The state bucket and its policy are the only S3 resources.
    s3 = sorted(name for name, res in resources.items() if res["Type"].startswith("AWS::S3::"))
    assert s3 == [STATE_BUCKET, "StateBucketPolicy"]
    assert resources[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_ARCHIVE"] == ""
    assert "ArchiveLocation" not in deployed_outputs(template)
    statements, _ = role_statements(resources)
    s3_resources = {
        str(r) for st in statements if any(str(a).startswith("s3:") for a in as_list(st["Action"])) for r in as_list(st["Resource"])
    }
    assert s3_resources == {"arn:aws:s3:::${StateBucket}/rootsweep/ledger.json.gz", "arn:aws:s3:::${StateBucket}"}


@pytest.mark.parametrize(
    "values, holds",
    [
        ({}, True),
        ({"CreateArchiveBucket": "true"}, True),
        ({"ArchiveBucketName": "evidence-bucket"}, True),
        ({"CreateArchiveBucket": "true", "ObjectLockRetentionDays": 30}, True),
        ({"CreateArchiveBucket": "true", "ArchiveBucketName": "evidence-bucket"}, False),
        ({"ArchiveBucketName": "evidence-bucket", "ObjectLockRetentionDays": 30}, False),
        ({"ObjectLockRetentionDays": 30}, False),
    ],
)
def test_rules_refuse_contradicting_archive_parameters(template, values, holds):
    assert all(rules_hold(template, **values).values()) is holds, rules_hold(template, **values)


def athena_table_problems(resources: dict, location: str) -> list[str]:
    """Problems with the Athena table over the archive at `location` (s3://bucket/prefix)."""
    problems = []
    table = resources[RUN_REPORTS_TABLE]["Properties"]
    if table["DatabaseName"] != ref("EvidenceDatabase"):
        problems.append(f"table in {table['DatabaseName']}")
    table_input = table["TableInput"]
    if table_input.get("TableType") != "EXTERNAL_TABLE":
        problems.append(f"table type {table_input.get('TableType')}")
    expected_parameters = {
        "classification": "json",
        "projection.enabled": "true",
        "projection.run_date.type": "date",
        "projection.run_date.format": "yyyy-MM-dd",
        "projection.run_date.range": "2024-11-01,NOW",
        "projection.run_date.interval": "1",
        "projection.run_date.interval.unit": "DAYS",
        "storage.location.template": f"{location}/runs/date=${{run_date}}/",
    }
    if table_input.get("Parameters") != expected_parameters:
        problems.append(f"table parameters {table_input.get('Parameters')}")
    if table_input.get("PartitionKeys") and [(k["Name"], k["Type"]) for k in table_input["PartitionKeys"]] != [("run_date", "string")]:
        problems.append(f"partition keys {table_input['PartitionKeys']}")
    storage = table_input["StorageDescriptor"]
    if storage.get("Location") != f"{location}/runs/":
        problems.append(f"table location {storage.get('Location')}")
    serde = storage.get("SerdeInfo", {})
    if serde.get("SerializationLibrary") != "org.openx.data.jsonserde.JsonSerDe":
        problems.append(f"SerDe {serde.get('SerializationLibrary')}")
    if serde.get("Parameters") != {"ignore.malformed.json": "true", "case.insensitive": "true"}:
        problems.append(f"SerDe parameters {serde.get('Parameters')}")
    columns = {column["Name"]: column["Type"] for column in storage["Columns"]}
    expected = {k: v for k, v in report_fields().items() if k not in NOT_IN_TABLE}
    if columns != expected:
        wrong = {
            name: (columns.get(name), expected.get(name))
            for name in set(columns) | set(expected)
            if columns.get(name) != expected.get(name)
        }
        problems.append(f"columns differ from the report lines (declared, expected): {wrong}")
    return problems


@pytest.mark.parametrize(
    "values, location",
    [
        ({"CreateArchiveBucket": "true"}, "s3://${ArchiveBucket}/rootsweep"),
        ({"ArchiveBucketName": "evidence-bucket", "ArchivePrefix": "audit/rootsweep"}, "s3://evidence-bucket/audit/rootsweep"),
    ],
)
def test_athena_table_over_the_archive(template, values, location):
    resources = evaluated(template, CreateAthenaTable="true", **values)
    assert athena_table_problems(resources, location) == []
    database = resources["EvidenceDatabase"]["Properties"]
    # Named after the stack (rootsweep here) by default.
    assert database["CatalogId"] == ACCOUNT and database["DatabaseInput"]["Name"] == "rootsweep_evidence"
    outputs = deployed_outputs(template, CreateAthenaTable="true", **values)
    assert outputs["AthenaTable"]["Value"] == "${EvidenceDatabase}.run_reports"
    # The table is metadata: no role reads it, and the function's role gains nothing from it.
    assert role_problems(resources, "audit", features=("follow_ups", "archive"), archive_bucket=location[5:].split("/")[0],
                         archive_prefix=location[5:].split("/", 1)[1]) == []


def test_athena_table_checks_catch_a_wrong_table(template):
    resources = evaluated(template, CreateAthenaTable="true", CreateArchiveBucket="true")
    location = "s3://${ArchiveBucket}/rootsweep"
    for mutate in (
        lambda ti: ti["StorageDescriptor"]["Columns"].pop(),
        lambda ti: ti["StorageDescriptor"]["Columns"].append({"Name": "accounts_clean", "Type": "int"}),
        lambda ti: [c.update(Type="string") for c in ti["StorageDescriptor"]["Columns"] if c["Name"] == "accounts"],
        lambda ti: ti["Parameters"].update({"storage.location.template": location + "/runs/${run_date}/"}),
        lambda ti: ti["StorageDescriptor"]["SerdeInfo"]["Parameters"].pop("ignore.malformed.json"),
        lambda ti: ti["StorageDescriptor"].update(Location=location + "/"),
    ):
        broken = copy.deepcopy(resources)
        mutate(broken[RUN_REPORTS_TABLE]["Properties"]["TableInput"])
        assert athena_table_problems(broken, location) != []


def test_no_athena_table_without_asking_or_without_an_archive(template):
    for values in ({}, {"CreateArchiveBucket": "true"}, {"CreateAthenaTable": "true"}):
        resources = evaluated(template, **values)
        assert not [name for name, res in resources.items() if res["Type"].startswith("AWS::Glue::")]
    assert rules_hold(template, CreateAthenaTable="true")["AthenaTableNeedsAnArchive"] is False
    assert rules_hold(template, CreateAthenaTable="true", CreateArchiveBucket="true")["AthenaTableNeedsAnArchive"] is True


# Words the Athena queries (infra/queries/*.sql) may use besides the table's columns and their own aliases.
SQL_WORDS = {
    "select", "distinct", "from", "where", "and", "or", "not", "in", "is", "null", "between", "as",
    "group", "by", "order", "asc", "desc", "with", "left", "join", "on", "unnest", "cast", "date",
    "varchar", "interval", "day", "true", "false", "count", "max", "min", "sum", "avg",
    "date_diff", "from_iso8601_timestamp", "approx_percentile", "sequence", "cardinality",
}


QUERIES = sorted((INFRA / "queries").glob("*.sql"))


def test_athena_queries_name_only_real_columns_of_real_report_lines(template):
    # Offline, no Athena: every identifier in a query is a column of the table that the report
    # lines really have (or the partition), an alias the query defines, the table itself or an
    # SQL word - a misspelt or dropped column fails here.
    resources = evaluated(template, CreateAthenaTable="true", CreateArchiveBucket="true")
    table_input = resources[RUN_REPORTS_TABLE]["Properties"]["TableInput"]
    columns = {c["Name"] for c in table_input["StorageDescriptor"]["Columns"]}
    columns &= set(report_fields())
    columns |= {k["Name"] for k in table_input["PartitionKeys"]}
    # The queries name the database a stack called rootsweep gets by default.
    database = resources["EvidenceDatabase"]["Properties"]["DatabaseInput"]["Name"]
    assert len(QUERIES) >= 6
    readme = (INFRA / "README.md").read_text()
    assert "```sql" not in readme, "the queries live in infra/queries/"
    for path in QUERIES:
        assert f"queries/{path.name}" in readme, f"{path.name} is not in the README"
        sql = re.sub(r"--[^\n]*", "", path.read_text())
        assert f"FROM {database}.{table_input['Name']}" in sql
        text = re.sub(r"'[^']*'", "''", sql)  # string literals are not identifiers
        text = text.replace(f"{database}.{table_input['Name']}", "")
        aliases = set(re.findall(r"\bAS\s+(\w+)", text, re.I))
        aliases |= set(re.findall(r"\bAS\s+\w+\s*\((\w+)\)", text, re.I))  # AS t (d)
        aliases |= set(re.findall(r"\b(\w+)\s+AS\s*\(", text, re.I))  # CTE names
        words = {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
        unknown = {w for w in words if w.lower() not in SQL_WORDS and w not in columns and w not in aliases}
        assert unknown == set(), (path.name, unknown)
        # The kinds of line a query picks are real ones.
        for kind in re.findall(r"kind = '(\w+)'", sql):
            assert kind in {"account_report", "run_summary"}, (path.name, kind)
        # Every query reads one audit period's partitions only.
        assert "run_date BETWEEN" in sql or "run_date >=" in sql, path.name


def test_the_fields_of_the_report_lines_are_read(template):
    fields = report_fields()
    assert fields["due_at"] == "string" and fields["exemptions"] == "array<struct<account_id:string,rule:string>>"
    assert fields["credentials"] == "array<struct<kind:string,id:string,created:string,last_used:string,status:string>>"


def test_security_hub_off_by_default(template):
    params = template["Parameters"]["SecurityHubFindings"]
    assert params["Default"] == "false" and sorted(params["AllowedValues"]) == ["false", "true"]
    resources = evaluated(template)
    assert resources[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_SECURITY_HUB"] == "false"
    statements, _ = role_statements(resources)
    assert not [st for st in statements if any(str(a).startswith("securityhub:") for a in as_list(st["Action"]))]
    on = deployed(template, features=("security_hub",))
    assert on[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_SECURITY_HUB"] == "true"


# Every optional resource and statement on: the linters see the template deployed with its
# defaults only (checkov evaluates conditions with the defaults), so the other branches are
# linted here, from a copy whose defaults turn everything on.
EVERYTHING_ON = {
    "Mode": "enforce",
    "ExemptOrganizationalUnits": "ou-ab12-breakgls",
    "ExemptTagKey": "rootsweep:exempt",
    "FollowUps": "Enabled",
    "FollowUpInGrace": "true",
    "CreateArchiveBucket": "true",
    "ObjectLockRetentionDays": 30,
    "CreateAthenaTable": "true",
    "SecurityHubFindings": "true",
    "DeleteVirtualMfaDevices": "true",
    "AlarmEmail": "secops@example.com",
    "LogsKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/boundary",
}
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


def test_the_recovery_event_matcher_is_faithful():
    # The matcher itself: exact values, suffix, exists - so the rule checks above mean something.
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


def test_no_iam_statement_anywhere_uses_a_wildcard_action(template):
    # The function's role is checked in detail above; this covers every other policy in the
    # template too (the KMS key policy's kms:* for the account is the one AWS requires).
    allowed = {
        ("AlarmTopicKey", "kms:*"),
        ("DeadLetterQueuesPolicy", "sqs:*"),
        ("ArchiveBucketPolicy", "s3:*"),
        ("StateBucketPolicy", "s3:*"),
    }

    def walk(node, owner):
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("Action", "NotAction"):
                    for action in as_list(item):
                        if "*" in str(action) and (owner, action) not in allowed:
                            yield owner, action
                else:
                    yield from walk(item, owner)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, owner)

    resources = deployed(template, features=ALL_FEATURES)
    found = [hit for name, res in resources.items() for hit in walk(res, name)]
    assert found == []
    # The two allowed ones are what they claim to be.
    key_policy = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    admin = [st for st in key_policy if st["Action"] == "kms:*"]
    assert admin == [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    queue_policy = resources["DeadLetterQueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [st["Effect"] for st in queue_policy if st["Action"] == "sqs:*"] == ["Deny"]
    for policy in ("ArchiveBucketPolicy", "StateBucketPolicy"):
        bucket_policy = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
        assert {st["Effect"] for st in bucket_policy if st["Action"] == "s3:*"} == {"Deny"}


def test_delete_task_policy_only_in_enforce_mode(template):
    def task_policies(mode):
        statements, _ = role_statements(evaluated(template, Mode=mode))
        return [
            arn
            for st in statements
            for arn in as_list(st.get("Condition", {}).get("StringEquals", {}).get("sts:TaskPolicyArn", []))
        ]

    assert task_policies("audit") == [AUDIT_POLICY]
    assert task_policies("enforce") == [AUDIT_POLICY, DELETE_POLICY]


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


# The run summary's per-outcome counts moved into the map `accounts` (accounts.clean, ...): the
# old flat names must not come back into a query.
OLD_SUMMARY_FIELDS = re.compile(
    r"\baccounts_(clean|in_grace|due|remediated|retry_later|skipped|exempt|failed|not_reached)\b"
)


# The Logs Insights queries live in infra/queries/logs-insights/, one file each (they were inline
# in the README, which now links them).
LOGS_INSIGHTS_QUERIES = sorted((INFRA / "queries" / "logs-insights").glob("*.txt"))


def test_logs_insights_queries_use_the_summary_map_not_the_old_flat_counts(template):
    readme = (INFRA / "README.md").read_text()
    assert OLD_SUMMARY_FIELDS.findall(readme) == []
    assert OLD_SUMMARY_FIELDS.findall(TEMPLATE_PATH.read_text()) == []
    assert len(LOGS_INSIGHTS_QUERIES) >= 11
    for path in LOGS_INSIGHTS_QUERIES:
        assert f"queries/logs-insights/{path.name}" in readme, f"{path.name} is not in the README"
    queries = "\n".join(path.read_text() for path in LOGS_INSIGHTS_QUERIES)
    assert OLD_SUMMARY_FIELDS.findall(queries) == []
    # The summary's fields, once in the README, are defined in docs/report.md.
    assert OLD_SUMMARY_FIELDS.findall((INFRA.parent / "docs" / "report.md").read_text()) == []
    for outcome in ("clean", "in_grace", "due", "remediated", "retry_later", "failed", "not_reached"):
        assert f"accounts.{outcome}" in queries


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


# ------------------------------------------------------------------------------------------
# First-deploy traps: sums over idle queues, names that fit and never collide
# ------------------------------------------------------------------------------------------
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


# The longest stack name CloudFormation allows is 128 characters.
LONGEST_STACK_NAME = "r" + "-x" * 63 + "y"


@pytest.mark.parametrize("stack_name", ["rootsweep", "r", LONGEST_STACK_NAME])
def test_follow_up_schedule_group_name_fits_whatever_the_stack_name(template, stack_name):
    assert len(stack_name) <= 128
    stack = {"AWS::StackName": stack_name, "AWS::StackId": stack_id(stack_name)}
    resources = deployed(template, features=("follow_ups",), **stack)
    name = resources[FOLLOW_UP_GROUP_RESOURCE]["Properties"]["Name"]
    assert re.fullmatch(SCHEDULE_GROUP_NAME, name), name
    assert follow_up_problems(resources) == []


# Where each resource type takes its physical name; CloudFormation generates one when it is
# absent. Types not listed take no name of their own (or one scoped to their parent).
NAME_PROPERTIES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Glue::Database": "DatabaseInput.Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Serverless::Function": "FunctionName",
}
UNNAMED_TYPES = {
    "AWS::IAM::RolePolicy",
    "AWS::Lambda::Permission",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::KMS::Key",
    "AWS::Glue::Table",
}


def physical_names(resources: dict) -> dict[str, str]:
    """The names the template gives its resources itself, by logical id."""
    names = {}
    for name, res in resources.items():
        assert res["Type"] in set(NAME_PROPERTIES) | UNNAMED_TYPES, f"{res['Type']}: where does it take its name?"
        value = res.get("Properties", {})
        for key in NAME_PROPERTIES.get(res["Type"], "-").split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            names[name] = value
    return names


def test_a_retained_resource_has_no_fixed_name(template):
    # Deleting the stack leaves it behind: under a fixed name, deploying the stack again would
    # fail on the name its predecessor still holds.
    resources = evaluated(template, **EVERYTHING_ON)
    retained = [name for name, res in resources.items() if "Retain" in (res.get("DeletionPolicy"), res.get("UpdateReplacePolicy"))]
    assert sorted(retained) == sorted([LOG_GROUP, ARCHIVE_BUCKET, "ArchiveBucketPolicy", STATE_BUCKET, "StateBucketPolicy"])
    named = physical_names(resources)
    assert [name for name in retained if name in named] == []


def test_two_stacks_in_one_account_and_region_share_no_name(template):
    def names(stack_name, uuid):
        stack = {"AWS::StackName": stack_name, "AWS::StackId": stack_id(stack_name, uuid)}
        return physical_names(evaluated(template, **{**EVERYTHING_ON, **stack}))

    first = names("rootsweep", STACK_UUID)
    second = names("rootsweep-staging", "0b5a1c44-2f6e-4d3b-9a8c-7e6f5d4c3b2a")
    assert set(first) == set(second) and len(first) >= 10
    assert {n: v for n, v in first.items() if second[n] == v} == {}
    # The same name deployed again after a deletion: a new stack id, and nothing retained is named.
    again = names("rootsweep", "0b5a1c44-2f6e-4d3b-9a8c-7e6f5d4c3b2a")
    assert again[FOLLOW_UP_GROUP_RESOURCE] != first[FOLLOW_UP_GROUP_RESOURCE]


@pytest.mark.parametrize(
    "stack_name, asked, database",
    [("rootsweep", "", "rootsweep_evidence"), ("Sec-Tools-prod", "", "Sec_Tools_prod_evidence"), ("rootsweep", "audit_db", "audit_db")],
)
def test_evidence_database_is_named_after_the_stack_unless_asked(template, stack_name, asked, database):
    stack = {"AWS::StackName": stack_name, "AWS::StackId": stack_id(stack_name)}
    resources = evaluated(template, CreateAthenaTable="true", CreateArchiveBucket="true", AthenaDatabaseName=asked, **stack)
    assert resources["EvidenceDatabase"]["Properties"]["DatabaseInput"]["Name"] == database
    # Athena's names: letters, digits and _ (Glue keeps them in lowercase).
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", database)


def test_log_group_is_kept_and_named_by_cloudformation(template):
    log_group = evaluated(template)[LOG_GROUP]
    assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "LogGroupName" not in log_group["Properties"]
    assert deployed_outputs(template)["LogGroupName"]["Value"] == ref(LOG_GROUP)


# ------------------------------------------------------------------------------------------
# The run ledger's state bucket
# ------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------
# The forwarder (infra/forwarder.yaml): other regions' recoveries to the home region's bus
# ------------------------------------------------------------------------------------------
HOME_REGION = PSEUDO["AWS::Region"]
OTHER_REGION = "eu-west-1"
HOME_BUS = f"arn:aws:events:{HOME_REGION}:{ACCOUNT}:event-bus/default"
FORWARD_RULE = "ForwardRule"
FORWARD_ROLE = "ForwardRole"


@pytest.fixture(scope="module")
def forwarder() -> dict:
    return load_template(FORWARDER_PATH)


def forwarded(forwarder: dict, region: str = OTHER_REGION) -> dict:
    """The forwarder's resources as deployed in `region` for a home stack in HOME_REGION."""
    return evaluated(forwarder, HomeRegion=HOME_REGION, **{"AWS::Region": region})


def home_rule(template: dict) -> dict:
    return deployed(template, features=("follow_ups",))[RECOVERY_RULE]["Properties"]


def forwarder_problems(resources: dict, home: dict) -> list[str]:
    """Problems with a forwarder: not exactly the home rule's pattern and state, not to the home
    region's default bus alone, or a role that may do more than put events there."""
    problems = []
    kinds = sorted(res["Type"] for res in resources.values())
    if kinds != ["AWS::Events::Rule", "AWS::IAM::Role"]:
        problems.append(f"the forwarder creates {kinds}, not one rule and its role")
    rule = resources[FORWARD_RULE]["Properties"]
    if rule.get("EventPattern") != home["EventPattern"]:
        problems.append(f"pattern {rule.get('EventPattern')} is not the home rule's {home['EventPattern']}")
    if rule.get("State") != home["State"]:
        problems.append(f"state {rule.get('State')} is not the home rule's {home['State']}")
    if rule.get("EventBusName", "default") != "default":
        problems.append(f"rule on bus {rule['EventBusName']}: CloudTrail events arrive on the default bus")
    targets = rule.get("Targets", [])
    if [(t.get("Arn"), t.get("RoleArn")) for t in targets] != [(HOME_BUS, getatt(FORWARD_ROLE, "Arn"))]:
        problems.append(f"targets {targets}, not the home region's default bus through {FORWARD_ROLE}")
    for target in targets:
        for key in ("Input", "InputPath", "InputTransformer"):
            if key in target:
                problems.append(f"the target changes the event ({key})")
    role = resources[FORWARD_ROLE]["Properties"]
    expected_trust = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    if role["AssumeRolePolicyDocument"]["Statement"] != expected_trust:
        problems.append(f"{FORWARD_ROLE} trusts {role['AssumeRolePolicyDocument']['Statement']}")
    if role.get("ManagedPolicyArns"):
        problems.append(f"{FORWARD_ROLE} has managed policies")
    statements = [st for policy in role.get("Policies", []) for st in as_list(policy["PolicyDocument"]["Statement"])]
    expected = [{"Sid": "PutOnHomeDefaultBus", "Effect": "Allow", "Action": "events:PutEvents", "Resource": HOME_BUS}]
    if statements != expected:
        problems.append(f"{FORWARD_ROLE} may do {statements}, not only events:PutEvents on {HOME_BUS}")
    return problems


def recovery_in(region: str, event: dict = RECOVERY) -> dict:
    """`event` as CloudTrail records it through `region`'s STS endpoint: its region in the
    envelope and in the record, with the identifiers a real record carries."""
    moved = copy.deepcopy(event)
    moved["region"] = region
    moved["id"] = "7bf73129-1428-4cd3-a780-95db273d1602"
    moved["time"] = "2026-11-25T20:52:12Z"
    moved["resources"] = []
    moved["detail"].update(
        awsRegion=region,
        sourceIPAddress="203.0.113.17",
        userAgent="aws-cli/2.22.0 md/command#sts.assume-root",
        requestID="e2b3f1d4-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        eventID="4f8e2b1a-9c3d-4e5f-a6b7-c8d9e0f1a2b3",
        recipientAccountId=ACCOUNT,
        eventCategory="Management",
    )
    return moved


def test_forwarder_sends_exactly_what_the_home_rule_matches_to_the_home_bus(template, forwarder):
    assert forwarder_problems(forwarded(forwarder), home_rule(template)) == []


def test_a_recovery_in_another_region_matches_both_rules_and_nothing_else_does(template, forwarder):
    patterns = {"home": home_rule(template)["EventPattern"], "forwarder": forwarded(forwarder)[FORWARD_RULE]["Properties"]["EventPattern"]}
    recovery = recovery_in(OTHER_REGION)
    assert recovery["detail"]["awsRegion"] == recovery["region"] == OTHER_REGION
    assert {name: event_matches(pattern, recovery) for name, pattern in patterns.items()} == {"home": True, "forwarder": True}
    for kind, event in NOT_RECOVERIES.items():
        elsewhere = recovery_in(OTHER_REGION, event)
        assert {name: event_matches(pattern, elsewhere) for name, pattern in patterns.items()} == {"home": False, "forwarder": False}, kind


def test_forwarder_refuses_the_home_region(forwarder):
    assert rules_hold(forwarder, HomeRegion=HOME_REGION, **{"AWS::Region": OTHER_REGION}) == {"NotInTheHomeRegion": True}
    assert rules_hold(forwarder, HomeRegion=HOME_REGION, **{"AWS::Region": HOME_REGION}) == {"NotInTheHomeRegion": False}
    pattern = re.compile(forwarder["Parameters"]["HomeRegion"]["AllowedPattern"])
    assert [r for r in ("us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1") if not pattern.fullmatch(r)] == []
    assert [r for r in ("", "US-EAST-1", "us-east", "arn:aws:events:us-east-1") if pattern.fullmatch(r)] == []


def _forwarder_mutations():
    def rule(r):
        return r[FORWARD_RULE]["Properties"]

    def policy_statement(r):
        return r[FORWARD_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]

    def matches_refused_calls(r):
        del rule(r)["EventPattern"]["detail"]["errorCode"]

    def matches_any_task_policy(r):
        del rule(r)["EventPattern"]["detail"]["requestParameters"]

    def plain_enabled(r):
        rule(r)["State"] = "ENABLED"

    def to_another_bus(r):
        rule(r)["Targets"][0]["Arn"] = f"arn:aws:events:{HOME_REGION}:{ACCOUNT}:event-bus/other"

    def rewrites_the_event(r):
        rule(r)["Targets"][0]["InputPath"] = "$.detail"

    def puts_on_any_bus(r):
        policy_statement(r)["Resource"] = "*"

    def does_more(r):
        policy_statement(r)["Action"] = ["events:PutEvents", "events:PutRule"]

    def trusts_any_account(r):
        del r[FORWARD_ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]

    def managed_policy(r):
        r[FORWARD_ROLE]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AmazonEventBridgeFullAccess"]

    return [
        matches_refused_calls,
        matches_any_task_policy,
        plain_enabled,
        to_another_bus,
        rewrites_the_event,
        puts_on_any_bus,
        does_more,
        trusts_any_account,
        managed_policy,
    ]


@pytest.mark.parametrize("mutate", _forwarder_mutations(), ids=lambda f: f.__name__)
def test_forwarder_checks_catch_a_widened_forwarder(template, forwarder, mutate):
    resources = copy.deepcopy(forwarded(forwarder))
    assert forwarder_problems(resources, home_rule(template)) == []
    mutate(resources)
    assert forwarder_problems(resources, home_rule(template)) != []


# ------------------------------------------------------------------------------------------
# The checks themselves must be able to fail.
# ------------------------------------------------------------------------------------------
def _statement(resources, sid):
    for policy in resources[ROLE]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            if st.get("Sid") == sid:
                return st
    raise KeyError(sid)


def _mutations():
    def add_iam_star(r):
        _statement(r, "CheckRootAccessFeatures")["Action"] = ["iam:ListOrganizationsFeatures", "iam:*"]

    def extra_action(r):
        _statement(r, "ReadOrganization")["Action"].append("organizations:ListParents")

    def assume_root_anywhere(r):
        _statement(r, "AssumeRootForRootCredentialTasks")["Resource"] = "*"

    def delete_policy_in_audit(r):
        _statement(r, "AssumeRootForRootCredentialTasks")["Condition"]["StringEquals"]["sts:TaskPolicyArn"] = [
            AUDIT_POLICY,
            DELETE_POLICY,
        ]

    def any_task_policy(r):
        _statement(r, "AssumeRootForRootCredentialTasks")["Condition"] = {
            "StringLike": {"sts:TaskPolicyArn": "arn:aws:iam::aws:policy/root-task/*"}
        }

    def no_namespace_condition(r):
        del _statement(r, "PublishRunMetrics")["Condition"]

    def managed_policy(r):
        r[ROLE]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]

    def outside_policy(r):
        r["Sneaky"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [ref(ROLE)],
                "PolicyName": "x",
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]},
            },
        }

    def logs_everywhere(r):
        _statement(r, "WriteOwnLogGroup")["Resource"] = "*"

    def not_action(r):
        st = _statement(r, "ReadOrganization")
        st["NotAction"] = st.pop("Action")

    return [
        add_iam_star,
        extra_action,
        assume_root_anywhere,
        delete_policy_in_audit,
        any_task_policy,
        no_namespace_condition,
        managed_policy,
        outside_policy,
        logs_everywhere,
        not_action,
    ]


def all_problems(resources: dict) -> list[str]:
    """Every check of the template as deployed in audit mode with every optional feature on."""
    return (
        role_problems(resources, "audit", features=ALL_FEATURES)
        + follow_up_problems(resources)
        + archive_bucket_problems(resources)
        + state_bucket_problems(resources)
    )


def _invoke_statement(resources, sid="InvokeRootsweep"):
    statements = resources["FollowUpInvokePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [st for st in statements if st["Sid"] == sid]
    return statement


def _rule(resources):
    return resources[RECOVERY_RULE]["Properties"]


def _feature_mutations():
    """Widenings of what the optional features add; each must be caught."""

    def schedules_of_any_group(r):
        _statement(r, "ManageFollowUpSchedules")["Resource"] = "arn:aws:scheduler:us-east-1:111122223333:schedule/*"

    def schedules_anywhere(r):
        _statement(r, "ManageFollowUpSchedules")["Resource"] = "*"

    def update_schedules_too(r):
        _statement(r, "ManageFollowUpSchedules")["Action"].append("scheduler:UpdateSchedule")

    def pass_any_role(r):
        _statement(r, "PassFollowUpInvokeRole")["Resource"] = "*"

    def pass_role_to_any_service(r):
        del _statement(r, "PassFollowUpInvokeRole")["Condition"]

    def pass_role_to_lambda(r):
        _statement(r, "PassFollowUpInvokeRole")["Condition"]["StringEquals"]["iam:PassedToService"] = "lambda.amazonaws.com"

    def invoke_role_trusts_any_account(r):
        del r[INVOKE_ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]

    def invoke_role_trusts_any_group(r):
        del r[INVOKE_ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]

    def invoke_any_function(r):
        _invoke_statement(r)["Resource"] = "*"

    def invoke_role_does_more(r):
        _invoke_statement(r)["Action"] = ["lambda:InvokeFunction", "lambda:UpdateFunctionCode"]

    def invoke_role_managed_policy(r):
        r[INVOKE_ROLE]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/service-role/AWSLambdaRole"]

    def rule_matches_refused_calls(r):
        del _rule(r)["EventPattern"]["detail"]["errorCode"]

    def rule_matches_any_task_policy(r):
        del _rule(r)["EventPattern"]["detail"]["requestParameters"]

    def rule_plain_enabled(r):
        _rule(r)["State"] = "ENABLED"

    def rule_rewrites_the_event(r):
        _rule(r)["Targets"][0]["InputPath"] = "$.detail"

    def permission_for_any_rule(r):
        del r["RecoveryRulePermission"]["Properties"]["SourceArn"]

    def queue_open_to_any_rule(r):
        statements = r["DeadLetterQueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        del [st for st in statements if st["Effect"] == "Allow"][0]["Condition"]

    def archive_whole_bucket(r):
        _statement(r, "WriteRunArchive")["Resource"] = "arn:aws:s3:::${ArchiveBucket}/*"

    def archive_anywhere(r):
        _statement(r, "WriteRunArchive")["Resource"] = "*"

    def archive_read_too(r):
        _statement(r, "WriteRunArchive")["Action"] = ["s3:PutObject", "s3:GetObject"]

    def archive_delete_too(r):
        _statement(r, "WriteRunArchive")["Action"] = ["s3:PutObject", "s3:DeleteObject"]

    def archive_public(r):
        r[ARCHIVE_BUCKET]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False

    def archive_unversioned(r):
        r[ARCHIVE_BUCKET]["Properties"]["VersioningConfiguration"] = {"Status": "Suspended"}

    def archive_deleted_with_stack(r):
        r[ARCHIVE_BUCKET]["DeletionPolicy"] = "Delete"

    def archive_without_tls_rule(r):
        statements = r["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        statements[:] = [st for st in statements if st["Sid"] != "DenyInsecureTransport"]

    def archive_acls_back(r):
        r[ARCHIVE_BUCKET]["Properties"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"] = "ObjectWriter"

    def findings_of_any_product(r):
        _statement(r, "ImportRootCredentialFindings")["Resource"] = "arn:aws:securityhub:us-east-1:111122223333:product/*"

    def findings_for_any_account(r):
        del _statement(r, "ImportRootCredentialFindings")["Condition"]

    def findings_in_any_region(r):
        _statement(r, "ImportRootCredentialFindings")["Resource"] = "arn:aws:securityhub:*:111122223333:product/111122223333/default"

    def update_findings_too(r):
        _statement(r, "ReadOwnFindings")["Action"] = ["securityhub:GetFindings", "securityhub:BatchUpdateFindings"]

    def read_any_hub(r):
        _statement(r, "ReadOwnFindings")["Resource"] = "*"

    def ledger_without_list_bucket(r):
        for policy in r[ROLE]["Properties"]["Policies"]:
            statements = policy["PolicyDocument"]["Statement"]
            statements[:] = [st for st in statements if st.get("Sid") != "ListStateBucket"]

    def ledger_put_on_whole_bucket(r):
        _statement(r, "ReadWriteRunLedger")["Resource"] = "arn:aws:s3:::${StateBucket}/*"

    def ledger_of_another_prefix(r):
        _statement(r, "ReadWriteRunLedger")["Resource"] = "arn:aws:s3:::${StateBucket}/other/ledger.json.gz"

    def ledger_delete_too(r):
        _statement(r, "ReadWriteRunLedger")["Action"] = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]

    def list_any_bucket(r):
        _statement(r, "ListStateBucket")["Resource"] = "*"

    def state_bucket_unversioned(r):
        r[STATE_BUCKET]["Properties"]["VersioningConfiguration"] = {"Status": "Suspended"}

    def state_bucket_public(r):
        r[STATE_BUCKET]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False

    def state_bucket_fixed_name(r):
        r[STATE_BUCKET]["Properties"]["BucketName"] = "rootsweep-state"

    def state_bucket_expires_the_ledger(r):
        r[STATE_BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] = 30

    def state_bucket_keeps_every_version(r):
        del r[STATE_BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]

    def state_bucket_deleted_with_stack(r):
        r[STATE_BUCKET]["DeletionPolicy"] = "Delete"

    def state_without_tls_rule(r):
        statements = r["StateBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        statements[:] = [st for st in statements if st["Sid"] != "DenyInsecureTransport"]

    def follow_up_dead_letters_anywhere(r):
        _invoke_statement(r, "SendFollowUpDeadLetters")["Resource"] = "*"

    def follow_up_dead_letter_queue_unencrypted(r):
        del r[FOLLOW_UP_DLQ]["Properties"]["SqsManagedSseEnabled"]

    def follow_up_dead_letters_unwatched(r):
        del r["FollowUpDeadLettersAlarm"]

    def follow_ups_without_dead_letter_queue(r):
        r[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN"] = ""

    def schedule_group_name_too_long(r):
        r[FOLLOW_UP_GROUP_RESOURCE]["Properties"]["Name"] = "x" * 65

    return [
        ledger_without_list_bucket,
        ledger_put_on_whole_bucket,
        ledger_of_another_prefix,
        ledger_delete_too,
        list_any_bucket,
        state_bucket_unversioned,
        state_bucket_public,
        state_bucket_fixed_name,
        state_bucket_expires_the_ledger,
        state_bucket_keeps_every_version,
        state_bucket_deleted_with_stack,
        state_without_tls_rule,
        follow_up_dead_letters_anywhere,
        follow_up_dead_letter_queue_unencrypted,
        follow_up_dead_letters_unwatched,
        follow_ups_without_dead_letter_queue,
        schedule_group_name_too_long,
        findings_of_any_product,
        findings_for_any_account,
        findings_in_any_region,
        update_findings_too,
        read_any_hub,
        archive_whole_bucket,
        archive_anywhere,
        archive_read_too,
        archive_delete_too,
        archive_public,
        archive_unversioned,
        archive_deleted_with_stack,
        archive_without_tls_rule,
        archive_acls_back,
        schedules_of_any_group,
        schedules_anywhere,
        update_schedules_too,
        pass_any_role,
        pass_role_to_any_service,
        pass_role_to_lambda,
        invoke_role_trusts_any_account,
        invoke_role_trusts_any_group,
        invoke_any_function,
        invoke_role_does_more,
        invoke_role_managed_policy,
        rule_matches_refused_calls,
        rule_matches_any_task_policy,
        rule_plain_enabled,
        rule_rewrites_the_event,
        permission_for_any_rule,
        queue_open_to_any_rule,
    ]


@pytest.mark.parametrize("mutate", _mutations() + _feature_mutations(), ids=lambda f: f.__name__)
def test_checks_catch_a_widened_role(template, mutate):
    resources = copy.deepcopy(deployed(template, "audit", features=ALL_FEATURES))
    assert all_problems(resources) == []
    mutate(resources)
    assert all_problems(resources) != []

