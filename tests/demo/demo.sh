#!/usr/bin/env bash
# make demo: a real rootsweep run against an emulated AWS Organization, start to finish.
# The binaries are built by `make demo`; this script starts the emulator, drives the operator
# CLI (the same engine as the Lambda) through audit -> sweep -> audit, and stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CARGO_TARGET_DIR:-target}/debug
accounts=${DEMO_ACCOUNTS:-40}
seed=${DEMO_SEED:-2026}

work=$(mktemp -d)
"$bin/rootsweep-emulator" --listen 127.0.0.1:0 --accounts "$accounts" --seed "$seed" \
  >"$work/emulator.out" 2>"$work/emulator.err" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT
# The emulator prints the URL it listens on as its first line.
for _ in $(seq 100); do
  [ -s "$work/emulator.out" ] && break
  kill -0 "$emulator" 2>/dev/null || { cat "$work/emulator.err" >&2; exit 1; }
  sleep 0.1
done
url=$(head -n 1 "$work/emulator.out")

# Exactly what an operator would set against real AWS, with the endpoint pointed at the emulator.
export AWS_ENDPOINT_URL="$url" AWS_REGION=us-east-1
# The emulator checks signatures: these are the caller credentials it knows by default.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export ROOTSWEEP_GRACE_PERIOD=72h ROOTSWEEP_EXEMPT_TAG_KEY=rootsweep:exempt ROOTSWEEP_EXEMPT_TAG_VALUE=true

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
echo "Grace period 72h; accounts tagged rootsweep:exempt=true are exempt."

step "1. Preflight: is centralized root access ready, and may this caller use it?" "rootsweep preflight"
run preflight

step "2. Audit: every member account's root credentials; nothing is deleted" "rootsweep audit"
run audit
state

step "3. Enforcing sweep: shows what it will delete, then deletes it (--yes: no prompt)" "rootsweep sweep --yes"
run sweep --yes

step "4. After the sweep: only credentials still inside their grace period remain" "rootsweep audit"
run audit
state
echo
echo "Done: the emulator is stopped. Run it yourself with: $bin/rootsweep-emulator --help"
