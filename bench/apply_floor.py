#!/usr/bin/python3
"""Benchmark of `cairn apply` and `cairn destroy` against the floor set by
AWS's request rate limits (issue 12, points 3 and 5).

For each size N it writes bench/gen_stack.py --mixed N (subnets, security
groups, log groups, IAM roles with inline and attached policies, ECR
repositories, secrets, ECS services), starts the emulator with AWS's token
buckets enforced (config rate_limits: data/rate-limits/rate-limits.json, the
table cairn's client embeds; sources in docs/aws-behaviour.md) and the whole
AWS timeline run --scale times faster (refill rates x scale, AWS-like
latency, asynchronous durations and cairn's poll intervals / scale), then
applies and destroys the stack --runs times on fresh emulator state.

The floor of one command is the larger of
  * per bucket: max(0, (calls - burst) / (rate x scale)), the calls being
    those the command made (the emulator counts every attempt; the ones it
    refused are subtracted), mapped to buckets with the same table; and
  * the dependency chain's critical path with the emulator's latency and
    asynchronous durations (bench/apply_critical_path.py's model).
It reports the median wall time against that floor (target: within 10%),
the throttling errors the emulator answered and the retries cairn made
(its debug log's attempt=2+ lines), and writes JSON to
bench/results/floor-<UTC time>.json (or --out).

usage: bench/apply_floor.py [--sizes 100,1000] [--scale 10] [--runs 3]
           [--latency SEC] [--parallelism N] [--unscaled] [--cairn PATH]
           [--state-dir DIR] [--quick] [--out FILE]

--unscaled adds one run of the largest size at scale 1 (AWS's real rates:
minutes for 1,000 resources). Exit status: 0 when every command succeeded
with no throttling error, 1 otherwise, 2 on bad usage. The 10% target is
reported, never turned into the exit status.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, 'tests', 'emulator'))
import apply_critical_path as acp  # noqa: E402
from emu import ratelimits  # noqa: E402

# AWS's typical durations (seconds) of the asynchronous life cycles the
# mixed stack meets; the emulator gets them / scale (sources: bench/README.md)
AWS_ASYNC = {'ecs_service_drain': 30.0, 'ecs_tasks_start': 5.0}
AWS_LATENCY = 0.05          # a control-plane call's round trip, seconds
POLL_MIN_MS, POLL_MAX_MS = 2000, 10000   # cairn's defaults
_RETRY = re.compile(r' attempt=(\d+)/')


def gen_mixed(n):
    return subprocess.run([sys.executable, os.path.join(HERE, 'gen_stack.py'), '--mixed',
                           str(n)], check=True, capture_output=True, text=True).stdout


def floor_of(calls, throttled, scale):
    """-> (floor seconds, {bucket: {calls, burst, rate, seconds}})."""
    table = ratelimits.documented()
    buckets = {}
    for key, n in calls.items():
        svc, _, op = key.partition(':')
        n -= throttled.get(key, 0)
        b = ratelimits.bucket_for(table, svc, op)
        if b is None or n <= 0:
            continue
        name, burst, rate, _ = b
        e = buckets.setdefault(name, {'calls': 0, 'burst': burst, 'rate': rate * scale})
        e['calls'] += n
    for e in buckets.values():
        e['seconds'] = round(max(0.0, (e['calls'] - e['burst']) / e['rate']), 4)
    worst = max((e['seconds'] for e in buckets.values()), default=0.0)
    return worst, buckets


def refill_seconds(buckets):
    """How long until every bucket a command used is full again."""
    return max((e['burst'] / e['rate'] for e in buckets.values()), default=0.0)


def run(args, env, cwd, timeout):
    """-> (seconds, retries); raises acp.CairnFailed on failure."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise acp.CairnFailed(f'{" ".join(args)}\n  timed out after {timeout} s') from None
    dt = time.monotonic() - t0
    if p.returncode != 0:
        tail = '\n'.join((p.stdout + p.stderr).strip().split('\n')[-15:])
        raise acp.CairnFailed(f'{" ".join(args)}\n  exit {p.returncode}:\n{tail}')
    retries = sum(1 for m in _RETRY.finditer(p.stderr) if int(m.group(1)) > 1)
    return dt, retries


