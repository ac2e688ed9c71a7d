#!/usr/bin/python3
"""Benchmark of `cairn apply` against its critical path (issue 6, point 8).

Starts the local emulator with AWS's typical asynchronous durations scaled
down 100x, computes the critical path of stacks/prefect-ecs-worker.yaml from
those durations without asking cairn (the template's dependencies are read
here by a small reader of CloudFormation YAML), then runs `cairn apply` and
`cairn destroy` several times on fresh emulator state and compares the median
wall time with that critical path (target: within 10%). It also counts the
API calls of a no-change `cairn plan` on both shipped stacks and on a
generated stack of log groups, security groups and ECR repositories, against
one call per resource. Prints a table and writes JSON to
bench/results/apply-<UTC date and time>.json (or --out).

usage: bench/apply_critical_path.py [--runs N] [--quick] [--cairn PATH]
           [--big N] [--poll-min-ms MS] [--poll-max-ms MS] [--latency SEC]
           [--out FILE] [--graph-check]

Exit status: 0 when every cairn command succeeded, 1 when one failed (its
command line and error are printed and recorded in the JSON), 2 on bad usage.
The 10% target is reported, never turned into the exit status.
"""
import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN_STACK = 'prefect-ecs-worker'
STACKS = ['prefect-ecs-worker', 'prefect-agent-dedicated-ip']
PARAMS = ['--param', 'PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w',
          '--param', 'PrefectApiKey=bench-not-a-real-key']

# AWS's typical durations (seconds) and the 100x scaled values the emulator
# gets; sources in bench/README.md.
SCALE = 100.0
AWS_TYPICAL = {
    'nat_gateway_create': 100.0,
    'nat_gateway_delete': 60.0,
    'vpc_endpoint_create': 60.0,
    'vpc_endpoint_delete': 60.0,
    'ecs_service_drain': 30.0,
}
# cairn's default poll interval grows from 2 s to 10 s; scaled 100x
DEFAULT_POLL_MIN_MS = 20
DEFAULT_POLL_MAX_MS = 100
# added emulator latency per call: AWS control-plane calls take ~100-300 ms,
# scaled 100x that is 1-3 ms; the emulator's own work adds about 1 ms
DEFAULT_LATENCY = 0.002

# Which async life cycle (emulator config key) a type waits for.
ASYNC_CREATE = {
    'AWS::EC2::NatGateway': 'nat_gateway_create',
    'AWS::EC2::VPCEndpoint': 'vpc_endpoint_create',
}
ASYNC_DELETE = {
    'AWS::EC2::NatGateway': 'nat_gateway_delete',
    'AWS::EC2::VPCEndpoint': 'vpc_endpoint_delete',
    'AWS::ECS::Service': 'ecs_service_drain',
}


# --------------------------------------------------------------------------
# A small reader of CloudFormation YAML: enough structure for the Resources
# section (types, properties that matter for call counts, DependsOn) and the
# references (Ref, GetAtt, Sub) of each resource.  Not a YAML parser.
# --------------------------------------------------------------------------

def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _strip_comment(line):
    """Drops a trailing # comment that is outside quotes."""
    q = None
    for i, c in enumerate(line):
        if q:
            if c == q:
                q = None
        elif c in '"\'':
            q = c
        elif c == '#' and (i == 0 or line[i - 1] in ' \t'):
            return line[:i].rstrip()
    return line.rstrip()


def _flow_list(text):
    """'[A, B]' or 'A' -> ['A', 'B'] / ['A'] (plain scalars only)."""
    text = text.strip()
    if text.startswith('[') and text.endswith(']'):
        return [x.strip().strip('"\'') for x in text[1:-1].split(',') if x.strip()]
    return [text.strip('"\'')] if text else []


def read_template(path):
    """Returns {logical_id: {'type', 'depends_on', 'lines', 'props'}} for the
    Resources section of a CloudFormation YAML template file."""
    with open(path) as f:
        return read_template_text(f.read(), path)


