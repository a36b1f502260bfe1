"""Checks of the function's role (each returns a list of problems): exactly the contract's calls,
each on the narrowest resource and under its condition, nothing attached from outside.
"""

from __future__ import annotations

from cfn_eval import as_list, getatt, ref
from stack_facts import (
    ACCOUNT,
    AUDIT_POLICY,
    CREATED_BUCKET,
    DEFAULT_PRODUCT,
    DELETE_POLICY,
    EXEMPTION_ACTIONS,
    FAILED_INVOCATION_QUEUE,
    FEATURES,
    FOLLOW_UP_SCHEDULES,
    FUNCTION,
    FUNCTION_ACTIONS,
    HUB,
    INVOKE_ROLE,
    LEDGER_OBJECT,
    LOG_GROUP,
    PLATFORM_ACTIONS,
    RESOURCE_STAR_ALLOWED,
    ROLE,
    ROOT_RESOURCE,
    SCHEDULER_ACTIONS,
    TAGS_RESOURCE,
)


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


def attached_documents(resources: dict, role: str) -> list[dict]:
    """Policy documents attached to `role` by policy resources outside it."""
    documents = []
    for res in resources.values():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            roles = as_list(res["Properties"].get("Roles", [])) + as_list(res["Properties"].get("RoleName", []))
            if ref(role) in roles:
                documents.append(res["Properties"]["PolicyDocument"])
    return documents