def one_size(cairn, n, scale, runs, latency, parallelism, state_dir, work, errors):
    lat = AWS_LATENCY / scale if latency is None else latency
    durations = {k: v / scale for k, v in AWS_ASYNC.items()}
    poll_min, poll_max = max(1, int(POLL_MIN_MS / scale)), max(1, int(POLL_MAX_MS / scale))
    emu = acp.Emulator({'latency': {'*': lat} if lat > 0 else {}, 'async': durations,
                        'seed': 7})
    out = {'resources': n, 'scale': scale, 'latency_seconds': lat,
           'emulator_async_seconds': durations,
           'poll_ms': {'CAIRN_POLL_MIN_MS': poll_min, 'CAIRN_POLL_MAX_MS': poll_max},
           'parallelism': parallelism or 'default (10)', 'runs': []}
    try:
        # loads every service model before the first call (see emu/controls.py)
        emu.control('config', {'rate_limits': True, 'rate_scale': scale})
        tpl = os.path.join(work, f'mixed-{n}.yaml')
        with open(tpl, 'w') as f:
            f.write(gen_mixed(n))
        res = acp.read_template(tpl)
        deps = acp.dependencies(res)
        rtt = statistics.median(acp.measure_rtt(emu, per_service=5).values())
        chain = {}
        for deleting in (False, True):
            sec, path, _ = acp.critical_path(res, deps, rtt, durations, poll_min, poll_max,
                                             deleting=deleting)
            chain['destroy' if deleting else 'apply'] = {'seconds': round(sec, 4),
                                                         'path': path}
        out['chain'] = chain
        out['round_trip_seconds'] = rtt
        env = acp.cairn_env(os.path.join(work, 'home'), poll_min, poll_max)
        env['CAIRN_RATE_SCALE'] = repr(scale)
        env['CAIRN_LOG'] = 'debug'
        os.makedirs(env['HOME'], exist_ok=True)
        par = ['--parallelism', str(parallelism)] if parallelism else []
        timeout = 600 + 20 * n / scale
        for i in range(runs):
            emu.reset()
            db = os.path.join(state_dir, f'floor-{n}-{i}.db')
            base = ['--state', db, '--endpoint-url', emu.url, *par, '--auto-approve', tpl]
            row = {}
            for cmd in ('apply', 'destroy'):
                emu.clear_calls()
                emu.control('throttled', method='DELETE')
                dt, retries = run([cairn, cmd, *base], env, work, timeout)
                calls = emu.calls()
                thr = emu.control('throttled')
                floor, buckets = floor_of(calls, thr, scale)
                total = max(floor, chain[cmd]['seconds'])
                row[cmd] = {'seconds': round(dt, 3), 'floor_seconds': round(total, 3),
                            'bucket_floor_seconds': floor,
                            'ratio': round(dt / total, 3) if total else None,
                            'api_calls': sum(calls.values()),
                            'throttled': sum(thr.values()), 'throttled_by_op': thr,
                            'retries': retries,
                            'buckets': dict(sorted(buckets.items(),
                                                   key=lambda kv: -kv[1]['seconds'])[:8])}
                if cmd == 'apply':
                    left = len(emu.control('inventory'))
                    # the floor assumes full buckets: let them refill
                    time.sleep(refill_seconds(buckets) + 0.1)
                else:
                    row[cmd]['inventory_left'] = len(emu.control('inventory'))
                    row['apply']['inventory'] = left
            out['runs'].append(row)
            for db_file in (db, db + '-wal', db + '-shm'):
                if os.path.exists(db_file):
                    os.unlink(db_file)
        for cmd in ('apply', 'destroy'):
            rs = [r[cmd] for r in out['runs']]
            med = statistics.median(r['seconds'] for r in rs)
            fl = statistics.median(r['floor_seconds'] for r in rs)
            out[cmd] = {'median_seconds': round(med, 3), 'floor_seconds': round(fl, 3),
                        'ratio': round(med / fl, 3) if fl else None,
                        'within_10_percent': bool(fl) and med <= fl * 1.10,
                        'throttled_total': sum(r['throttled'] for r in rs),
                        'retries_total': sum(r['retries'] for r in rs),
                        'seconds_all_runs': [r['seconds'] for r in rs]}
    except acp.CairnFailed as e:
        errors.append(f'{e}\n{emu.health()}')
    except (RuntimeError, OSError) as e:
        errors.append(f'emulator: {e}\n{emu.health()}')
    finally:
        emu.stop()
    return out


