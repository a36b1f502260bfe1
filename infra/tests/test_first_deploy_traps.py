"""First-deploy traps: names that fit and never collide, retained resources without fixed names."""

from __future__ import annotations

import re

import pytest

from cfn_eval import STACK_UUID, deployed_outputs, evaluated, ref, stack_id
from follow_up_checks import follow_up_problems
from stack_facts import (
    ARCHIVE_BUCKET,
    EVERYTHING_ON,
    FOLLOW_UP_GROUP_RESOURCE,
    LOG_GROUP,
    SCHEDULE_GROUP_NAME,
    STATE_BUCKET,
    deployed,
)


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
