#!/usr/bin/env bash
# make demo: real rootsweep runs against an emulated AWS Organization, start to finish.
# The binaries are built by `make demo`; this script starts the emulator, drives the operator
# CLI (the same engine as the Lambda) through audit -> sweep -> audit, each run archived to the
# emulator's S3 as the function archives it, and reads that evidence back (a table, and an HTML
# page written to target/demo/evidence.html). Then the Lambda
# function itself, under a local Lambda Runtime API, follows a root password recovery to its
# exact due time on a second emulated organization. Everything is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CARGO_TARGET_DIR:-target}/debug
accounts=${DEMO_ACCOUNTS:-40}
seed=${DEMO_SEED:-2026}

work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# start NAME FIRST_LINE_FILE COMMAND...: runs a server in the background and waits for the first
# line it prints (the emulator prints its URL, the runtime its port).
start() {
  local name=$1 out=$2
  shift 2
  "$@" >"$out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    [ -s "$out" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name did not start" >&2
  exit 1
}
# The organization's deployment: the function `rootsweep` with tests/demo/function.json as its
# environment (what `lambda:GetFunctionConfiguration` answers), its archive and ledger buckets.
start emulator "$work/emulator.out" "$bin/rootsweep-emulator" --listen 127.0.0.1:0 \
  --accounts "$accounts" --seed "$seed" --bucket rootsweep-demo-evidence \
  --bucket rootsweep-demo-state --function rootsweep=tests/demo/function.json
url=$(head -n 1 "$work/emulator.out")

# Exactly what an operator would set against real AWS, with the endpoint pointed at the emulator.
export AWS_ENDPOINT_URL="$url" AWS_REGION=us-east-1
# The emulator checks signatures: these are the caller credentials it knows by default.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
# The CLI acts for the deployed function: its exemptions, grace period, cap, run ledger and
# archive apply (no ROOTSWEEP_* setting in this shell).
export ROOTSWEEP_FUNCTION=rootsweep

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n\n' "$1" "$2"; }
run() { # runs the CLI and says what its exit code means, without stopping the demo
  local code=0
  "$bin/rootsweep" "$@" || code=$?
  case $code in
    0) echo "(exit 0: every account checked, none holds root credentials past its grace period)" ;;
    4) echo "(exit 4: some accounts hold root credentials past their grace period)" ;;
    *) echo "(exit $code: see rootsweep --help)"; return "$code" ;;
  esac
}
state() { # the emulator's own view, independent of rootsweep's report
  python3 - "$url" <<'PY'
import json, sys, urllib.request
org = json.load(urllib.request.urlopen(sys.argv[1] + "/_emulator/state"))
holding = [a for a in org["accounts"] if any(a["root_user"].get(k) for k in
           ("login_profile", "access_keys", "signing_certificates", "mfa_devices"))]
print(f"emulator state: {len(org['accounts'])} accounts, {len(holding)} with root credentials:")
for a in holding:
    u = a["root_user"]
    kinds = [k for k in ("login_profile", "access_keys", "signing_certificates", "mfa_devices") if u.get(k)]
    print(f"  {a['id']}  {a['name']:<26} {a['state']:<16} {', '.join(kinds)}")
PY
}

echo "Emulated organization: $accounts accounts (seed $seed) at $url"
echo "The CLI acts for the deployed function rootsweep (tests/demo/function.json): grace period 72h,"
echo "accounts tagged rootsweep:exempt=true exempt, runs archived to S3 and counted in its run ledger."

step "1. Preflight: is centralized root access ready, and may this caller use it?" "rootsweep preflight"
run preflight

step "2. Audit: every member account's root credentials; nothing is deleted" "rootsweep audit   # ROOTSWEEP_FUNCTION=rootsweep"
run audit
state

step "3. Enforcing sweep: the deployment's protections, what it will delete, then deleted (--yes: no prompt)" "rootsweep sweep --yes"
run sweep --yes

step "4. After the sweep: only credentials still inside their grace period remain" "rootsweep audit"
run audit
state

step "5. Evidence for auditors: the archived runs read back, per account" "rootsweep evidence --since 1d"
code=0
"$bin/rootsweep" evidence --since 1d || code=$?
case $code in
  0) echo "(exit 0: no account was seen past its grace period)" ;;
  4) echo "(exit 4: some accounts were seen past their grace period in the period: for this long)" ;;
  *) exit "$code" ;;
esac
# The same evidence as one self-contained page to open, file or send (no script, no network).
report=${DEMO_REPORT:-${CARGO_TARGET_DIR:-target}/demo/evidence.html}
mkdir -p "$(dirname "$report")"
printf '\n$ rootsweep evidence --since 1d --output html > %s\n' "$report"
code=0
"$bin/rootsweep" evidence --since 1d --output html >"$report" || code=$?
[ "$code" = 0 ] || [ "$code" = 4 ] || exit "$code"
echo "The evidence as an HTML page: $report"


# 6. The function itself, on a second organization where someone recovered the root password of
# `sandbox` for a task: the password was created 72 h minus 30 s before the emulator started.
start recovery-emulator "$work/recovery.out" "$bin/rootsweep-emulator" --listen 127.0.0.1:0 \
  --org tests/demo/recovery.json