def read_template_text(text, path='<template>'):
    """read_template for a template given as text."""
    raw = text.split('\n')
    res = {}
    i = 0
    n = len(raw)
    # find the top-level Resources: key
    while i < n and not re.match(r'^Resources:\s*(#.*)?$', raw[i]):
        i += 1
    if i == n:
        raise ValueError(f'{path}: no top-level Resources section')
    i += 1
    cur = None
    block_scalar_indent = None
    while i < n:
        line = raw[i]
        i += 1
        if not line.strip() or line.lstrip().startswith('#'):
            if cur is not None and block_scalar_indent is not None:
                cur['lines'].append('')
            continue
        ind = _indent(line)
        if ind == 0:
            break                       # next top-level section
        if block_scalar_indent is not None:
            if ind > block_scalar_indent:
                continue                # text of a | or > scalar: no references
            block_scalar_indent = None
        text = _strip_comment(line)
        m = re.match(r'^  ([A-Za-z0-9]+):\s*$', text)
        if m and ind == 2:
            cur = {'type': None, 'depends_on': [], 'lines': [], 'props': {}}
            res[m.group(1)] = cur
            continue
        if cur is None:
            continue
        if re.search(r':\s*[|>][-+0-9]*\s*$', text):
            block_scalar_indent = ind
        cur['lines'].append(text)
    # second pass per resource: Type, DependsOn, simple properties
    for lid, r in res.items():
        lines = r['lines']
        for j, text in enumerate(lines):
            ind = _indent(text)
            s = text.strip()
            if ind == 4 and s.startswith('Type:'):
                r['type'] = s[5:].strip().strip('"\'')
            elif ind == 4 and s.startswith('DependsOn:'):
                rest = s[len('DependsOn:'):].strip()
                if rest:
                    r['depends_on'] = _flow_list(rest)
                else:
                    k = j + 1
                    while k < len(lines) and _indent(lines[k]) > 4 and \
                            lines[k].strip().startswith('- '):
                        r['depends_on'].append(lines[k].strip()[2:].strip().strip('"\''))
                        k += 1
            elif ind == 6 and ':' in s:
                key, _, val = s.partition(':')
                r['props'][key.strip()] = val.strip()
        if not r['type']:
            raise ValueError(f'{path}: resource {lid} has no Type')
    return res


_REF_PATTERNS = [
    re.compile(r'!Ref\s+["\']?([A-Za-z0-9]+)'),
    re.compile(r'\bRef:\s+["\']?([A-Za-z0-9]+)'),
    re.compile(r'!GetAtt\s+["\']?([A-Za-z0-9]+)\.'),
    re.compile(r'!GetAtt\s+\[\s*["\']?([A-Za-z0-9]+)\s*,'),
    re.compile(r'Fn::GetAtt:\s*\[\s*["\']?([A-Za-z0-9]+)\s*,'),
    re.compile(r'\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}'),
]


def dependencies(res):
    """{logical_id: set(of logical ids it needs)}: explicit references and
    DependsOn, plus the AWS ordering rules the emulator enforces that a
    template need not spell out (see implicit_edges)."""
    deps = {}
    for lid, r in res.items():
        d = set()
        for text in r['lines']:
            for pat in _REF_PATTERNS:
                for m in pat.finditer(text):
                    if m.group(1) in res and m.group(1) != lid:
                        d.add(m.group(1))
        # Fn::GetAtt in block form: "Fn::GetAtt:\n  - Name\n  - Attr"
        for j, text in enumerate(r['lines']):
            if re.search(r'Fn::GetAtt:\s*$', text) and j + 1 < len(r['lines']):
                nxt = r['lines'][j + 1].strip()
                if nxt.startswith('- ') and nxt[2:].strip() in res:
                    d.add(nxt[2:].strip())
        for x in r['depends_on']:
            if x not in res:
                raise ValueError(f'resource {lid}: DependsOn names unknown {x}')
            d.add(x)
        deps[lid] = d
    for a, b, _why in implicit_edges(res, deps):
        deps[a].add(b)
    return deps


def implicit_edges(res, deps):
    """AWS ordering rules (docs/aws-behaviour.md, "Ordering rules"): a NAT gateway needs
    the VPC's internet gateway attached; an ECS service's tasks need the
    policies of the roles its task definition names."""
    out = []
    attach = [k for k, r in res.items() if r['type'] == 'AWS::EC2::VPCGatewayAttachment']
    policies = [k for k, r in res.items()
                if r['type'] in ('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy',
                                 'AWS::IAM::RolePolicy')]
    for lid, r in res.items():
        if r['type'] == 'AWS::EC2::NatGateway':
            out += [(lid, a, 'NAT gateway needs the internet gateway attached')
                    for a in attach]
        if r['type'] == 'AWS::ECS::Service':
            roles = set()
            for td in deps[lid]:
                if res[td]['type'] == 'AWS::ECS::TaskDefinition':
                    roles |= {x for x in deps[td] if res[x]['type'] == 'AWS::IAM::Role'}
            out += [(lid, p, 'service tasks need their roles\' policies')
                    for p in policies if deps[p] & roles]
    return out


