#!/usr/bin/python3
"""Throughput of the local AWS emulator (tests/emulator) on simple signed calls.

Starts `tests/emulator/run --port 0`, then for each call (STS GetCallerIdentity,
Logs DescribeLogGroups) runs T client threads for D seconds, each on its own
keep-alive connection, and prints requests per second.

Two client modes:
  raw       each thread signs its request with botocore's SigV4 signer once per
            50 requests and sends it over http.client (a light client, so the figure
            is the emulator's, not botocore's); every request is still fully verified
  botocore  full botocore clients (serialise, sign, parse): what a Python test sees

usage: bench/emulator_throughput.py [--threads 4] [--seconds 3] [--mode raw|botocore|both]
Target (issue 3): >= 500 requests/s.
"""
import argparse
import http.client
import os
import subprocess
import sys
import threading
import time

import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.session

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, '..', 'tests', 'emulator', 'run')

CALLS = {
    'sts:GetCallerIdentity': ('sts', {'Content-Type': 'application/x-www-form-urlencoded'},
                              b'Action=GetCallerIdentity&Version=2011-06-15'),
    'logs:DescribeLogGroups': ('logs', {'Content-Type': 'application/x-amz-json-1.1',
                                        'X-Amz-Target': 'Logs_20140328.DescribeLogGroups'},
                               b'{"limit": 5}'),
}


def signed(url, service, headers, body):
    req = botocore.awsrequest.AWSRequest(method='POST', url=url + '/', data=body,
                                         headers=dict(headers))
    botocore.auth.SigV4Auth(botocore.credentials.Credentials('test', 'test'), service,
                            'us-east-1').add_auth(req)
    return dict(req.headers.items())


def raw_worker(port, url, call, deadline, counts, errors, idx):
    service, headers, body = CALLS[call]
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    n = bad = 0
    hdrs = None
    while time.monotonic() < deadline:
        if n % 50 == 0:
            hdrs = signed(url, service, headers, body)
        conn.request('POST', '/', body=body, headers=hdrs)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            bad += 1
        n += 1
    conn.close()
    counts[idx] = n
    errors[idx] = bad


def botocore_worker(url, call, deadline, counts, errors, idx):
    session = botocore.session.get_session()
    service = call.split(':')[0]
    c = session.create_client(service, region_name='us-east-1', endpoint_url=url,
                              aws_access_key_id='test', aws_secret_access_key='test',
                              config=botocore.config.Config(retries={'total_max_attempts': 1}))
    fn = c.get_caller_identity if service == 'sts' else (lambda: c.describe_log_groups(limit=5))
    n = bad = 0
    while time.monotonic() < deadline:
        try:
            fn()
        except Exception:
            bad += 1
        n += 1
    counts[idx] = n
    errors[idx] = bad


def measure(mode, port, url, call, threads, seconds):
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.monotonic() + seconds
    start = time.monotonic()
    ts = []
    for i in range(threads):
        if mode == 'raw':
            t = threading.Thread(target=raw_worker, args=(port, url, call, deadline, counts,
                                                          errors, i))
        else:
            t = threading.Thread(target=botocore_worker, args=(url, call, deadline, counts,
                                                               errors, i))
        ts.append(t)
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - start
    return sum(counts) / elapsed, sum(counts), sum(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', type=int, default=4)
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--mode', choices=('raw', 'botocore', 'both'), default='both')
    args = ap.parse_args()
    proc = subprocess.Popen(['/usr/bin/python3', RUN, '--port', '0'], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith('listening on '):
            print(f'emulator did not start: {line!r}', file=sys.stderr)
            return 1
        url = line.split()[-1]
        port = int(url.rsplit(':', 1)[1])
        modes = ('raw', 'botocore') if args.mode == 'both' else (args.mode,)
        worst_raw = None
        print(f'emulator throughput, {args.threads} client threads, {args.seconds:g} s each '
              f'({os.cpu_count()} cores shared by server and clients)')
        for mode in modes:
            for call in CALLS:
                rps, n, bad = measure(mode, port, url, call, args.threads, args.seconds)
                print(f'  {mode:8s} {call:26s} {rps:8.0f} req/s  ({n} requests, {bad} errors)')
                if bad:
                    print('  errors seen: the figure is not valid', file=sys.stderr)
                    return 1
                if mode == 'raw':
                    worst_raw = rps if worst_raw is None else min(worst_raw, rps)
        if worst_raw is not None:
            verdict = 'meets' if worst_raw >= 500 else 'MISSES'
            print(f'slowest raw figure {worst_raw:.0f} req/s {verdict} the 500 req/s target')
            return 0 if worst_raw >= 500 else 1
        return 0
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == '__main__':
    sys.exit(main())
