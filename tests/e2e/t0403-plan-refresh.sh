#!/bin/bash
# cairn plan with its live read, against the local emulator: after apply a
# plan from the recorded state is empty; a change made behind cairn's back
# (with Debian's aws CLI) shows up in the refreshed plan, and the plan's
# refresh never writes the state.
. "$CAIRN_SRC/tests/e2e/lib.sh"

EMU="$CAIRN_SRC/tests/emulator/run"
if [ ! -x "$EMU" ] || [ ! -x /usr/bin/aws ]; then
	echo "ok 1 # SKIP emulator or /usr/bin/aws not present"
	exit 0
fi
cd "$T_TMP" || exit 1
cat >emu.json <<'EOF'
{"async": {"nat_gateway_create": 0.3, "nat_gateway_delete": 0.3,
           "vpc_endpoint_create": 0.2, "vpc_endpoint_delete": 0.2,
           "ecs_service_drain": 0.2}}
EOF
"$EMU" --port 0 --config emu.json >emu.out 2>emu.err &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null; wait $EMU_PID 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 100); do
	grep -q listening emu.out 2>/dev/null && break
	sleep 0.1
done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' emu.out)
t_grep "emulator is up" "^http://127.0.0.1:[0-9]+$" "$URL"

export NO_COLOR=1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	CAIRN_POLL_MIN_MS=100 CAIRN_POLL_MAX_MS=300
# a NotFound for a resource changed in the last 5 minutes is read again this
# long before it counts as gone (src/exec/settle.c, 20 s by default): the log
# group deleted behind cairn's back below is such a resource
export CAIRN_SETTLE_SECONDS=2
unset AWS_PROFILE AWS_DEFAULT_REGION
TPL="$CAIRN_SRC/stacks/prefect-ecs-worker.yaml"
KEY=pnu_refresh_test_key_0123456789
C=(--endpoint-url "$URL" --state s.db --param PrefectApiKey=$KEY
	--param PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/b)
awsc() { /usr/bin/aws --endpoint-url "$URL" --region us-east-1 --output json "$@"; }

t_run "apply the stack" 0 "$CAIRN" apply "$TPL" --auto-approve "${C[@]}"
t_run "plan from the recorded state after apply: no changes" 0 \
	"$CAIRN" plan "$TPL" "${C[@]}" --refresh=false --detailed-exitcode
t_grep "...says so" "^No changes\\." "$T_OUT"

serial() { /usr/bin/python3 -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("select serial from stack").fetchone()[0])' s.db; }
before=$(serial)
t_run "change the log group's retention behind cairn's back" 0 \
	awsc logs put-retention-policy --log-group-name /ecs/prefect-worker --retention-in-days 30
t_run "the refreshed plan has changes" 2 "$CAIRN" plan "$TPL" "${C[@]}" --detailed-exitcode
t_grep "...says it read AWS" "refreshed from AWS" "$T_OUT"
t_grep "...and puts the retention back" "~ RetentionInDays: 30 -> 7" "$T_OUT"
t_grep "...as an update in place of the log group" \
	"~ WorkerLogGroup \(AWS::Logs::LogGroup, id /ecs/prefect-worker\): update in place" "$T_OUT"
t_nogrep "the key is not shown" "$KEY" "$T_OUT$T_ERR"
t_grep "the plan's refresh did not write the state" "^$before$" "$(serial)"
t_run "so a plan from the recorded state still sees nothing" 0 \
	"$CAIRN" plan "$TPL" "${C[@]}" --refresh=false --detailed-exitcode

# a saved plan is applied exactly, once, and refused once anything moved
t_run "plan --out with one more worker" 0 "$CAIRN" plan "$TPL" "${C[@]}" \
	--param WorkerDesiredCount=1 --out fix.plan
t_grep "...an update of the service" "~ DesiredCount: 0 -> 1" "$T_OUT"
t_run "apply the saved plan" 0 "$CAIRN" apply fix.plan "${C[@]}" --param WorkerDesiredCount=1
cluster=$(awsc ecs list-clusters --query 'clusterArns[0]' --output text)
t_grep "AWS runs one worker (read with the aws CLI)" "^1$" \
	"$(awsc ecs describe-services --cluster "$cluster" --output text \
		--services "$(awsc ecs list-services --cluster "$cluster" --query 'serviceArns[0]' --output text)" \
		--query 'services[0].desiredCount')"
t_run "the same plan again is refused" 1 "$CAIRN" apply fix.plan "${C[@]}" --param WorkerDesiredCount=1
t_grep "...because the state moved" "stale: .*the state changed \(serial [0-9]+ when planned, [0-9]+ now\)" "$T_ERR"
t_run "plan --out, then change a parameter" 0 "$CAIRN" plan "$TPL" "${C[@]}" --out p2.plan
t_run "a changed NoEcho parameter refuses the plan" 1 "$CAIRN" apply p2.plan "${C[@]}" \
	--param PrefectApiKey=another_key_0000
t_grep "...naming it" "stale: parameter \"PrefectApiKey\" changed" "$T_ERR"
cp "$TPL" prefect-ecs-worker.yaml
t_run "plan --out of a template copy" 0 "$CAIRN" plan prefect-ecs-worker.yaml "${C[@]}" --out p3.plan
echo "# an edit" >>prefect-ecs-worker.yaml
t_run "an edited template refuses the plan" 1 "$CAIRN" apply p3.plan "${C[@]}"
t_grep "...saying the template changed" "stale: the template changed \(sha256:[0-9a-f]{64} when planned" "$T_ERR"
t_nogrep "no plan file holds the key" "$KEY" "$(cat fix.plan p2.plan p3.plan)"

t_run "delete the log group behind cairn's back" 0 \
	awsc logs delete-log-group --log-group-name /ecs/prefect-worker
t_run "the refreshed plan creates it again" 2 "$CAIRN" plan "$TPL" "${C[@]}" --detailed-exitcode
t_grep "...as a create" "\+ WorkerLogGroup \(AWS::Logs::LogGroup\): create" "$T_OUT"
t_done
