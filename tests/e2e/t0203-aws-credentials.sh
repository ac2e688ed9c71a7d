#!/bin/bash
# Credential sources beyond the environment: container credentials (with the
# authorization token), EC2 instance metadata (IMDSv2 token first),
# credential_process with refresh before expiry, and the promise that a
# laptop without metadata never hangs. A small local server plays the ECS
# agent and IMDS; the emulator checks the resulting signatures.
. "$(dirname "$0")/lib.sh"
export PATH=/usr/bin:/bin:$PATH
D="${CAIRN_BUILD:-$(dirname "$CAIRN")}/tests/unit/aws/aws_call_driver"
EMU="$CAIRN_SRC/tests/emulator/run"
if [ ! -x "$EMU" ] || [ ! -x "$D" ]; then
	echo "ok 1 # SKIP emulator or driver not present"
	exit 0
fi
export HOME=$T_TMP/home
mkdir -p "$HOME"
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE \
	AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE \
	AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
META_PID=
"$EMU" --port 0 >"$T_TMP/emu.out" 2>"$T_TMP/emu.err" &
EMU_PID=$!
trap 'kill $EMU_PID $META_PID 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 50); do grep -q listening "$T_TMP/emu.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$T_TMP/emu.out")

# a real session from the emulator, made with Debian's aws CLI
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
	/usr/bin/aws --endpoint-url "$URL" iam create-role --role-name node \
	--assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}' >/dev/null
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
	/usr/bin/aws --endpoint-url "$URL" sts assume-role --role-arn arn:aws:iam::123456789012:role/node \
	--role-session-name meta --output json >"$T_TMP/session.json"

# the ECS agent and IMDS, on loopback
/usr/bin/python3 - "$T_TMP/session.json" "$T_TMP/meta.port" "$T_TMP/meta.log" <<'PY' &
import http.server, json, sys
c = json.load(open(sys.argv[1]))["Credentials"]
doc = json.dumps({"Code": "Success", "AccessKeyId": c["AccessKeyId"],
                  "SecretAccessKey": c["SecretAccessKey"], "Token": c["SessionToken"],
                  "Expiration": c["Expiration"]}).encode()
log = open(sys.argv[3], "a")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body):
        self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (code, len(body)) + body)
    def do_PUT(self):
        log.write(f"PUT {self.path}\n"); log.flush()
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, b"imds-token-1")
        self.reply(400, b"")
    def do_GET(self):
        log.write(f"GET {self.path}\n"); log.flush()
        if self.path == "/ecs/creds":
            if self.headers.get("Authorization") != "ecs-auth-token":
                return self.reply(401, b"")
            return self.reply(200, doc)
        if self.headers.get("X-aws-ec2-metadata-token") != "imds-token-1":
            return self.reply(401, b"")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, b"node-role")
        if self.path == "/latest/meta-data/iam/security-credentials/node-role":
            return self.reply(200, doc)
        self.reply(404, b"")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
META_PID=$!
for _ in $(seq 50); do [ -s "$T_TMP/meta.port" ] && break; sleep 0.1; done
META="http://127.0.0.1:$(cat "$T_TMP/meta.port")"
export AWS_REGION=us-east-1

# container credentials
t_run "whoami through container credentials" 0 env AWS_CONTAINER_CREDENTIALS_FULL_URI="$META/ecs/creds" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth-token AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --endpoint-url "$URL"
t_grep "source is container" 'source: +container' "$T_OUT"
t_grep "identity is the session's role" 'assumed-role/node/meta' "$T_OUT"
echo ecs-auth-token >"$T_TMP/ecs.tok"
t_run "token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" 0 env AWS_CONTAINER_CREDENTIALS_FULL_URI="$META/ecs/creds" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T_TMP/ecs.tok" AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --endpoint-url "$URL"
t_run "a wrong token is refused" 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI="$META/ecs/creds" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=nope AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --endpoint-url "$URL"
t_grep "says HTTP 401" 'container credentials: HTTP 401' "$T_ERR"
t_run "plain http to a remote container endpoint is refused" 1 env \
	AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds" AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --endpoint-url "$URL"
