#!/usr/bin/python3
"""Benchmark of the Cloud Control path on examples/event-pipeline.yaml.

1. Starts the emulator with a duration per Cloud Control type (below:
   illustrative AWS create times scaled down 20x; a native log group is
   synchronous), computes the stack's critical path from those durations and
   the template's references (read here with a regex per resource block, not
   by cairn), runs `cairn apply` N times on fresh emulator state and
   compares the median wall time with the critical path.
2. Counts the API calls of `cairn refresh` on the applied stack, by
   operation, per resource: Cloud Control reads one resource per
   GetResource call; compare with the native providers' batched reads
   (bench/refresh_calls.sh).

usage: bench/cloudcontrol_pipeline.py [--runs N] [--cairn PATH]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TPL = os.path.join(TOP, 'examples', 'event-pipeline.yaml')
# seconds, AWS-typical create times / 20 (KMS keys and DynamoDB tables are
# the slow ones; SQS queues, topics, alarms and aliases take seconds)
DURATIONS = {
    'AWS::KMS::Key': 0.5, 'AWS::KMS::Alias': 0.1, 'AWS::SNS::Topic': 0.15,
    'AWS::SQS::Queue': 0.3, 'AWS::SQS::QueuePolicy': 0.15, 'AWS::Events::Rule': 0.2,
    'AWS::DynamoDB::Table': 0.8, 'AWS::CloudWatch::Alarm': 0.15,
}


def resources(path):
    text = open(path).read()
    body = text.split('\nResources:\n', 1)[1].split('\nOutputs:\n', 1)[0]
    out = {}
    for m in re.finditer(r'^  (\w+):\n((?:    .*\n|\n)*)', body, re.M):
        name, block = m.group(1), m.group(2)
        typ = re.search(r'Type:\s+(\S+)', block).group(1)
        refs = set(re.findall(r'!Ref\s+(\w+)', block)) | set(
            re.findall(r'!GetAtt\s+(\w+)\.', block))
        out[name] = (typ, refs)
    for n, (t, refs) in out.items():
        out[n] = (t, {r for r in refs if r in out})
    return out


def critical_path(res):
    memo = {}

    def finish(n):
        if n not in memo:
            t, refs = res[n]
            memo[n] = DURATIONS.get(t, 0.0) + max((finish(r) for r in refs), default=0.0)
        return memo[n]
    return max(finish(n) for n in res)


def ctl(url, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f'{url}/_emulator/{path}', data=data,
                                 method='POST' if data is not None else 'GET')
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b'null')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--cairn', default=os.path.join(TOP, 'build', 'cairn'))
    a = ap.parse_args()
    emu = subprocess.Popen(['/usr/bin/python3', os.path.join(TOP, 'tests', 'emulator', 'run'),
                            '--port', '0'], stdout=subprocess.PIPE, text=True)
    url = emu.stdout.readline().split()[-1]
    try:
        cfg = {'cloudcontrol:' + t: d for t, d in DURATIONS.items()}
        ctl(url, 'config', {'async': cfg})
        res = resources(TPL)
        cp = critical_path(res)
        env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                   AWS_REGION='us-east-1', CAIRN_POLL_MIN_MS='20', CAIRN_POLL_MAX_MS='100',
                   NO_COLOR='1')
        times = []
        with tempfile.TemporaryDirectory() as d:
            for i in range(a.runs):
                ctl(url, 'reset', {})
                st = os.path.join(d, f's{i}.db')
                t0 = time.monotonic()
                p = subprocess.run([a.cairn, 'apply', TPL, '--auto-approve', '--endpoint-url',
                                    url, '--state', st], env=env, capture_output=True,
                                   text=True)
                times.append(time.monotonic() - t0)
                if p.returncode:
                    sys.exit(p.stdout[-2000:] + p.stderr[-2000:])
            before = ctl(url, 'calls')
            p = subprocess.run([a.cairn, 'refresh', TPL, '--endpoint-url', url, '--state', st],
                               env=env, capture_output=True, text=True)
            after = ctl(url, 'calls')
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        n = len(res)
        med = statistics.median(times)
        print(f'apply of {os.path.relpath(TPL, TOP)} ({n} resources), {a.runs} runs: '
              f'median {med:.2f} s, min {min(times):.2f} s; critical path {cp:.2f} s '
              f'(x{med / cp:.2f})')
        print(f'refresh: {sum(delta.values())} calls for {n} resources '
              f'({sum(delta.values()) / n:.2f} per resource): {json.dumps(delta)}')
    finally:
        emu.terminate()
        emu.wait()


if __name__ == '__main__':
    main()
