"""Evidence the function delivers: the run archive (an existing or a created bucket, Object
Lock) and Security Hub findings.
"""

from __future__ import annotations

import pytest

from bucket_checks import archive_bucket_problems
from cfn_eval import as_list, deployed_outputs, evaluated, rules_hold
from role_checks import role_problems, role_statements
from stack_facts import ARCHIVE_BUCKET, FUNCTION, STATE_BUCKET, deployed


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


def test_security_hub_off_by_default(template):
    params = template["Parameters"]["SecurityHubFindings"]
    assert params["Default"] == "false" and sorted(params["AllowedValues"]) == ["false", "true"]
    resources = evaluated(template)
    assert resources[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_SECURITY_HUB"] == "false"
    statements, _ = role_statements(resources)
    assert not [st for st in statements if any(str(a).startswith("securityhub:") for a in as_list(st["Action"]))]
    on = deployed(template, features=("security_hub",))
    assert on[FUNCTION]["Properties"]["Environment"]["Variables"]["ROOTSWEEP_SECURITY_HUB"] == "true"