def print_table(r):
    print(f"apply/destroy against the rate-limit floor (AWS's buckets, "
          f"data/rate-limits/rate-limits.json); machine: {r['machine']['cpus']} CPUs, "
          f"load {r['machine']['load_average_at_start'][0]:.1f}")
    print(f"{'stack':<12} {'scale':>5} {'cmd':<8} {'median s':>9} {'floor s':>8} "
          f"{'ratio':>6} {'throttled':>9} {'retries':>7}  runs")
    for x in r['results']:
        for cmd in ('apply', 'destroy'):
            if cmd not in x:
                continue
            c = x[cmd]
            print(f"mixed-{x['resources']:<6} {x['scale']:>5g} {cmd:<8} "
                  f"{c['median_seconds']:>9.3f} {c['floor_seconds']:>8.3f} "
                  f"{c['ratio'] or 0:>6.3f} {c['throttled_total']:>9} "
                  f"{c['retries_total']:>7}  {c['seconds_all_runs']}")
        if x.get('runs'):
            b = x['runs'][0]['apply']['buckets']
            top = list(b.items())[:3]
            print('   apply floor set by: ' + ', '.join(
                f"{k} {v['calls']} calls -> {v['seconds']:.2f} s" for k, v in top)
                + f"; chain {x['chain']['apply']['seconds']:.2f} s")
    for e in r['errors']:
        print(f'FAILED: {e}', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--sizes', default='100,1000')
    ap.add_argument('--scale', type=float, default=10.0)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--latency', type=float, default=None,
                    help='seconds the emulator adds to each call (default 0.05 / scale)')
    ap.add_argument('--parallelism', type=int, default=0)
    ap.add_argument('--unscaled', action='store_true',
                    help='also one run of the largest size at scale 1')
    ap.add_argument('--cairn', help='cairn binary (default build-bench/cairn, built '
                                    'in release mode when absent)')
    ap.add_argument('--state-dir', help='where the state files go (default: a '
                                        'temporary directory)')
    ap.add_argument('--quick', action='store_true', help='smoke: 40 resources, 1 run')
    ap.add_argument('--out')
    a = ap.parse_args()
    try:
        sizes = [int(x) for x in a.sizes.split(',') if x]
    except ValueError:
        ap.error('--sizes: numbers separated by commas')
    if a.quick:
        sizes, a.runs = [40], 1
    if a.runs < 1 or a.scale <= 0 or not sizes or min(sizes) < 6:
        ap.error('--runs >= 1, --scale > 0, sizes >= 6')
    work = tempfile.mkdtemp(prefix='cairn-floor-')
    state_dir = a.state_dir or work
    os.makedirs(state_dir, exist_ok=True)
    results = {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec='seconds'), 'errors': [], 'results': [],
        'machine': {'cpus': os.cpu_count(), 'load_average_at_start': os.getloadavg()},
        'state_dir': 'temporary directory' if not a.state_dir else a.state_dir}
    rc = 0
    try:
        cairn = os.path.abspath(a.cairn) if a.cairn else os.path.join(TOP, 'build-bench',
                                                                      'cairn')
        cairn = acp.ensure_binary(cairn, build=a.cairn is None)
        results['cairn'] = os.path.relpath(cairn, TOP)
        todo = [(n, a.scale, a.runs) for n in sizes]
        if a.unscaled:
            todo.append((max(sizes), 1.0, 1))
        for n, scale, runs in todo:
            results['results'].append(one_size(cairn, n, scale, runs, a.latency,
                                               a.parallelism, state_dir, work,
                                               results['errors']))
    except acp.CairnFailed as e:
        results['errors'].append(str(e))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results['machine']['load_average_at_end'] = os.getloadavg()
    if results['errors'] or any(x.get(c, {}).get('throttled_total') for x in
                                results['results'] for c in ('apply', 'destroy')):
        rc = 1
    print_table(results)
    out = a.out
    if not out:
        os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H%M%SZ')
        out = os.path.join(HERE, 'results', f'floor-{stamp}.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write('\n')
    print(f'results: {os.path.relpath(out)}')
    return rc


if __name__ == '__main__':
    sys.exit(main())
