#!/bin/bash
# API calls of a no-change `cairn plan` (refresh on) against the local
# emulator, compared with one call per resource.
#
# usage: bench/refresh_calls.sh [--gen N] [STACK.yaml ...]
#   default stacks (when none is named and no --gen):
#   stacks/prefect-ecs-worker.yaml and stacks/prefect-agent-dedicated-ip.yaml;
#   --gen N adds a generated N-resource stack (VPC, subnets, security
#   groups, log groups).
# Environment: CAIRN (default build/cairn).
#
# For each stack: reset the emulator, apply, then count the calls the plan
# made (GET /_emulator/calls before and after), by operation.
set -euo pipefail
cd "$(dirname "$0")/.."
cairn=${CAIRN:-build/cairn}
[ -x "$cairn" ] || { echo "refresh_calls: $cairn not built" >&2; exit 1; }
gen=0
stacks=()
while [ $# -gt 0 ]; do
	case $1 in
	--gen) gen=$2; shift 2 ;;
	*) stacks+=("$1"); shift ;;
	esac
done
[ ${#stacks[@]} -gt 0 ] || [ "$gen" -gt 0 ] ||
	stacks=(stacks/prefect-ecs-worker.yaml stacks/prefect-agent-dedicated-ip.yaml)

work=$(mktemp -d)
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
if [ "$gen" -gt 0 ]; then
	# one VPC; a fifth subnets (at most 250: /24s of the VPC's /16), two
	# fifths security groups, the rest log groups: the types with a
	# batched Describe and one without (Logs reads by name prefix)
	/usr/bin/python3 - "$gen" >"$work/gen$gen.yaml" <<'PY'
import sys
n = int(sys.argv[1])
subnets = min((n - 1) // 5, 250)
sgs = (n - 1 - subnets) // 2
logs = n - 1 - subnets - sgs
print('AWSTemplateFormatVersion: "2010-09-09"\nResources:')
print('  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16')
for i in range(subnets):
    print(f'  Subnet{i}:\n    Type: AWS::EC2::Subnet\n    Properties:\n'
          f'      VpcId: !Ref Vpc\n      CidrBlock: 10.0.{i}.0/24')
for i in range(sgs):
    print(f'  Sg{i}:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n'
          f'      GroupDescription: bench group {i}\n      VpcId: !Ref Vpc\n'
          f'      SecurityGroupIngress:\n        - IpProtocol: tcp\n'
          f'          FromPort: {1000 + i}\n          ToPort: {1000 + i}\n'
          f'          CidrIp: 10.0.0.0/16')
for i in range(logs):
    print(f'  Logs{i}:\n    Type: AWS::Logs::LogGroup\n    Properties:\n'
          f'      LogGroupName: /bench/refresh/{i}\n      RetentionInDays: 7')
PY
	stacks+=("$work/gen$gen.yaml")
fi

/usr/bin/python3 tests/emulator/run --port 0 >"$work/emu.out" 2>"$work/emu.err" &
emu_pid=$!
for _ in $(seq 1 100); do
	grep -q '^listening on ' "$work/emu.out" 2>/dev/null && break
	sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/emu.out" | head -1)
[ -n "$url" ] || { cat "$work/emu.err"; echo "the emulator did not start" >&2; exit 1; }
curl -s -X POST "$url/_emulator/config" -d '{"async": {"nat_gateway_create": 0.2,
  "nat_gateway_delete": 0.2, "vpc_endpoint_create": 0.2, "vpc_endpoint_delete": 0.2,
  "ecs_service_drain": 0.1}}' >/dev/null

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true CAIRN_POLL_MIN_MS=50 CAIRN_POLL_MAX_MS=200

printf '%-32s %9s %9s %8s  %s\n' stack resources calls ratio "calls by operation"
for stack in "${stacks[@]}"; do
	curl -s -X POST "$url/_emulator/reset" -d '{}' >/dev/null
	db="$work/$(basename "$stack" .yaml).db"
	common=(--endpoint-url "$url" --state "$db")
	# the Prefect stacks' parameters without defaults, where declared
	grep -q PrefectApiKey "$stack" && common+=(--param PrefectApiKey=bench-not-a-key)
	grep -q PrefectApiUrl "$stack" && common+=(--param PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w)
	"$cairn" apply "$stack" --auto-approve "${common[@]}" >"$work/apply.out" 2>&1 ||
		{ grep -E "failed|error" "$work/apply.out" | head -20; tail -5 "$work/emu.err"
		  echo "refresh_calls: apply of $stack failed" >&2; exit 1; }
	n=$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM resources").fetchone()[0])' "$db")
	curl -s "$url/_emulator/calls" >"$work/before.json"
	start=$(date +%s.%N)
	prc=0
	"$cairn" plan "$stack" --detailed-exitcode "${common[@]}" >"$work/plan.out" 2>"$work/plan.err" || prc=$?
	end=$(date +%s.%N)
	if [ $prc = 1 ]; then
		cat "$work/plan.out" "$work/plan.err"; echo "refresh_calls: the plan of $stack failed" >&2; exit 1
	elif [ $prc = 2 ]; then
		# still counted: the reads are the same; the changes are drift
		# the providers report (see the plan) and must be fixed there
		echo "refresh_calls: warning: the plan of $(basename "$stack") is not a no-change plan: $(grep '^Plan:' "$work/plan.out")" >&2
	fi
	curl -s "$url/_emulator/calls" >"$work/after.json"
	/usr/bin/python3 - "$work/before.json" "$work/after.json" "$n" "$(basename "$stack")" \
		"$start" "$end" <<'PY'
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n, name = int(sys.argv[3]), sys.argv[4]
secs = float(sys.argv[6]) - float(sys.argv[5])
d = {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)}
total = sum(d.values())
ops = ', '.join(f'{k}={v}' for k, v in sorted(d.items(), key=lambda kv: -kv[1]))
print(f'{name:32s} {n:9d} {total:9d} {total / n:8.2f}  {ops}  ({secs:.2f}s)')
PY
done