recovery_url=$(head -n 1 "$work/recovery.out")
function_arn=arn:aws:lambda:us-east-1:222222222222:function:rootsweep
start lambda-runtime "$work/runtime.port" python3 tests/demo/lambda_runtime.py "$work/runtime.port" "$function_arn"
sleep 0.2 # the port is written just before the server thread starts
runtime="127.0.0.1:$(cat "$work/runtime.port")"
# The function as deployed with FollowUps=Enabled, in enforce mode, logging to a file as to
# CloudWatch Logs.
AWS_ENDPOINT_URL="$recovery_url" AWS_LAMBDA_RUNTIME_API="$runtime" \
  AWS_LAMBDA_FUNCTION_NAME=rootsweep AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/rootsweep \
  AWS_LAMBDA_LOG_STREAM_NAME=demo AWS_LAMBDA_LOG_FORMAT=JSON ROOTSWEEP_MODE=enforce \
  ROOTSWEEP_FOLLOW_UP_GROUP=rootsweep-follow-ups \
  ROOTSWEEP_FOLLOW_UP_ROLE_ARN=arn:aws:iam::222222222222:role/rootsweep-follow-up-invoke \
  "$bin/rootsweep-lambda" >"$work/lambda.log" 2>&1 &
pids+=($!)

invoke() { # $1: the event; prints the function's response, its long lists left out
  python3 - "http://$runtime/invoke" "$1" <<'PY'
import json, sys, urllib.request
answer = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode()), timeout=120)
r = json.load(answer)
for key in ("credentials_found", "credentials_deleted", "attention", "audit_order_seed"):
    r.pop(key, None)
if "accounts" in r:
    r["accounts"] = {k: v for k, v in r["accounts"].items() if v}
print(json.dumps(r, indent=2))
PY
}
recovery() { python3 - "$recovery_url" "$@" <<'PY'
import json, sys, urllib.request
url, what = sys.argv[1], sys.argv[2]
get = lambda path, method="GET": json.load(urllib.request.urlopen(urllib.request.Request(url + path, method=method)))
sandbox = next(a for a in get("/_emulator/state")["accounts"] if a["name"] == "sandbox")
if what == "event":  # the CloudTrail record EventBridge delivers, as the template's rule matches it
    print(json.dumps({
        "version": "0", "id": "demo", "source": "aws.sts", "account": "222222222222",
        "detail-type": "AWS API Call via CloudTrail", "region": "us-east-1",
        "time": sandbox["root_user"]["login_profile"]["created"],
        "detail": {"eventSource": "sts.amazonaws.com", "eventName": "AssumeRoot",
                   "eventTime": sandbox["root_user"]["login_profile"]["created"],
                   "eventID": "5f7c0e5e-demo-recovery",
                   "requestParameters": {"targetPrincipal": sandbox["id"],
                       "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"}}}}))
elif what == "schedules":
    schedules = get("/_emulator/schedules")
    for s in schedules:
        print(f"  {s['name']}  {s['expression']}  input {s['target']['Input']}")
    if not schedules:
        print("  (none)")
elif what == "due_in":  # seconds until the password is due (72 h after its creation)
    from datetime import datetime, timedelta, timezone
    created = datetime.fromisoformat(sandbox["root_user"]["login_profile"]["created"].replace("Z", "+00:00"))
    print(max(0, int((created + timedelta(hours=72) - datetime.now(timezone.utc)).total_seconds()) + 1))
elif what == "fire":  # Scheduler's clock moved to the schedule's time: what it invokes the function with
    at = get("/_emulator/schedules")[0]["at"]
    fired = get("/_emulator/schedules/fire?now=" + at.replace("+", "%2B"), method="POST")
    print(fired[0]["input"])
elif what == "password":
    print(f"  sandbox ({sandbox['id']}): " + ("root password present" if sandbox["root_user"].get("login_profile") else "no root password"))
PY
}

step "6. A root password recovery, followed to its exact due time by the function itself" \
  "rootsweep-lambda, invoked with the CloudTrail record of AssumeRoot(IAMCreateRootUserPassword)"
echo "Someone recovered the root password of sandbox 72 hours ago, less 30 seconds. (The demo"
echo "replays the recovery event late rather than wait 3 days; the function runs on a local"
echo "Lambda Runtime API against a second emulated organization.)"
recovery password
invoke "$(recovery event)"
echo "The follow-up schedule it created (EventBridge Scheduler, deleted after it fires):"
recovery schedules

wait_s=$(recovery due_in)
step "7. At the follow-up's time, Scheduler invokes the function with the schedule's input" \
  "(waiting ${wait_s}s for the password's grace period to end, then moving Scheduler's clock to the schedule's time)"
sleep "$wait_s"
input=$(recovery fire)
echo "Scheduler invokes the function with: $input"
invoke "$input"
recovery password
echo "Pending follow-ups:"
recovery schedules
echo "The function's own log lines are in CloudWatch Logs form, one JSON object each, e.g.:"
grep -m 1 '"kind":"account_report"' "$work/lambda.log" | cut -c 1-300 || true

echo
echo "Done: the emulators and the function are stopped. Run the emulator yourself with: $bin/rootsweep-emulator --help"