def _count_list(r, key):
    """Number of items of a property that is a list (flow or block form)."""
    v = r['props'].get(key)
    if v is None:
        return 0
    if v:
        return len(_flow_list(v))
    n = 0
    on = False
    for text in r['lines']:
        if _indent(text) == 6:
            on = text.strip().startswith(key + ':')
            continue
        if on and _indent(text) == 8 and text.strip().startswith('- '):
            n += 1
    return n


def min_calls(r, deleting):
    """The fewest sequential AWS calls that create (or delete) a resource of
    this type with these properties, from the AWS APIs themselves
    (docs/aws-behaviour.md, "Per type"), not from what cairn does."""
    t = r['type']
    p = r['props']
    truthy = ('true', '"true"', "'true'")
    if deleting:
        if t == 'AWS::IAM::Role':          # detach managed, delete inline, delete
            return 1 + _count_list(r, 'ManagedPolicyArns') + _count_list(r, 'Policies')
        if t == 'AWS::IAM::ManagedPolicy':  # detach from each role, delete
            return 1 + _count_list(r, 'Roles') + _count_list(r, 'Users') + \
                _count_list(r, 'Groups')
        if t == 'AWS::IAM::Policy':         # DeleteRolePolicy per role
            return max(1, _count_list(r, 'Roles'))
        if t == 'AWS::ECS::Service':        # DeleteService --force
            return 1
        return 1
    if t == 'AWS::EC2::VPC':               # CreateVpc, ModifyVpcAttribute (hostnames)
        return 1 + (p.get('EnableDnsHostnames') in truthy)
    if t == 'AWS::EC2::Subnet':
        return 1 + (p.get('MapPublicIpOnLaunch') in truthy)
    if t == 'AWS::EC2::SecurityGroup':     # create, ingress, revoke default + own egress
        return 1 + ('SecurityGroupIngress' in p) + 2 * ('SecurityGroupEgress' in p)
    if t == 'AWS::ECR::Repository':
        return 1 + ('LifecyclePolicy' in p)
    if t == 'AWS::Logs::LogGroup':
        return 1 + ('RetentionInDays' in p)
    if t == 'AWS::IAM::Role':
        return 1 + _count_list(r, 'ManagedPolicyArns') + _count_list(r, 'Policies')
    if t == 'AWS::IAM::ManagedPolicy':
        return 1 + _count_list(r, 'Roles') + _count_list(r, 'Users') + \
            _count_list(r, 'Groups')
    if t == 'AWS::IAM::Policy':
        return max(1, _count_list(r, 'Roles'))
    return 1


def poll_interval_at(duration, rtt, poll_min_ms, poll_max_ms):
    """The sleep between two polls in effect `duration` seconds after a life
    cycle started, when the poller describes at once, then sleeps poll_min,
    x1.5 each time up to poll_max (cairn's prov_sleep_until), each describe
    costing rtt."""
    t = rtt
    sleep = poll_min_ms / 1000.0
    hi = max(poll_max_ms, poll_min_ms) / 1000.0
    while True:
        cur = min(sleep, hi)
        if t + cur + rtt >= duration:
            return cur
        t += cur + rtt
        sleep = min(sleep * 1.5, hi)


def poll_wait(duration, rtt, poll_min_ms, poll_max_ms, mode='expected'):
    """Seconds from the end of the call that starts a life cycle of
    `duration` to the end of the poll that sees it finished: the life cycle,
    the overshoot of polling (none, half the interval in effect on average,
    or the whole interval at worst) and the last describe."""
    iv = poll_interval_at(duration, rtt, poll_min_ms, poll_max_ms)
    over = {'none': 0.0, 'expected': iv / 2, 'worst': iv}[mode]
    return duration + over + rtt


def critical_path(res, deps, rtt, durations, poll_min_ms, poll_max_ms, deleting=False,
                  poll='expected'):
    """Longest path through the DAG (reversed when deleting) where each
    resource costs its minimal calls x rtt plus, for asynchronous types, its
    life cycle, the poll overshoot (poll_wait's mode) and the last describe."""
    table = ASYNC_DELETE if deleting else ASYNC_CREATE
    cost = {}
    for lid, r in res.items():
        c = min_calls(r, deleting) * rtt
        key = table.get(r['type'])
        if key:
            d = durations[key]
            c += poll_wait(d, rtt, poll_min_ms, poll_max_ms, poll)
        cost[lid] = c
    # when deleting, a resource waits for everything that depends on it
    need = deps
    if deleting:
        need = {k: set() for k in res}
        for a, bs in deps.items():
            for b in bs:
                need[b].add(a)
    finish = {}
    prev = {}
    state = {}

    def visit(k):
        if state.get(k) == 1:
            raise ValueError(f'dependency cycle through {k}')
        if k in finish:
            return finish[k]
        state[k] = 1
        start, best = 0.0, None
        for d in need[k]:
            f = visit(d)
            if f > start:
                start, best = f, d
        finish[k] = start + cost[k]
        prev[k] = best
        state[k] = 2
        return finish[k]

    for k in res:
        visit(k)
    end = max(finish, key=lambda k: finish[k])
    path = []
    k = end
    while k is not None:
        path.append(k)
        k = prev[k]
    path.reverse()
    return finish[end], path, cost


