#!/bin/bash
# The AWS client's protocols against the emulator, through the test driver
# (aws_call_driver): EC2 Query with model wire names, Query .member.N, JSON
# 1.1, S3 conditional writes, error classes, and 10 threads sharing one
# client under injected throttling and 5xx faults. What the client wrote is
# checked with Debian's aws CLI, not with cairn.
. "$(dirname "$0")/lib.sh"
export PATH=/usr/bin:/bin:$PATH
D="${CAIRN_BUILD:-$(dirname "$CAIRN")}/tests/unit/aws/aws_call_driver"
EMU="$CAIRN_SRC/tests/emulator/run"
if [ ! -x "$EMU" ] || [ ! -x "$D" ]; then
	echo "ok 1 # SKIP emulator or driver not present"
	exit 0
fi
export HOME=$T_TMP/home AWS_EC2_METADATA_DISABLED=true CAIRN_AWS_RETRY_BASE_MS=20
mkdir -p "$HOME"
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
	AWS_DEFAULT_REGION=us-east-1
"$EMU" --port 0 >"$T_TMP/emu.out" 2>"$T_TMP/emu.err" &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 50); do grep -q listening "$T_TMP/emu.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$T_TMP/emu.out")
aws() { /usr/bin/aws --endpoint-url "$URL" --output json "$@"; }
ctl() { curl -s -X POST "$URL/_emulator/$1" -d "$2" >/dev/null; }

# EC2: TagSpecifications -> TagSpecification.1.Tag.1.Key, response as a tree
t_run "ec2:CreateVpc with tags" 0 "$D" --endpoint-url "$URL" ec2 CreateVpc \
	'{"CidrBlock":"10.1.0.0/16","TagSpecifications":[{"ResourceType":"vpc","Tags":[{"Key":"Name","Value":"cairn vpc"}]}]}'
