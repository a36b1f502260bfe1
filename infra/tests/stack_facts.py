"""What the stack is made of and what it may do: the template's resource names, the calls the
function's code makes (its contract with functions/rootsweep), the optional features and the
parameter values that turn them on, the function's environment and bounds, and `deployed`, the
resources as deployed with a given mode, exemptions and features.
"""

from __future__ import annotations

from cfn_eval import PSEUDO, evaluated


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


FOLLOW_UP_SCHEDULES = "arn:aws:scheduler:us-east-1:111122223333:schedule/${FollowUpScheduleGroup}/*"
ACCOUNT = PSEUDO["AWS::AccountId"]
DEFAULT_PRODUCT = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
HUB = "arn:aws:securityhub:us-east-1:111122223333:hub/default"


# EventBridge Scheduler: schedule group names of 1 to 64 of these characters.
SCHEDULE_GROUP_NAME = r"[0-9a-zA-Z_.-]{1,64}"
FOLLOW_UP_DLQ = "FollowUpDeadLetterQueue"


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


def deployed(template: dict, mode: str = "audit", exemptions=(), features=(), **overrides) -> dict:
    """The resources in `mode` with exactly the given exemptions and optional features on."""
    values: dict = {}
    for name, feature in FEATURES.items():
        values.update(feature["on"] if name in features else feature["off"])
    values.update({name: EXEMPTIONS_SET[name] for name in exemptions})
    values.update(overrides)
    return evaluated(template, Mode=mode, **values)
