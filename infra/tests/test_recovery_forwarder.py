"""The forwarder (infra/forwarder.yaml): other regions' recoveries to the home region's bus."""

from __future__ import annotations

import copy
import re

import pytest

from cfn_eval import (
    FORWARDER_PATH,
    PSEUDO,
    as_list,
    evaluated,
    getatt,
    load_template,
    rules_hold,
)
from event_patterns import NOT_RECOVERIES, event_matches, recovery_in
from stack_facts import ACCOUNT, RECOVERY_RULE, deployed


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
