"""Checks of the buckets the stack creates (each returns a list of problems): the archive bucket,
the state bucket (the run ledger) and their TLS-only, allow-nothing policies.
"""

from __future__ import annotations

from cfn_eval import getatt, ref
from stack_facts import ARCHIVE_BUCKET, STATE_BUCKET


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
