"""The checks themselves must be able to fail: each widening of the role, the follow-up
resources or the buckets is caught.
"""

from __future__ import annotations

import copy

import pytest

from bucket_checks import archive_bucket_problems, state_bucket_problems
from cfn_eval import ref
from follow_up_checks import follow_up_problems
from role_checks import role_problems
from stack_facts import (
    ALL_FEATURES,
    ARCHIVE_BUCKET,
    AUDIT_POLICY,
    DELETE_POLICY,
    FOLLOW_UP_DLQ,
    FOLLOW_UP_GROUP_RESOURCE,
    FUNCTION,
    INVOKE_ROLE,
    RECOVERY_RULE,
    ROLE,
    STATE_BUCKET,
    deployed,
)


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
