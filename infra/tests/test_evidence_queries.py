"""Reading the evidence: the Athena table over the archive, the Athena and Logs Insights queries
in infra/queries/, and the fields of the report lines.
"""

from __future__ import annotations

import copy
import re

import pytest

from athena_checks import athena_table_problems, report_fields
from cfn_eval import INFRA, TEMPLATE_PATH, deployed_outputs, evaluated, rules_hold
from role_checks import role_problems
from stack_facts import ACCOUNT, RUN_REPORTS_TABLE


@pytest.mark.parametrize(
    "values, location",
    [
        ({"CreateArchiveBucket": "true"}, "s3://${ArchiveBucket}/rootsweep"),
        ({"ArchiveBucketName": "evidence-bucket", "ArchivePrefix": "audit/rootsweep"}, "s3://evidence-bucket/audit/rootsweep"),
    ],
)
def test_athena_table_over_the_archive(template, values, location):
    resources = evaluated(template, CreateAthenaTable="true", **values)
    assert athena_table_problems(resources, location) == []
    database = resources["EvidenceDatabase"]["Properties"]
    # Named after the stack (rootsweep here) by default.
    assert database["CatalogId"] == ACCOUNT and database["DatabaseInput"]["Name"] == "rootsweep_evidence"
    outputs = deployed_outputs(template, CreateAthenaTable="true", **values)
    assert outputs["AthenaTable"]["Value"] == "${EvidenceDatabase}.run_reports"
    # The table is metadata: no role reads it, and the function's role gains nothing from it.
    assert role_problems(resources, "audit", features=("follow_ups", "archive"), archive_bucket=location[5:].split("/")[0],
                         archive_prefix=location[5:].split("/", 1)[1]) == []


def test_athena_table_checks_catch_a_wrong_table(template):
    resources = evaluated(template, CreateAthenaTable="true", CreateArchiveBucket="true")
    location = "s3://${ArchiveBucket}/rootsweep"
    for mutate in (
        lambda ti: ti["StorageDescriptor"]["Columns"].pop(),
        lambda ti: ti["StorageDescriptor"]["Columns"].append({"Name": "accounts_clean", "Type": "int"}),
        lambda ti: [c.update(Type="string") for c in ti["StorageDescriptor"]["Columns"] if c["Name"] == "accounts"],
        lambda ti: ti["Parameters"].update({"storage.location.template": location + "/runs/${run_date}/"}),
        lambda ti: ti["StorageDescriptor"]["SerdeInfo"]["Parameters"].pop("ignore.malformed.json"),
        lambda ti: ti["StorageDescriptor"].update(Location=location + "/"),
    ):
        broken = copy.deepcopy(resources)
        mutate(broken[RUN_REPORTS_TABLE]["Properties"]["TableInput"])
        assert athena_table_problems(broken, location) != []


def test_no_athena_table_without_asking_or_without_an_archive(template):
    for values in ({}, {"CreateArchiveBucket": "true"}, {"CreateAthenaTable": "true"}):
        resources = evaluated(template, **values)
        assert not [name for name, res in resources.items() if res["Type"].startswith("AWS::Glue::")]
    assert rules_hold(template, CreateAthenaTable="true")["AthenaTableNeedsAnArchive"] is False
    assert rules_hold(template, CreateAthenaTable="true", CreateArchiveBucket="true")["AthenaTableNeedsAnArchive"] is True


# Words the Athena queries (infra/queries/*.sql) may use besides the table's columns and their own aliases.
SQL_WORDS = {
    "select", "distinct", "from", "where", "and", "or", "not", "in", "is", "null", "between", "as",
    "group", "by", "order", "asc", "desc", "with", "left", "join", "on", "unnest", "cast", "date",
    "varchar", "interval", "day", "true", "false", "count", "max", "min", "sum", "avg",
    "date_diff", "from_iso8601_timestamp", "approx_percentile", "sequence", "cardinality",
}


QUERIES = sorted((INFRA / "queries").glob("*.sql"))