VPC=$(printf '%s' "$T_OUT" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vpc"]["vpcId"])')
t_grep "response tree has vpc.vpcId" '^vpc-' "$VPC"
t_run "aws CLI sees the tag" 0 aws ec2 describe-vpcs --vpc-ids "$VPC"
t_grep "tag written as the model says" '"Value": "cairn vpc"' "$T_OUT"
t_run "ec2:DescribeVpcs with Filters (Filter.N.Value.M)" 0 "$D" --endpoint-url "$URL" ec2 DescribeVpcs \
	'{"Filters":[{"Name":"tag:Name","Values":["cairn vpc"]}]}'
t_grep "item lists become lists" "\"vpcSet\":\\[\\{.*\"vpcId\":\"$VPC\"" "$T_OUT"
t_run "ec2:CreateSecurityGroup (Description -> GroupDescription)" 0 "$D" --endpoint-url "$URL" \
	ec2 CreateSecurityGroup "{\"GroupName\":\"web\",\"Description\":\"web tier\",\"VpcId\":\"$VPC\"}"
t_run "aws CLI sees the description" 0 aws ec2 describe-security-groups --filters Name=group-name,Values=web
t_grep "description arrived" '"Description": "web tier"' "$T_OUT"
t_run "unknown VPC id fails" 1 "$D" --endpoint-url "$URL" ec2 DeleteVpc '{"VpcId":"vpc-0123456789abcdef0"}'
t_grep "not_found class with code, status and request id" \
	'^error not_found InvalidVpcID.NotFound 400: ec2:DeleteVpc: InvalidVpcID.NotFound: .*\(request id [^)]+\)' "$T_ERR"

# pagination: aws_call_all follows nextToken; the count is the aws CLI's
# (more VPCs than AWS's default quota of 5 per region: raise it, as a quota
# increase would)
ctl config '{"quotas": {"vpcs_per_region": 20}}'
"$D" --endpoint-url "$URL" --calls 7 ec2 CreateVpc '{"CidrBlock":"10.9.0.0/16"}' >/dev/null 2>&1
WANT=$(aws ec2 describe-vpcs --query 'length(Vpcs)' --output text)
t_run "ec2:DescribeVpcs, all pages of 5" 0 "$D" --endpoint-url "$URL" --all vpcSet \
	ec2 DescribeVpcs '{"MaxResults":5}'
GOT=$(printf '%s' "$T_OUT" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vpcSet"]))')
if [ "$WANT" -gt 5 ] && [ "$GOT" = "$WANT" ]; then t_ok "all $WANT VPCs gathered"; else
	t_fail "gathered $GOT VPCs, the aws CLI sees $WANT"; fi
t_run "one page only without --all" 0 "$D" --endpoint-url "$URL" ec2 DescribeVpcs '{"MaxResults":5}'
t_grep "first page has a nextToken" '"nextToken":' "$T_OUT"

# Query (IAM): Tags.member.N, <member> lists, global endpoint signed us-east-1
DOC='{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}'
t_run "iam:CreateRole with Tags" 0 "$D" --endpoint-url "$URL" iam CreateRole \
	"{\"RoleName\":\"task\",\"AssumeRolePolicyDocument\":\"$DOC\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"infra\"},{\"Key\":\"env\",\"Value\":\"dev\"}]}"
t_grep "Result wrapper unwrapped" '^\{"Role":\{' "$T_OUT"
t_run "aws CLI sees both tags" 0 aws iam list-role-tags --role-name task
t_grep "first tag" '"Key": "team"' "$T_OUT"
t_grep "second tag" '"Value": "dev"' "$T_OUT"
t_run "iam:ListRoles returns a member list" 0 "$D" --endpoint-url "$URL" iam ListRoles
t_grep "Roles is a list" '"Roles":\[\{' "$T_OUT"
t_run "iam:GetRole of a missing role" 1 "$D" --endpoint-url "$URL" iam GetRole '{"RoleName":"nosuch"}'
t_grep "NoSuchEntity is not_found" '^error not_found NoSuchEntity 404' "$T_ERR"

# JSON 1.1 (Logs, ECS, Secrets Manager)
t_run "logs:CreateLogGroup with a tags map" 0 "$D" --endpoint-url "$URL" logs CreateLogGroup \
	'{"logGroupName":"/cairn/app","tags":{"team":"infra"}}'
t_run "aws CLI sees the log group tags" 0 aws logs list-tags-log-group --log-group-name /cairn/app
t_grep "tag map arrived" '"team": "infra"' "$T_OUT"
t_run "logs:CreateLogGroup twice" 1 "$D" --endpoint-url "$URL" logs CreateLogGroup '{"logGroupName":"/cairn/app"}'
t_grep "already_exists class" '^error already_exists ResourceAlreadyExistsException' "$T_ERR"
t_run "ecs:CreateCluster" 0 "$D" --endpoint-url "$URL" ecs CreateCluster '{"clusterName":"c1"}'
t_grep "JSON response as is" '"clusterName":"c1"' "$T_OUT"
t_run "secretsmanager:CreateSecret, trace on" 0 env CAIRN_LOG=trace "$D" --endpoint-url "$URL" \
	secretsmanager CreateSecret '{"Name":"db","SecretString":"pw-Zq93xLr"}'
t_nogrep "secret value never in the trace" 'pw-Zq93xLr' "$T_ERR"
t_grep "trace shows the request with the value redacted" '"SecretString":"\(redacted\)"' "$T_ERR"
t_run "aws CLI reads the secret back" 0 aws secretsmanager get-secret-value --secret-id db
t_grep "value arrived intact" '"SecretString": "pw-Zq93xLr"' "$T_OUT"

# S3 object calls with conditional headers (state backend)
aws s3api create-bucket --bucket cairn-state >/dev/null 2>&1
t_run "s3 PutObject" 0 "$D" --endpoint-url "$URL" s3 PUT cairn-state "stacks/a b.json" '{"v":1}'
t_run "aws CLI reads the object" 0 aws s3api get-object --bucket cairn-state --key "stacks/a b.json" "$T_TMP/obj"
t_grep "object body intact" '^\{"v":1\}$' "$(cat "$T_TMP/obj")"
t_run "s3 PutObject If-None-Match * on an existing key" 1 "$D" --endpoint-url "$URL" \
	s3 PUT cairn-state "stacks/a b.json" '{"v":2}' "" "*"
t_grep "412 is a conflict" '^error conflict PreconditionFailed 412' "$T_ERR"
t_run "s3 GetObject of a missing key" 1 "$D" --endpoint-url "$URL" s3 GET cairn-state nope
t_grep "NoSuchKey is not_found" '^error not_found NoSuchKey 404' "$T_ERR"
t_run "s3 HeadObject of a missing key" 1 "$D" --endpoint-url "$URL" s3 HEAD cairn-state nope
t_grep "HEAD 404 without a body is not_found" '^error not_found' "$T_ERR"

# 10 threads, one client, 30% throttling and 10% 5xx: every call succeeds
ctl config '{"throttle_rate": 0.3, "error_rate": 0.1, "drop_rate": 0.05, "seed": 11}'
t_run "200 calls from 10 threads under faults" 0 env CAIRN_LOG=debug "$D" --endpoint-url "$URL" \
	--threads 10 --calls 200 --max-attempts 10 ec2 DescribeVpcs
t_grep "all succeeded" 'calls ok=200 fail=0' "$T_ERR"
t_grep "throttled calls were retried" 'status=503 attempt=1/10' "$T_ERR"
t_grep "retries show the attempt" 'status=200 attempt=[2-9]/10' "$T_ERR"
N_LINES=$(printf '%s\n' "$T_ERR" | grep -c 'debug aws ec2:DescribeVpcs status=')
if [ "$N_LINES" -ge 200 ]; then t_ok "one debug line per request ($N_LINES)"; else
	t_fail "expected >= 200 debug lines, got $N_LINES"; fi
ctl config '{"throttle_rate": 0.0, "error_rate": 0.0, "drop_rate": 1.0}'
t_run "a server that always drops the connection" 1 env CAIRN_LOG=debug "$D" --endpoint-url "$URL" \
	--max-attempts 3 ec2 DescribeVpcs
t_grep "each drop is a transient error, retried" 'error=transient attempt=3/3' "$T_ERR"
t_grep "then a clear error" '^error transient - 0: after 3 attempts: ec2:DescribeVpcs: .*Empty reply from server' "$T_ERR"
ctl config '{"drop_rate": 0.0}'
t_done
