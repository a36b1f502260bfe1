"""EventBridge pattern matching (for the operators the template uses) and the CloudTrail events
it is tried on: a recovery (AssumeRoot with IAMCreateRootUserPassword) and the events that look
like one but are not.
"""

from __future__ import annotations

import copy

from stack_facts import ACCOUNT


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
