"""The report lines as the function writes them (the fixture), the Hive type of each field, and
the check of the Athena table over the archive (a list of problems).
"""

from __future__ import annotations

import json

from cfn_eval import INFRA, ref
from stack_facts import RUN_REPORTS_TABLE


# The report lines as the function writes them: made by its own writer in a Rust test
# (functions/rootsweep/tests/features.rs, the_athena_fixture_is_what_the_function_writes), which
# fails when the format changes and the fixture does not.
REPORT_LINES = INFRA / "tests" / "fixtures" / "report_lines.jsonl"
# Report fields the Athena table leaves out, each for its reason: the log level (not evidence);
# audit_order_seed (a u64 can exceed Athena's bigint); the summary's follow_ups, archive and
# findings (what a run delivered, not what it found); the run ledger's own health (ledger). The
# SerDe skips undeclared fields.
NOT_IN_TABLE = {"level", "audit_order_seed", "follow_ups", "archive", "findings", "ledger"}


def hive_type(values: list):
    """The Hive type that reads every one of `values` (JSON values of one field)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, int):
        return "int"
    if isinstance(first, float):
        return "double"
    if isinstance(first, str):
        return "string"
    if isinstance(first, dict):
        inner = {hive_type(list(v.values())) for v in present}
        return f"map<string,{inner.pop()}>"
    items = [item for v in present for item in v]
    if not items:
        return None
    if isinstance(items[0], dict):
        keys = list(dict.fromkeys(k for item in items for k in item))
        members = ",".join(f"{k}:{hive_type([item.get(k) for item in items])}" for k in keys)
        return f"array<struct<{members}>>"
    return f"array<{hive_type(items)}>"


def report_fields() -> dict:
    """Each field of the report lines with the Hive type that reads it, from the fixture."""
    lines = [json.loads(line) for line in REPORT_LINES.read_text().splitlines()]
    assert {line["kind"] for line in lines} == {"account_report", "run_summary"}
    names = list(dict.fromkeys(k for line in lines for k in line))
    return {name: hive_type([line.get(name) for line in lines]) for name in names}


def athena_table_problems(resources: dict, location: str) -> list[str]:
    """Problems with the Athena table over the archive at `location` (s3://bucket/prefix)."""
    problems = []
    table = resources[RUN_REPORTS_TABLE]["Properties"]
    if table["DatabaseName"] != ref("EvidenceDatabase"):
        problems.append(f"table in {table['DatabaseName']}")
    table_input = table["TableInput"]
    if table_input.get("TableType") != "EXTERNAL_TABLE":
        problems.append(f"table type {table_input.get('TableType')}")
    expected_parameters = {
        "classification": "json",
        "projection.enabled": "true",
        "projection.run_date.type": "date",
        "projection.run_date.format": "yyyy-MM-dd",
        "projection.run_date.range": "2024-11-01,NOW",
        "projection.run_date.interval": "1",
        "projection.run_date.interval.unit": "DAYS",
        "storage.location.template": f"{location}/runs/date=${{run_date}}/",
    }
    if table_input.get("Parameters") != expected_parameters:
        problems.append(f"table parameters {table_input.get('Parameters')}")
    if table_input.get("PartitionKeys") and [(k["Name"], k["Type"]) for k in table_input["PartitionKeys"]] != [("run_date", "string")]:
        problems.append(f"partition keys {table_input['PartitionKeys']}")
    storage = table_input["StorageDescriptor"]
    if storage.get("Location") != f"{location}/runs/":
        problems.append(f"table location {storage.get('Location')}")
    serde = storage.get("SerdeInfo", {})
    if serde.get("SerializationLibrary") != "org.openx.data.jsonserde.JsonSerDe":
        problems.append(f"SerDe {serde.get('SerializationLibrary')}")
    if serde.get("Parameters") != {"ignore.malformed.json": "true", "case.insensitive": "true"}:
        problems.append(f"SerDe parameters {serde.get('Parameters')}")
    columns = {column["Name"]: column["Type"] for column in storage["Columns"]}
    expected = {k: v for k, v in report_fields().items() if k not in NOT_IN_TABLE}
    if columns != expected:
        wrong = {
            name: (columns.get(name), expected.get(name))
            for name in set(columns) | set(expected)
            if columns.get(name) != expected.get(name)
        }
        problems.append(f"columns differ from the report lines (declared, expected): {wrong}")
    return problems