def test_athena_queries_name_only_real_columns_of_real_report_lines(template):
    # Offline, no Athena: every identifier in a query is a column of the table that the report
    # lines really have (or the partition), an alias the query defines, the table itself or an
    # SQL word - a misspelt or dropped column fails here.
    resources = evaluated(template, CreateAthenaTable="true", CreateArchiveBucket="true")
    table_input = resources[RUN_REPORTS_TABLE]["Properties"]["TableInput"]
    columns = {c["Name"] for c in table_input["StorageDescriptor"]["Columns"]}
    columns &= set(report_fields())
    columns |= {k["Name"] for k in table_input["PartitionKeys"]}
    # The queries name the database a stack called rootsweep gets by default.
    database = resources["EvidenceDatabase"]["Properties"]["DatabaseInput"]["Name"]
    assert len(QUERIES) >= 6
    readme = (INFRA / "README.md").read_text()
    assert "```sql" not in readme, "the queries live in infra/queries/"
    for path in QUERIES:
        assert f"queries/{path.name}" in readme, f"{path.name} is not in the README"
        sql = re.sub(r"--[^\n]*", "", path.read_text())
        assert f"FROM {database}.{table_input['Name']}" in sql
        text = re.sub(r"'[^']*'", "''", sql)  # string literals are not identifiers
        text = text.replace(f"{database}.{table_input['Name']}", "")
        aliases = set(re.findall(r"\bAS\s+(\w+)", text, re.I))
        aliases |= set(re.findall(r"\bAS\s+\w+\s*\((\w+)\)", text, re.I))  # AS t (d)
        aliases |= set(re.findall(r"\b(\w+)\s+AS\s*\(", text, re.I))  # CTE names
        words = {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
        unknown = {w for w in words if w.lower() not in SQL_WORDS and w not in columns and w not in aliases}
        assert unknown == set(), (path.name, unknown)
        # The kinds of line a query picks are real ones.
        for kind in re.findall(r"kind = '(\w+)'", sql):
            assert kind in {"account_report", "run_summary"}, (path.name, kind)
        # Every query reads one audit period's partitions only.
        assert "run_date BETWEEN" in sql or "run_date >=" in sql, path.name


def test_the_fields_of_the_report_lines_are_read(template):
    fields = report_fields()
    assert fields["due_at"] == "string" and fields["exemptions"] == "array<struct<account_id:string,rule:string>>"
    assert fields["credentials"] == "array<struct<kind:string,id:string,created:string,last_used:string,status:string>>"


# The run summary's per-outcome counts moved into the map `accounts` (accounts.clean, ...): the
# old flat names must not come back into a query.
OLD_SUMMARY_FIELDS = re.compile(
    r"\baccounts_(clean|in_grace|due|remediated|retry_later|skipped|exempt|failed|not_reached)\b"
)


# The Logs Insights queries live in infra/queries/logs-insights/, one file each (they were inline
# in the README, which now links them).
LOGS_INSIGHTS_QUERIES = sorted((INFRA / "queries" / "logs-insights").glob("*.txt"))


def test_logs_insights_queries_use_the_summary_map_not_the_old_flat_counts(template):
    readme = (INFRA / "README.md").read_text()
    assert OLD_SUMMARY_FIELDS.findall(readme) == []
    assert OLD_SUMMARY_FIELDS.findall(TEMPLATE_PATH.read_text()) == []
    assert len(LOGS_INSIGHTS_QUERIES) >= 11
    for path in LOGS_INSIGHTS_QUERIES:
        assert f"queries/logs-insights/{path.name}" in readme, f"{path.name} is not in the README"
    queries = "\n".join(path.read_text() for path in LOGS_INSIGHTS_QUERIES)
    assert OLD_SUMMARY_FIELDS.findall(queries) == []
    # The summary's fields, once in the README, are defined in docs/report.md.
    assert OLD_SUMMARY_FIELDS.findall((INFRA.parent / "docs" / "report.md").read_text()) == []
    for outcome in ("clean", "in_grace", "due", "remediated", "retry_later", "failed", "not_reached"):
        assert f"accounts.{outcome}" in queries
