#!/bin/bash
# AWS client figures: SigV4 signing rate on one core, and the client's
# overhead per request against a loopback server. Builds an optimised,
# sanitizer-free copy in build-bench-aws. Not a timed test: read the figures.
#
# Overhead = (time per aws_call) - (time per raw request of the same shape
# sent by a minimal client: curl with a reused connection) against the same
# canned-response server, so the server's own time cancels out.
set -eu
cd "$(dirname "$0")/.."
export PATH=/usr/bin:/bin:$PATH
B=build-bench-aws
[ -f $B/build.ninja ] || meson setup $B --buildtype=release -Dtests=false >/dev/null
ninja -C $B -j2 src/aws/libcairn_aws.a src/util/libcairn_util.a >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -I$B -o $B/aws_bench bench/aws_bench.c \
	$B/src/aws/libcairn_aws.a $B/src/util/libcairn_util.a \
	$(pkg-config --libs libcurl libcrypto libcjson libxml-2.0) -lm -lpthread
taskset -c 0 $B/aws_bench sign 500000

# canned STS answer, keep-alive, HTTP/1.1
PORTFILE=$(mktemp)
/usr/bin/python3 - "$PORTFILE" <<'PY' &
import http.server, sys
BODY = (b'<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>u</UserId>'
        b'<Account>123456789012</Account><Arn>arn:aws:iam::123456789012:root</Arn>'
        b'</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId>'
        b'</ResponseMetadata></GetCallerIdentityResponse>')
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        # one write: split header/body writes meet Nagle + delayed ACK (40 ms)
        self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n'
                         b'Content-Length: %d\r\n\r\n' % len(BODY) + BODY)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[1], 'w').write(str(s.server_address[1]))
s.serve_forever()
PY
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -f "$PORTFILE"' EXIT
for _ in $(seq 50); do [ -s "$PORTFILE" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$PORTFILE")"
N=${N:-2000}
AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true \
	$B/aws_bench call "$URL" "$N" | tee /tmp/aws_bench_call.$$
# baseline: the same N POSTs over one kept-alive connection with curl
args=()
for _ in $(seq "$N"); do args+=("$URL/" -o /dev/null); done
t0=$(date +%s.%N)
curl -s -H 'Content-Type: application/x-www-form-urlencoded' \
	-d 'Action=GetCallerIdentity&Version=2011-06-15' "${args[@]}"
t1=$(date +%s.%N)
base=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { print (b - a) * 1000000 / n }')
call=$(grep '^call:' /tmp/aws_bench_call.$$ | grep -oE '[0-9.]+ us per call' | cut -d' ' -f1)
rm -f /tmp/aws_bench_call.$$
printf 'baseline (curl, same server): %.1f us per request\n' "$base"
printf "wall time minus the curl baseline: %.1f us per request (negative: cairn is faster than the curl tool)\n" "$(awk -v a="$call" -v b="$base" 'BEGIN { print a - b }')"
