#!/bin/bash
# What the S3 state backend costs over a local state file, against the
# emulator (loopback, no latency: the figures are cairn's own overhead plus
# one loopback round trip per request; add the real S3 latency, ~10-30 ms
# per request in-region, for AWS):
#   1. apply of stacks/prefect-ecs-worker.yaml: wall time local vs S3, and
#      the S3 requests the backend made (lock, download, uploads, unlock);
#   2. no-change `cairn plan` (with refresh) of the applied stack: median
#      wall time local vs S3, S3 requests per plan;
#   3. a 1000-resource state (bench/gen_stack.py + plan_state.py, written by
#      plan_fixture): the state object's size, and the no-change plan
#      without refresh, local vs S3 (the pure state cost).
# Target: a no-change plan adds at most 1 GET and 50 ms.
# Builds a release binary without sanitizers in build-bench-s3/.
#   bench/state_s3.sh            RUNS=7 by default
set -eu
cd "$(dirname "$0")/.."
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
B=build-bench-s3
RUNS=${RUNS:-7}

if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --buildtype=release -Db_sanitize=none -Dwerror=false \
		-Dtests=true >/dev/null
fi
ninja -C "$B" -j2 cairn tests/unit/plan/plan_fixture >"$B/build.log" 2>&1 ||
	{ tail -20 "$B/build.log"; exit 1; }
tmp=$(mktemp -d)
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
/usr/bin/python3 tests/emulator/run --port 0 >"$tmp/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 50); do
	grep -q listening "$tmp/emu.log" && break
	sleep 0.1
done
E=$(sed -n 's/.*listening on //p' "$tmp/emu.log")
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true NO_COLOR=1 CAIRN_POLL_MIN_MS=50 \
	CAIRN_POLL_MAX_MS=200
C="$B/cairn"
STACK=stacks/prefect-ecs-worker.yaml
P=(--param PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w
	--param PrefectApiKey=bench-not-a-secret)

ctl() { curl -fsS -X "$1" "$E/_emulator/$2" ${3:+-d "$3"} -H 'Content-Type: application/json'; }
s3calls() { ctl GET calls | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)
s = {k: v for k, v in c.items() if k.startswith("s3:")}
print(sum(s.values()), " ".join(f"{k[3:]}={v}" for k, v in sorted(s.items())) or "-")'; }
reset() {
	ctl POST reset >/dev/null
	ctl POST config '{"async": {"nat_gateway_create": 0.3, "nat_gateway_delete": 0.3,
		"vpc_endpoint_create": 0.2, "vpc_endpoint_delete": 0.2,
		"ecs_service_drain": 0.2}, "latency": {"*": 0.0}}' >/dev/null
	/usr/bin/python3 - "$E" <<'PY'
import sys, botocore.session
s = botocore.session.get_session().create_client(
    's3', region_name='us-east-1', endpoint_url=sys.argv[1],
    aws_access_key_id='test', aws_secret_access_key='test')
s.create_bucket(Bucket='bench-state')
PY
}
ms() { # runs "$@" once, prints wall ms
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" | tail -5 >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "S3 state backend overhead (emulator on loopback, $RUNS runs, medians)"
echo
printf '%-34s %10s %10s %8s  %s\n' what local s3 extra "S3 requests (by operation)"
for backend in local s3; do
	reset
	if [ $backend = local ]; then st="$tmp/local.db"; else st=s3://bench-state/web.db; fi
	ctl DELETE calls >/dev/null
	eval "apply_$backend=\$(ms \"\$C\" apply \"\$STACK\" --auto-approve --endpoint-url \"\$E\" --state \"\$st\" \"\${P[@]}\")"
	eval "apply_calls_$backend=\"\$(s3calls)\""
	: >"$tmp/plan"
	ctl DELETE calls >/dev/null
	for _ in $(seq "$RUNS"); do
		ms "$C" plan "$STACK" --endpoint-url "$E" --state "$st" "${P[@]}" >>"$tmp/plan"
	done
	eval "plan_$backend=\$(median <\"\$tmp/plan\")"
	eval "plan_calls_$backend=\"\$(s3calls)\""
done
printf '%-34s %8s ms %7s ms %5s ms  %s\n' "apply prefect-ecs-worker (29)" \
	"$apply_local" "$apply_s3" $((apply_s3 - apply_local)) "${apply_calls_s3#* }"
printf '%-34s %8s ms %7s ms %5s ms  %s per plan (%s over %s plans)\n' \
	"no-change plan, refresh (29)" "$plan_local" "$plan_s3" \
	$((plan_s3 - plan_local)) \
	"$(( ${plan_calls_s3%% *} / RUNS ))" "${plan_calls_s3#* }" "$RUNS"

# 1000 resources: the state object, and the plan without refresh
n=1000
/usr/bin/python3 bench/gen_stack.py $n >"$tmp/stack-$n.yaml"
/usr/bin/python3 bench/plan_state.py $n "stack-$n" >"$tmp/state.json"
"$B/tests/unit/plan/plan_fixture" write "$tmp/stack-$n.db" "$tmp/state.json"
"$C" state push "$tmp/stack-$n.db" --state "s3://bench-state/stack-$n.db" \
	--endpoint-url "$E" >/dev/null
size=$(/usr/bin/python3 - "$E" <<'PY'
import sys, botocore.session
s = botocore.session.get_session().create_client(
    's3', region_name='us-east-1', endpoint_url=sys.argv[1],
    aws_access_key_id='test', aws_secret_access_key='test')
print(s.head_object(Bucket='bench-state', Key='stack-1000.db')['ContentLength'])
PY
)
for backend in local s3; do
	if [ $backend = local ]; then st="$tmp/stack-$n.db"; else st="s3://bench-state/stack-$n.db"; fi
	: >"$tmp/plan"
	ctl DELETE calls >/dev/null
	for _ in $(seq "$RUNS"); do
		ms "$C" plan "$tmp/stack-$n.yaml" --refresh=false --endpoint-url "$E" \
			--state "$st" >>"$tmp/plan"
	done
	eval "big_$backend=\$(median <\"\$tmp/plan\")"
	eval "big_calls_$backend=\"\$(s3calls)\""
done
printf '%-34s %8s ms %7s ms %5s ms  %s per plan (%s over %s plans)\n' \
	"no-change plan, no refresh (1000)" "$big_local" "$big_s3" \
	$((big_s3 - big_local)) "$(( ${big_calls_s3%% *} / RUNS ))" \
	"${big_calls_s3#* }" "$RUNS"
echo
echo "state object for $n resources: $size bytes ($((size / 1024)) KiB)"