t_grep "says why" 'only allowed to the ECS/EKS agent or loopback' "$T_ERR"

# IMDSv2
: >"$T_TMP/meta.log"
t_run "whoami through instance metadata" 0 env AWS_EC2_METADATA_SERVICE_ENDPOINT="$META" \
	"$CAIRN" whoami --endpoint-url "$URL"
t_grep "source is IMDSv2" 'source: +instance metadata \(IMDSv2\)' "$T_OUT"
t_grep "token PUT came first" '^PUT /latest/api/token' "$(head -1 "$T_TMP/meta.log")"
t_grep "then the role and its credentials" 'GET /latest/meta-data/iam/security-credentials/node-role' "$(cat "$T_TMP/meta.log")"

# no credentials anywhere and a metadata server that accepts connections but
# never answers: IMDS gives up after its 1 s timeout, no hang
/usr/bin/python3 - "$T_TMP/hole.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)
PY
HOLE_PID=$!
for _ in $(seq 50); do [ -s "$T_TMP/hole.port" ] && break; sleep 0.1; done
start=$(date +%s%N)
t_run "no credentials fails" 1 env AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$(cat "$T_TMP/hole.port")" \
	"$CAIRN" --debug whoami --endpoint-url "$URL"
kill $HOLE_PID 2>/dev/null
t_grep "the metadata attempt timed out" 'instance metadata: .*[Tt]imed out' "$T_ERR"
ms=$((($(date +%s%N) - start) / 1000000))
t_grep "and says what to set" 'no AWS credentials found' "$T_ERR"
if [ "$ms" -lt 4000 ]; then t_ok "gave up on metadata in ${ms} ms"; else t_fail "took ${ms} ms"; fi
t_run "a non-loopback http metadata endpoint is refused" 1 env \
	AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.255.255.1 "$CAIRN" --debug whoami --endpoint-url "$URL"
t_grep "and the reason is logged" 'instance metadata: endpoint "http://10.255.255.1": plain http' "$T_ERR"

# credential_process, refreshed before expiry
cat >"$T_TMP/proc.sh" <<SH
#!/bin/sh
echo run >>"$T_TMP/proc.count"
exp=\$(date -u -d "+\$EXP_IN seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version": 1, "AccessKeyId": "test", "SecretAccessKey": "test", "Expiration": "%s"}\n' "\$exp"
SH
chmod +x "$T_TMP/proc.sh"
mkdir -p "$HOME/.aws"
printf '[profile proc]\ncredential_process = %s\nregion = us-east-1\n' "$T_TMP/proc.sh" >"$HOME/.aws/config"
: >"$T_TMP/proc.count"
t_run "credential_process, long-lived: fetched once" 0 env EXP_IN=3600 AWS_EC2_METADATA_DISABLED=true \
	"$D" --endpoint-url "$URL" --profile proc --calls 3 sts GetCallerIdentity
t_grep "process ran once" '^1$' "$(wc -l <"$T_TMP/proc.count")"
: >"$T_TMP/proc.count"
t_run "credential_process expiring within 5 minutes: refreshed" 0 env EXP_IN=120 \
	AWS_EC2_METADATA_DISABLED=true "$D" --endpoint-url "$URL" --profile proc --calls 3 \
	sts GetCallerIdentity
t_grep "process ran per call" '^3$' "$(wc -l <"$T_TMP/proc.count")"
t_run "whoami names the process source" 0 env EXP_IN=3600 AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --profile proc --endpoint-url "$URL"
t_grep "source is credential_process" 'source: +profile proc \(credential_process\)' "$T_OUT"
printf '[profile bad]\ncredential_process = /bin/false\n' >>"$HOME/.aws/config"
t_run "a failing process is an error" 1 env AWS_EC2_METADATA_DISABLED=true \
	"$CAIRN" whoami --profile bad --endpoint-url "$URL" --region us-east-1
t_grep "names credential_process" 'credential_process exited with status 1' "$T_ERR"
t_done
