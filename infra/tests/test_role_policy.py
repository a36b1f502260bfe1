"""The function's role: exactly the calls it needs in each mode, with each exemption and feature."""

from __future__ import annotations

import pytest

from cfn_eval import as_list, evaluated
from role_checks import role_problems, role_statements
from stack_facts import (
    ALL_FEATURES,
    AUDIT_POLICY,
    DELETE_POLICY,
    EXEMPTIONS_SET,
    FEATURES,
    deployed,
)


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