# --------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------

class Emulator:
    def __init__(self, config):
        self.dir = tempfile.mkdtemp(prefix='cairn-bench-emu-')
        cfg = os.path.join(self.dir, 'config.json')
        with open(cfg, 'w') as f:
            json.dump(config, f)
        self.log = open(os.path.join(self.dir, 'stderr.log'), 'w')
        self.proc = subprocess.Popen(
            ['/usr/bin/python3', os.path.join(TOP, 'tests', 'emulator', 'run'),
             '--port', '0', '--config', cfg],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith('listening on '):
            self.stop()
            raise RuntimeError(f'emulator did not start: {line!r} '
                               f'(see {self.log.name})')
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(':', 1)[1])

    def control(self, path, body=None, method=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + '/_emulator/' + path, data=data,
                                     method=method or ('POST' if data is not None else 'GET'))
        with urllib.request.urlopen(req, timeout=30) as r:
            txt = r.read()
        return json.loads(txt) if txt else None

    def reset(self):
        self.control('reset', {})

    def calls(self):
        return self.control('calls')

    def clear_calls(self):
        self.control('calls', method='DELETE')

    def health(self):
        """A line saying whether the emulator still runs, and the end of its
        stderr: appended to cairn's errors so a dead emulator is not taken
        for a cairn bug."""
        self.log.flush()
        try:
            with open(self.log.name) as f:
                tail = f.read().strip().split('\n')[-8:]
        except OSError:
            tail = []
        st = ('emulator running' if self.proc.poll() is None
              else f'emulator EXITED with status {self.proc.returncode}')
        return st + ''.join('\n  emulator: ' + x for x in tail if x)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# one cheap read per service cairn calls, for the round-trip measurement
_PROBES = [
    ('ec2', 'DescribeVpcs', 'query'),
    ('iam', 'ListRoles', 'query'),
    ('logs', 'DescribeLogGroups', 'json'),
    ('ecr', 'DescribeRepositories', 'json'),
    ('ecs', 'ListClusters', 'json'),
    ('secretsmanager', 'ListSecrets', 'json'),
]
_JSON_TARGET = {'logs': 'Logs_20140328', 'ecr': 'AmazonEC2ContainerRegistry_V20150921',
                'ecs': 'AmazonEC2ContainerServiceV20141113', 'secretsmanager': 'secretsmanager'}
_QUERY_VERSION = {'ec2': '2016-11-15', 'iam': '2010-05-08'}


