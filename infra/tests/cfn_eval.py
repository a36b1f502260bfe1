"""The CloudFormation evaluator the checks stand on: a template read with cfn-lint's own decoder
(it understands !Ref, !If, !Sub ...) and its intrinsic functions, conditions and rules evaluated
for given parameter values, as CloudFormation would deploy it. References to resources stay
symbolic ({"Ref": name}, {"Fn::GetAtt": [name, attribute]}).
"""

from __future__ import annotations

import re
from pathlib import Path

from cfnlint.decode import decode


INFRA = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = INFRA / "template.yaml"
FORWARDER_PATH = INFRA / "forwarder.yaml"


STACK_UUID = "51af3dc0-da77-11e4-872e-1234567db123"


def stack_id(name: str, uuid: str = STACK_UUID) -> str:
    """AWS::StackId as CloudFormation gives it: the stack's name, then a UUID new for each stack."""
    return f"arn:aws:cloudformation:us-east-1:111122223333:stack/{name}/{uuid}"


PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "rootsweep",
    "AWS::StackId": stack_id("rootsweep"),
    "AWS::URLSuffix": "amazonaws.com",
}
NO_VALUE = object()


def load_template(path: Path = TEMPLATE_PATH) -> dict:
    template, matches = decode(str(path))
    assert not matches, [str(m) for m in matches]
    assert template is not None
    return template


def parameter_values(template: dict, **overrides) -> dict:
    values = {name: p.get("Default") for name, p in template.get("Parameters", {}).items()}
    values.update(overrides)
    return values


class Evaluator:
    """Evaluates the intrinsic functions the template uses, for given parameter values.

    References to resources stay symbolic: {"Ref": name} and {"Fn::GetAtt": [name, attr]}.
    """

    def __init__(self, template: dict, params: dict):
        self.template = template
        self.params = params
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, node) -> bool:
        (fn, arg), = node.items()
        if fn == "Fn::Equals":
            a, b = (self.value(x) for x in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not self._truth(arg[0])
        if fn == "Fn::And":
            return all(self._truth(x) for x in arg)
        if fn == "Fn::Or":
            return any(self._truth(x) for x in arg)
        if fn == "Condition":
            return self.condition(arg)
        raise AssertionError(f"unsupported condition function {fn}")

    def _lookup(self, name: str):
        if name in self.params:
            return self.params[name]
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        return None

    def _sub(self, text: str, variables: dict) -> str:
        def replace(match: re.Match) -> str:
            if match.group(1) is not None:
                return "${" + match.group(1) + "}"  # ${!Literal} is the literal ${Literal}
            name = match.group(2)
            if name in variables:
                return symbolic(self.value(variables[name]))
            found = self._lookup(name)
            if found is None or found is NO_VALUE:
                return match.group(0)  # a resource reference: keep it symbolic
            return str(found)

        return re.sub(r"\$\{!([^}]+)\}|\$\{([^}!]+)\}", replace, text)

    def value(self, node):
        if isinstance(node, dict):
            if len(node) == 1:
                (fn, arg), = node.items()
                if fn == "Ref":
                    found = self._lookup(arg)
                    return {"Ref": str(arg)} if found is None else found
                if fn == "Fn::If":
                    cond, yes, no = arg
                    return self.value(yes if self.condition(cond) else no)
                if fn == "Fn::Sub":
                    if isinstance(arg, list):
                        return self._sub(str(arg[0]), dict(arg[1]))
                    return self._sub(str(arg), {})
                if fn == "Fn::FindInMap":
                    name, key1, key2 = (self.value(x) for x in arg)
                    return self.template["Mappings"][name][str(key1)][str(key2)]
                if fn == "Fn::GetAtt":
                    parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
                    return {"Fn::GetAtt": [str(p) for p in parts]}
                if fn == "Fn::Split":
                    delimiter, source = arg
                    return self.value(source).split(str(delimiter))
                if fn == "Fn::Join":
                    delimiter, items = arg
                    return str(delimiter).join(str(v) for v in self.value(items))
                if fn == "Fn::Select":
                    index, items = arg
                    return self.value(items)[int(self.value(index))]
            out = {}
            for key, item in node.items():
                item = self.value(item)
                if item is not NO_VALUE:
                    out[str(key)] = item
            return out
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not NO_VALUE]
        if isinstance(node, str):
            return str(node)
        return node


def deployed_outputs(template: dict, **overrides) -> dict:
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    return {
        name: evaluator.value(output)
        for name, output in template["Outputs"].items()
        if "Condition" not in output or evaluator.condition(output["Condition"])
    }


def symbolic(value) -> str:
    """A value as Fn::Sub writes it: a resource reference left unresolved reads ${Name}."""
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return str(value)


def evaluated(template: dict, **overrides) -> dict:
    """The resources as deployed with these parameter values: those whose condition is false
    are left out, the intrinsic functions of the rest evaluated."""
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    return {
        name: evaluator.value(resource)
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or evaluator.condition(resource["Condition"])
    }


def rules_hold(template: dict, **overrides) -> dict[str, bool]:
    """Each template rule for these parameter values: False when CloudFormation would refuse."""
    evaluator = Evaluator(template, parameter_values(template, **overrides))
    results = {}
    for name, rule in template.get("Rules", {}).items():
        applies = evaluator._truth(rule["RuleCondition"]) if "RuleCondition" in rule else True
        results[name] = not applies or all(evaluator._truth(a["Assert"]) for a in rule["Assertions"])
    return results


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def ref(name: str) -> dict:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}
