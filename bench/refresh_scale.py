#!/usr/bin/python3
"""Refresh at scale: API calls, wall time, peak RSS and CPU of a no-change
`cairn plan` (refresh on) and of `cairn drift` on generated mixed stacks
(bench/gen_stack.py --mixed N: EC2 subnets and security groups, IAM roles
with inline and attached policies, log groups, ECR repositories, secrets,
ECS services), with the emulator answering every call after 0 ms and after
50 ms (about what an AWS control-plane call takes from the Region).

usage: bench/refresh_scale.py [--cairn PATH] [--sizes 100,1000,5000]
                              [--latencies 0,0.05] [--no-tagging]
                              [--fixtures DIR] [--runs N] [--out FILE]

--no-tagging makes the emulator refuse tag:GetResources (AccessDenied), so
cairn falls back to a ListTagsForResource per resource: the figures before
the Resource Groups Tagging API was used.

Each size: a fresh emulator, one apply (not timed), then per latency one
plan and one drift (--runs N: N of each), wall time and CPU from
resource.getrusage of the child, peak RSS from a second run through GNU
time (/usr/bin/time -f %M) at 0 ms latency.

--fixtures DIR keeps each size's applied stack (emulator state, cairn
state, template) in DIR/N and reuses it next time instead of applying again
(the 5000-resource apply takes about 17 minutes, paced by the client's
mutating buckets); a reused stack gets one unmeasured plan first (the
emulator loads each service's model on first use).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def ctl(url, path, body=None, method=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method or
                                 ('POST' if data is not None else 'GET'))
    with urllib.request.urlopen(req) as r:
        t = r.read()
    return json.loads(t) if t.strip() else None


def run_measured(cmd, env):
    """-> (rc, seconds, peak RSS KiB, user+sys CPU seconds, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    secs = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest of any child so far: each size's
    # run starts with the smallest command first, and the apply (the
    # biggest) is run through /usr/bin/env in its own measured process
    return p.returncode, secs, after.ru_maxrss, cpu, p.stdout


def rss_of(cmd, env):
    """Peak RSS (KiB) of one run of cmd, through GNU time when present."""
    if not os.path.exists('/usr/bin/time'):
        return None
    p = subprocess.run(['/usr/bin/time', '-f', '%M', *cmd], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(p.stderr.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cairn', default=os.path.join(ROOT, 'build-bench', 'cairn'))
    ap.add_argument('--sizes', default='100,1000,5000')
    ap.add_argument('--latencies', default='0,0.05')
    ap.add_argument('--no-tagging', action='store_true')
    ap.add_argument('--out')
    ap.add_argument('--fixtures', help='keep each size\'s applied stack (emulator state, '
                    'cairn state, template) in DIR/N and reuse it on the next run instead '
                    'of applying again (the 5000 apply takes ~17 min)')
    ap.add_argument('--runs', type=int, default=1,
                    help='measure each plan/drift this many times (the table shows each)')
    a = ap.parse_args()
    if not os.path.exists(a.cairn):
        subprocess.run(['meson', 'setup', os.path.join(ROOT, 'build-bench'),
                        '--buildtype=release', '-Dtests=false'], cwd=ROOT, check=True)
        subprocess.run(['ninja', '-C', os.path.join(ROOT, 'build-bench')], check=True)
    sizes = [int(x) for x in a.sizes.split(',')]
    lats = [float(x) for x in a.latencies.split(',')]
    rows = []
    work = tempfile.mkdtemp(prefix='refresh-scale-')
    print(f"{'N':>6} {'lat ms':>6} {'cmd':>6} {'calls':>6} {'wall s':>7} "
          f"{'RSS MB':>7} {'CPU ms/res':>10}  calls by operation")
    for n in sizes:
        fix = os.path.join(a.fixtures, str(n)) if a.fixtures else None
        reuse = fix is not None and os.path.exists(os.path.join(fix, 'done'))
        emu_cmd = ['/usr/bin/python3', os.path.join(ROOT, 'tests/emulator/run'), '--port', '0']
        if fix:
            os.makedirs(os.path.join(fix, 'emu'), exist_ok=True)
            emu_cmd += ['--state-dir', os.path.join(fix, 'emu')]
        emu = subprocess.Popen(emu_cmd, stdout=subprocess.PIPE, text=True)
        try:
            line = emu.stdout.readline()
            url = line.split()[-1]
            ctl(url, '/_emulator/config', {'async': {'ecs_service_drain': 0.05,
                                                     'ecs_tasks_start': 0.05}})
            if a.no_tagging:
                ctl(url, '/_emulator/config', {'tagging_denied': True})
            stack = os.path.join(fix or work, f'mixed{n}.yaml')
            if not reuse:
                with open(stack, 'w') as f:
                    subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'gen_stack.py'),
                                    '--mixed', str(n)], stdout=f, check=True)
            env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                       AWS_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true',
                       CAIRN_POLL_MIN_MS='20', CAIRN_POLL_MAX_MS='100')
            common = ['--endpoint-url', url, '--state', os.path.join(fix or work, f'm{n}.db'),
                      '--stack', f'bench{n}']
            # resources made 15 minutes ago (the emulator's clock_offset
            # during the apply), as in a scheduled check of a stack: the
            # secrets listing trusts only entries older than five minutes
            if not reuse:
                ctl(url, '/_emulator/config', {'clock_offset': -900})
                t0 = time.monotonic()
                p = subprocess.run([a.cairn, 'apply', stack, '--auto-approve', *common],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
                if p.returncode:
                    print(p.stdout[-3000:])
                    sys.exit(f'refresh_scale: apply of {n} failed')
                print(f'# N={n}: apply {time.monotonic() - t0:.1f}s', flush=True)
                ctl(url, '/_emulator/config', {'clock_offset': 0})
                if fix:
                    ctl(url, '/_emulator/save', {})
                    open(os.path.join(fix, 'done'), 'w').close()
            else:
                print(f'# N={n}: reusing the stack applied in {fix}', flush=True)
                # a fresh emulator loads each service on first use: one
                # plan, not measured, as the apply does otherwise
                subprocess.run([a.cairn, 'plan', stack, *common], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ctl(url, '/_emulator/calls', method='DELETE')
            for lat in [x for x in lats for _ in range(a.runs)]:
                ctl(url, '/_emulator/config', {'latency': {'*': lat}})
                for name, cmd in (('plan', [a.cairn, 'plan', stack, '--detailed-exitcode',
                                            *common]),
                                  ('drift', [a.cairn, 'drift', stack, *common])):
                    b = ctl(url, '/_emulator/calls')
                    rc, secs, _, cpu, out = run_measured(cmd, env)
                    c = ctl(url, '/_emulator/calls')
                    d = {k: v - b.get(k, 0) for k, v in c.items() if v != b.get(k, 0)}
                    if rc not in (0,):
                        print(out[-2000:])
                        print(f'refresh_scale: {name} of {n} exited {rc} (not a no-change '
                              f'result)', file=sys.stderr)
                    ctl(url, '/_emulator/config', {'latency': {'*': 0}})
                    rss = rss_of(cmd, env)
                    ctl(url, '/_emulator/config', {'latency': {'*': lat}})
                    row = {'n': n, 'latency': lat, 'cmd': name, 'rc': rc,
                           'calls': sum(d.values()), 'by_op': d, 'seconds': round(secs, 3),
                           'rss_kib': rss, 'cpu_s': round(cpu, 3)}
                    rows.append(row)
                    ops = ', '.join(f'{k}={v}' for k, v in
                                    sorted(d.items(), key=lambda kv: -kv[1]))
                    print(f"{n:6d} {lat * 1000:6.0f} {name:>6} {row['calls']:6d} "
                          f"{secs:7.2f} {(rss or 0) / 1024:7.1f} "
                          f"{cpu * 1000 / n:10.3f}  {ops}", flush=True)
        finally:
            emu.terminate()
            emu.wait()
    out = a.out or os.path.join(HERE, 'results',
                                time.strftime('refresh-scale-%Y%m%dT%H%M%SZ.json',
                                              time.gmtime()))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(rows, f, indent=1)
    print(f'# results: {out}')


if __name__ == '__main__':
    main()