def measure_rtt(emu, per_service=25):
    """Median seconds of one signed request/answer on a keep-alive
    connection, per service, timing only the HTTP exchange (signing with
    botocore happens before the clock starts)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials('test', 'test')
    conn = http.client.HTTPConnection('127.0.0.1', emu.port, timeout=30)
    out = {}
    try:
        for svc, op, proto in _PROBES:
            region = 'us-east-1'
            if proto == 'json':
                body = b'{}'
                headers = {'Content-Type': 'application/x-amz-json-1.1',
                           'X-Amz-Target': f'{_JSON_TARGET[svc]}.{op}'}
            else:
                body = f'Action={op}&Version={_QUERY_VERSION[svc]}'.encode()
                headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
            samples = []
            for _ in range(per_service):
                req = AWSRequest(method='POST', url=emu.url + '/', data=body, headers=headers)
                SigV4Auth(creds, svc, region).add_auth(req)
                h = dict(req.headers.items())
                t0 = time.perf_counter()
                conn.request('POST', '/', body=body, headers=h)
                resp = conn.getresponse()
                resp.read()
                samples.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise RuntimeError(f'round-trip probe {svc}:{op} answered {resp.status}')
            out[svc] = statistics.median(samples)
    finally:
        conn.close()
    return out


# --------------------------------------------------------------------------
# Running cairn
# --------------------------------------------------------------------------

class CairnFailed(Exception):
    pass


def cairn_env(home, poll_min_ms, poll_max_ms):
    return {
        'PATH': '/usr/bin:/bin',
        'HOME': home,
        'AWS_ACCESS_KEY_ID': 'test',
        'AWS_SECRET_ACCESS_KEY': 'test',
        'AWS_REGION': 'us-east-1',
        'AWS_EC2_METADATA_DISABLED': 'true',
        'NO_COLOR': '1',
        'CAIRN_POLL_MIN_MS': str(poll_min_ms),
        'CAIRN_POLL_MAX_MS': str(poll_max_ms),
        'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', 'detect_leaks=1'),
    }


_PROGRESS = re.compile(r'(?:^|\s)([A-Za-z0-9]+): (create|update|replace|delete|destroy)'
                       r'(?: \(| done| failed)')


def run_cairn(args, env, cwd, ok=(0,), timeout=900):
    """Runs cairn; returns (seconds, rc, timeline), where timeline maps each
    logical id to the seconds (since the start of the process) at which
    cairn's progress lines said its operation started and finished.  Raises
    CairnFailed with the command and its error when rc is not in ok."""
    t0 = time.monotonic()
    lines = []
    timeline = {}
    p = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        for line in p.stdout:
            t = time.monotonic() - t0
            lines.append(line.rstrip('\n'))
            m = _PROGRESS.search(line)
            if m:
                ev = timeline.setdefault(m.group(1), {})
                ev['done' if (' done' in line or ' failed' in line) else 'start'] = round(t, 4)
            if t > timeout:
                p.kill()
                raise CairnFailed(f'{" ".join(args)}\n  timed out after {timeout} s')
        p.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise CairnFailed(f'{" ".join(args)}\n  timed out after {timeout} s') from None
    dt = time.monotonic() - t0
    if p.returncode not in ok:
        tail = '\n'.join(lines[-15:])
        raise CairnFailed(f'{" ".join(args)}\n  exit {p.returncode}:\n{tail}')
    return dt, p.returncode, timeline


def breakdown(timeline, path, total):
    """Where the wall time of an apply went along the critical path: from
    the start of the process to the first operation, then each resource of
    the path (from the end of the previous one to its own end), then what
    followed the last one."""
    starts = [v['start'] for v in timeline.values() if 'start' in v]
    if not starts or any('done' not in timeline.get(k, {}) for k in path):
        return None
    out = [('start-up and plan', min(starts))]
    prev = min(starts)
    for k in path:
        out.append((k, timeline[k]['done'] - prev))
        prev = timeline[k]['done']
    out.append(('after the path', total - prev))
    return [[name, round(sec, 4)] for name, sec in out]


def total_calls(calls, skip_sts=False):
    return sum(n for k, n in calls.items() if not (skip_sts and k.startswith('sts:')))


def ensure_binary(path, build):
    if os.path.exists(path) or not build:
        if not os.path.exists(path):
            raise CairnFailed(f'no cairn binary at {path}')
        return path
    bdir = os.path.join(TOP, 'build-bench')
    log = os.path.join(TOP, 'build-bench', 'apply_bench_build.log')
    if not os.path.exists(os.path.join(bdir, 'build.ninja')):
        subprocess.run(['meson', 'setup', bdir, '-Dbuildtype=release', '-Dtests=false'],
                       cwd=TOP, check=True, stdout=subprocess.DEVNULL)
    with open(log, 'w') as f:
        p = subprocess.run(['ninja', '-C', bdir, '-j2', 'cairn'], cwd=TOP, stdout=f,
                           stderr=subprocess.STDOUT)
    if p.returncode != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-15:])
        raise CairnFailed(f'ninja -C build-bench cairn failed (log {log}):\n{tail}')
    return path


# --------------------------------------------------------------------------
# A generated stack that the emulator can apply: log groups, security groups
# in one VPC, ECR repositories (bench/gen_stack.py's subnets leave the VPC's
# range past 256 and its route tables depend on them, so it is for
# validate/plan only).
# --------------------------------------------------------------------------

def gen_appliable(n):
    out = ['AWSTemplateFormatVersion: "2010-09-09"',
           f'Description: generated appliable stack with {n} resources',
           'Resources:',
           '  Vpc:',
           '    Type: AWS::EC2::VPC',
           '    Properties:',
           '      CidrBlock: 10.0.0.0/16']
    for i in range(1, n):
        k = i % 3
        if k == 0:
            out += [f'  Logs{i}:', '    Type: AWS::Logs::LogGroup', '    Properties:',
                    f'      LogGroupName: !Sub "/bench/${{AWS::StackName}}/{i}"',
                    '      RetentionInDays: 7']
        elif k == 1:
            out += [f'  Sg{i}:', '    Type: AWS::EC2::SecurityGroup', '    Properties:',
                    f'      GroupDescription: bench group {i}',
                    '      VpcId: !Ref Vpc',
                    '      SecurityGroupIngress:',
                    '        - IpProtocol: tcp',
                    '          FromPort: 443',
                    '          ToPort: 443',
                    '          CidrIp: 10.0.0.0/16']
        else:
            out += [f'  Repo{i}:', '    Type: AWS::ECR::Repository', '    Properties:',
                    f'      RepositoryName: bench-repo-{i}']
    return '\n'.join(out) + '\n'


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runs', type=int, default=5, help='apply/destroy runs (default 5)')
    ap.add_argument('--quick', action='store_true',
                    help='tiny mode for the smoke test: 1 run, main stack only, '
                         'a 30-resource generated stack')
    ap.add_argument('--cairn', help='cairn binary (default build-bench/cairn, built '
                                    'in release mode when absent)')
    ap.add_argument('--big', type=int, default=1000,
                    help='resources of the generated stack (default 1000)')
    ap.add_argument('--poll-min-ms', type=int, default=DEFAULT_POLL_MIN_MS)
    ap.add_argument('--poll-max-ms', type=int, default=DEFAULT_POLL_MAX_MS)
    ap.add_argument('--latency', type=float, default=DEFAULT_LATENCY,
                    help='seconds the emulator adds to every call (default 0.002)')
    ap.add_argument('--out', help='JSON results file (default '
                                  'bench/results/apply-<UTC time>.json)')
    ap.add_argument('--graph-check', action='store_true',
                    help='also compare the edges read here with `cairn graph --format '
                         'json` (a cross-check; the critical path never uses them)')
    a = ap.parse_args()
    if a.runs < 1 or a.big < 2 or a.poll_min_ms < 1 or a.latency < 0:
        ap.error('--runs >= 1, --big >= 2, --poll-min-ms >= 1, --latency >= 0')
    if a.quick:
        a.runs, a.big = 1, 30
    stacks = [MAIN_STACK] if a.quick else STACKS

    durations = {k: v / SCALE for k, v in AWS_TYPICAL.items()}
    emu_config = {'latency': {'*': a.latency} if a.latency > 0 else {},
                  'async': dict(durations), 'seed': 7}
    results = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'stack': MAIN_STACK,
        'scale': SCALE,
        'aws_typical_seconds': AWS_TYPICAL,
        'emulator_async_seconds': durations,
        'emulator_latency_seconds': a.latency,
        'poll_ms': {'CAIRN_POLL_MIN_MS': a.poll_min_ms, 'CAIRN_POLL_MAX_MS': a.poll_max_ms},
        'runs': a.runs,
        'errors': [],
        'machine': {'cpus': os.cpu_count(), 'load_average_at_start': os.getloadavg()},
    }

    tpl = os.path.join(TOP, 'stacks', MAIN_STACK + '.yaml')
    res = read_template(tpl)
    deps = dependencies(res)
    results['resources'] = len(res)
    results['edges'] = sum(len(v) for v in deps.values())

    cairn = os.path.abspath(a.cairn) if a.cairn else os.path.join(TOP, 'build-bench', 'cairn')
    emu = None
    work = tempfile.mkdtemp(prefix='cairn-bench-')
    rc = 0
    try:
        emu = Emulator(emu_config)
        rtts = measure_rtt(emu)
        rtt = statistics.median(rtts.values())
        results['round_trip_seconds'] = {'per_service': rtts, 'median': rtt}

        for deleting in (False, True):
            got = {}
            for mode in ('expected', 'none', 'worst'):
                got[mode] = critical_path(res, deps, rtt, durations, a.poll_min_ms,
                                          a.poll_max_ms, deleting=deleting, poll=mode)
            results['destroy_critical_path' if deleting else 'critical_path'] = {
                'seconds': got['expected'][0],
                'without_poll_overshoot_seconds': got['none'][0],
                'worst_poll_overshoot_seconds': got['worst'][0],
                'path': got['expected'][1],
                'path_model_seconds': {k: round(got['expected'][2][k], 4)
                                       for k in got['expected'][1]}}

        try:
            cairn = ensure_binary(cairn, build=a.cairn is None)
        except (CairnFailed, subprocess.CalledProcessError) as e:
            raise CairnFailed(str(e)) from None
        results['cairn'] = os.path.relpath(cairn, TOP)
        env = cairn_env(os.path.join(work, 'home'), a.poll_min_ms, a.poll_max_ms)
        os.makedirs(env['HOME'], exist_ok=True)
        ep = ['--endpoint-url', emu.url]

        if a.graph_check:
            results['graph_check'] = graph_check(cairn, tpl, env, work, deps)

        # --- apply / destroy of the main stack, fresh state each run ---
        applies, destroys = [], []
        for i in range(a.runs):
            emu.reset()
            db = os.path.join(work, f'main-{i}.db')
            dt, _, tl = run_cairn([cairn, 'apply', tpl, '--auto-approve', '--state', db,
                                   *ep, *PARAMS], env, work)
            calls = emu.calls()
            inv = emu.control('inventory')
            emu.clear_calls()
            dd, _, dtl = run_cairn([cairn, 'destroy', tpl, '--auto-approve', '--state', db,
                                    *ep, *PARAMS], env, work)
            dcalls = emu.calls()
            left = emu.control('inventory')
            applies.append({'seconds': dt, 'api_calls': total_calls(calls),
                            'inventory': len(inv), 'calls_by_operation': calls,
                            'timeline': tl,
                            'breakdown': breakdown(tl, results['critical_path']['path'], dt)})
            destroys.append({'seconds': dd, 'api_calls': total_calls(dcalls),
                             'inventory_left': len(left), 'calls_by_operation': dcalls,
                             'timeline': dtl,
                             'breakdown': breakdown(
                                 dtl, results['destroy_critical_path']['path'], dd)})
        cp = results['critical_path']['seconds']
        dcp = results['destroy_critical_path']['seconds']
        med = statistics.median(x['seconds'] for x in applies)
        dmed = statistics.median(x['seconds'] for x in destroys)
        results['apply'] = {'median_seconds': med, 'ratio_to_critical_path': med / cp,
                            'within_10_percent': med <= cp * 1.10,
                            'median_api_calls': statistics.median(
                                x['api_calls'] for x in applies),
                            'runs': applies}
        results['destroy'] = {'median_seconds': dmed, 'ratio_to_critical_path': dmed / dcp,
                              'median_api_calls': statistics.median(
                                  x['api_calls'] for x in destroys),
                              'runs': destroys}

        # --- API calls of a no-change plan ---
        results['plan_calls'] = plan_calls(cairn, emu, env, work, stacks, a.big,
                                           results['errors'])
        if results['errors']:
            rc = 1
    except CairnFailed as e:
        results['errors'].append(str(e) + ('\n' + emu.health() if emu else ''))
        rc = 1
    except (RuntimeError, OSError) as e:      # the emulator or its controls
        results['errors'].append(f'emulator: {e}' + ('\n' + emu.health() if emu else ''))
        rc = 1
    finally:
        if emu:
            emu.stop()
        shutil.rmtree(work, ignore_errors=True)

    results['machine']['load_average_at_end'] = os.getloadavg()
    print_table(results)
    out = a.out
    if not out:
        os.makedirs(os.path.join(TOP, 'bench', 'results'), exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H%M%SZ')
        out = os.path.join(TOP, 'bench', 'results', f'apply-{stamp}.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write('\n')
    print(f'results: {os.path.relpath(out)}')
    return rc


def graph_check(cairn, tpl, env, work, deps):
    """Edges read here versus `cairn graph --format json` (explicit and
    implicit): lists both differences; informative only."""
    p = subprocess.run([cairn, 'graph', tpl, '--format', 'json', *PARAMS], env=env,
                       cwd=work, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return {'error': p.stderr.strip()[-300:]}
    g = json.loads(p.stdout)
    theirs = {(e['from'], e['to']) for e in g.get('edges', [])}
    ours = {(a, b) for a, bs in deps.items() for b in bs}
    return {'only_here': sorted(map(list, ours - theirs)),
            'only_in_cairn_graph': sorted(map(list, theirs - ours))}


def plan_calls(cairn, emu, env, work, stacks, big, errors):
    """Applies each stack, then counts the API calls of a no-change
    `cairn plan` (refresh is its default when the build has it).  A stack
    whose apply or plan fails is recorded in errors and skipped."""
    out = {}
    ep = ['--endpoint-url', emu.url]
    hp = subprocess.run([cairn, 'plan', '--help'], env=env, capture_output=True,
                        text=True).stdout
    refresh_note = ('plan --help still says refresh is not implemented'
                    if 'the only mode yet' in hp else 'refresh on (the default)')
    big_path = os.path.join(work, f'bench-{big}.yaml')
    with open(big_path, 'w') as f:
        f.write(gen_appliable(big))
    todo = [(s, os.path.join(TOP, 'stacks', s + '.yaml'), PARAMS) for s in stacks]
    todo.append((f'generated-{big}', big_path, []))
    for name, path, params in todo:
        res = read_template(path)
        emu.reset()
        db = os.path.join(work, f'plan-{name}.db')
        try:
            dt, _, _ = run_cairn([cairn, 'apply', path, '--auto-approve', '--state', db,
                                  *ep, *params], env, work)
            apply_calls = total_calls(emu.calls())
            emu.clear_calls()
            pt, prc, _ = run_cairn([cairn, 'plan', path, '--detailed-exitcode', '--state',
                                    db, *ep, *params], env, work, ok=(0, 2))
        except CairnFailed as e:
            errors.append(f'{e}\n{emu.health()}')
            continue
        calls = emu.calls()
        out[name] = {
            'resources': len(res),
            'apply_seconds': dt,
            'apply_api_calls': apply_calls,
            'plan_seconds': pt,
            'plan_exit': prc,
            'plan_api_calls': total_calls(calls),
            'plan_api_calls_without_sts': total_calls(calls, skip_sts=True),
            'plan_calls_per_resource': total_calls(calls) / len(res),
            'calls_by_operation': calls,
            'note': refresh_note,
        }
    return out


def print_table(r):
    print(f"apply benchmark: {r['stack']} ({r.get('resources', '?')} resources, "
          f"{r.get('edges', '?')} edges), AWS durations / {r['scale']:g}")
    if 'round_trip_seconds' in r:
        print(f"  emulator round trip (latency {r['emulator_latency_seconds'] * 1000:g} ms "
              f"added): median {r['round_trip_seconds']['median'] * 1000:.2f} ms")
    print(f"  machine: {r['machine']['cpus']} CPUs, load average "
          f"{r['machine']['load_average_at_start'][0]:.1f} at start")
    print(f"  poll: CAIRN_POLL_MIN_MS={r['poll_ms']['CAIRN_POLL_MIN_MS']} "
          f"CAIRN_POLL_MAX_MS={r['poll_ms']['CAIRN_POLL_MAX_MS']}")
    if 'critical_path' in r:
        c = r['critical_path']
        print(f"  critical path (apply): {c['seconds']:.3f} s "
              f"({c['without_poll_overshoot_seconds']:.3f}..."
              f"{c['worst_poll_overshoot_seconds']:.3f} s with no..worst poll overshoot): "
              + ' -> '.join(c['path']))
        d = r['destroy_critical_path']
        print(f"  critical path (destroy): {d['seconds']:.3f} s: " + ' -> '.join(d['path']))
    rows = []
    if 'apply' in r:
        for k in ('apply', 'destroy'):
            x = r[k]
            cp = r['critical_path' if k == 'apply' else 'destroy_critical_path']['seconds']
            rows.append((k, f"{x['median_seconds']:.3f}", f'{cp:.3f}',
                         f"{x['ratio_to_critical_path']:.3f}", f"{x['median_api_calls']:g}"))
        print()
        print(f"{'command':<10} {'median s':>9} {'crit. s':>9} {'ratio':>7} {'API calls':>10}"
              f"   ({r['runs']} runs)")
        for row in rows:
            print(f'{row[0]:<10} {row[1]:>9} {row[2]:>9} {row[3]:>7} {row[4]:>10}')
        for k in ('apply', 'destroy'):
            runs = r[k]['runs']
            mid = min(runs, key=lambda x: abs(x['seconds'] - r[k]['median_seconds']))
            if mid.get('breakdown'):
                model = r['critical_path' if k == 'apply' else
                          'destroy_critical_path']['path_model_seconds']
                print(f'  median {k} along its critical path (measured s / model s): ' +
                      ', '.join(f'{n} {sec:.3f}' + (f'/{model[n]:.3f}' if n in model else '')
                                for n, sec in mid['breakdown']))
        ok = r['apply']['within_10_percent']
        print(f"apply within 10% of the critical path: {'yes' if ok else 'NO'}")
    if r.get('plan_calls'):
        print()
        print(f"{'no-change plan':<28} {'resources':>9} {'API calls':>10} {'per res.':>9}"
              f" {'plan s':>7} {'apply s':>8}")
        for name, x in r['plan_calls'].items():
            print(f"{name:<28} {x['resources']:>9} {x['plan_api_calls']:>10} "
                  f"{x['plan_calls_per_resource']:>9.3f} {x['plan_seconds']:>7.3f} "
                  f"{x['apply_seconds']:>8.3f}")
        first = next(iter(r['plan_calls'].values()))
        print(f"  ({first['note']}; one call per resource would be the 'resources' column)")
    if r.get('graph_check'):
        print(f"  graph cross-check: {json.dumps(r['graph_check'])}")
    for e in r['errors']:
        print(f'FAILED: {e}', file=sys.stderr)


if __name__ == '__main__':
    sys.exit(main())
