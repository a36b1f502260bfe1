"""Checks of the follow-up resources (each returns a list of problems): the invoke role, the
recovery rule, the Lambda permission and where follow-ups dead-letter.
"""

from __future__ import annotations

import re

from cfn_eval import as_list, getatt, ref
from event_patterns import NOT_RECOVERIES, RECOVERY, event_matches
from role_checks import attached_documents
from stack_facts import (
    ACCOUNT,
    FOLLOW_UP_DLQ,
    FOLLOW_UP_GROUP_RESOURCE,
    FUNCTION,
    INVOKE_ROLE,
    RECOVERY_RULE,
    SCHEDULE_DLQ,
    SCHEDULE_GROUP_NAME,
    TOPIC,
)


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
