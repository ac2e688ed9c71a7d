"""Smoke test of bench/apply_critical_path.py so that it cannot rot: its
template reader against the templates' own text and against `cairn graph`,
its model of cairn's polling against the documented schedule, and one run in
--quick mode through the real binary against the emulator. No timings are
asserted: only that every step ran and what the emulator saw."""
import importlib.util
import json
import os
import subprocess

import pytest

from accept_util import TOP, template_types
from conftest import CAIRN

_spec = importlib.util.spec_from_file_location(
    'apply_critical_path', os.path.join(TOP, 'bench', 'apply_critical_path.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

STACKS = ['prefect-ecs-worker', 'prefect-agent-dedicated-ip']


def _tpl(stack):
    return os.path.join(TOP, 'stacks', stack + '.yaml')


@pytest.mark.parametrize('stack', STACKS)
def test_reader_finds_every_resource(stack):
    res = bench.read_template(_tpl(stack))
    want = template_types(_tpl(stack))        # counted from the raw text
    got = {}
    for r in res.values():
        got[r['type']] = got.get(r['type'], 0) + 1
    assert got == want


def test_reader_edges_by_hand():
    """A few edges of prefect-ecs-worker.yaml read off the template by eye."""
    res = bench.read_template(_tpl('prefect-ecs-worker'))
    deps = bench.dependencies(res)
    assert deps['Vpc'] == set()
    assert deps['NatEip'] == {'GatewayAttachment'}                 # DependsOn
    assert {'NatEip', 'PublicSubnet'} <= deps['NatGateway']         # GetAtt, Ref
    assert 'Cluster' in deps['WorkerPolicy']                        # GetAtt in a Condition
    assert 'FlowRepository' in deps['FlowTaskDefinition']           # ${X.Attr} in !Sub
    assert {'PrivateDefaultRoute', 'EcrApiEndpoint', 'ReadApiKeyPolicy'} <= \
        deps['WorkerService']                                       # block DependsOn
    # nothing inside the LifecyclePolicyText block scalar is taken as a reference
    assert deps['FlowRepository'] == set()


@pytest.mark.parametrize('stack', STACKS)
def test_reader_matches_cairn_graph(stack, tmp_path):
    if not os.path.exists(CAIRN):
        pytest.skip(f'{CAIRN} not built')
    res = bench.read_template(_tpl(stack))
    deps = bench.dependencies(res)
    env = bench.cairn_env(str(tmp_path), 20, 100)
    got = bench.graph_check(CAIRN, _tpl(stack), env, str(tmp_path), deps)
    assert got == {'only_here': [], 'only_in_cairn_graph': []}


def test_poll_model():
    # cairn's schedule (src/providers/providers.c prov_sleep_until): sleep
    # min, then x1.5 up to max: 20, 30, 45, 67.5, 100, 100 ... ms
    assert bench.poll_interval_at(0.01, 0.0, 20, 100) == pytest.approx(0.020)
    assert bench.poll_interval_at(0.06, 0.0, 20, 100) == pytest.approx(0.045)
    assert bench.poll_interval_at(1.0, 0.0, 20, 100) == pytest.approx(0.100)
    assert bench.poll_wait(1.0, 0.0, 20, 100, 'none') == pytest.approx(1.0)
    assert bench.poll_wait(1.0, 0.0, 20, 100, 'worst') == pytest.approx(1.1)
    assert bench.poll_wait(1.0, 0.01, 20, 100, 'expected') == pytest.approx(1.06)


def test_critical_path_of_a_chain():
    """A -> B (async 1 s) -> C, and D alone: the path is A, B, C."""
    res = {
        'A': {'type': 'AWS::EC2::VPC', 'props': {}, 'lines': [], 'depends_on': []},
        'B': {'type': 'AWS::EC2::NatGateway', 'props': {}, 'lines': [], 'depends_on': []},
        'C': {'type': 'AWS::EC2::Route', 'props': {}, 'lines': [], 'depends_on': []},
        'D': {'type': 'AWS::Logs::LogGroup', 'props': {}, 'lines': [], 'depends_on': []},
    }
    deps = {'A': set(), 'B': {'A'}, 'C': {'B'}, 'D': set()}
    durations = {'nat_gateway_create': 1.0}
    secs, path, _ = bench.critical_path(res, deps, 0.01, durations, 20, 100, poll='none')
    assert path == ['A', 'B', 'C']
    # A: 1 call, B: 1 call + 1 s + the last describe, C: 1 call
    assert secs == pytest.approx(0.01 + 0.01 + 1.0 + 0.01 + 0.01)
    secs, path, _ = bench.critical_path(res, deps, 0.01, {'nat_gateway_delete': 0.5},
                                        20, 100, deleting=True, poll='none')
    assert path == ['C', 'B', 'A']


def test_generated_stack_is_flat():
    text = bench.gen_appliable(10)
    assert text.count('Type: AWS::') == 10
    res = bench.read_template_text(text)
    assert len(res) == 10
    deps = bench.dependencies(res)
    # every security group needs the VPC, nothing else needs anything
    for lid, d in deps.items():
        assert d == ({'Vpc'} if res[lid]['type'] == 'AWS::EC2::SecurityGroup' else set())


def test_quick_run(tmp_path):
    """One apply/destroy and the no-change plans in --quick mode."""
    if not os.path.exists(CAIRN):
        pytest.skip(f'{CAIRN} not built')
    out = tmp_path / 'r.json'
    p = subprocess.run(['/usr/bin/python3', os.path.join(TOP, 'bench', 'apply_critical_path.py'),
                        '--quick', '--cairn', CAIRN, '--out', str(out)],
                       capture_output=True, text=True, timeout=600)
    assert out.exists(), p.stderr
    r = json.loads(out.read_text())
    assert p.returncode == 0, (p.stdout, p.stderr, r['errors'])
    assert r['errors'] == []
    want = sum(template_types(_tpl('prefect-ecs-worker')).values())
    assert r['resources'] == want
    run = r['apply']['runs'][0]
    # what the emulator saw: at least one create call per resource
    creates = sum(n for k, n in run['calls_by_operation'].items()
                  if k.split(':', 1)[1].startswith(('Create', 'Allocate', 'Attach',
                                                    'Register', 'Put', 'Associate')))
    assert creates >= want
    assert run['inventory'] > 0
    assert r['destroy']['runs'][0]['inventory_left'] == 0
    for name, x in r['plan_calls'].items():
        assert x['plan_exit'] == 0, name          # no changes after apply
        assert x['resources'] > 0
    assert 'critical_path' in r and r['critical_path']['path'][-1] == 'WorkerService'


def test_apply_floor_quick_run(tmp_path):
    """bench/apply_floor.py --quick: one apply/destroy of a 40-resource mixed
    stack with AWS's buckets enforced; no timings asserted, only that it ran,
    counted calls per bucket, and that nothing was throttled."""
    if not os.path.exists(CAIRN):
        pytest.skip(f'{CAIRN} not built')
    out = tmp_path / 'f.json'
    p = subprocess.run(['/usr/bin/python3', os.path.join(TOP, 'bench', 'apply_floor.py'),
                        '--quick', '--cairn', CAIRN, '--out', str(out)],
                       capture_output=True, text=True, timeout=600)
    assert out.exists(), p.stderr
    r = json.loads(out.read_text())
    assert p.returncode == 0, (p.stdout, p.stderr, r['errors'])
    x = r['results'][0]
    assert x['resources'] == 40
    run = x['runs'][0]
    assert run['apply']['inventory'] >= 40
    # what destroy leaves: ECS's service-linked role and its policy attachment
    assert run['destroy']['inventory_left'] <= 2
    for cmd in ('apply', 'destroy'):
        assert run[cmd]['throttled'] == 0 and run[cmd]['retries'] == 0
        assert run[cmd]['api_calls'] > 40
        assert run[cmd]['floor_seconds'] > 0
    assert run['apply']['buckets']['logs:CreateLogGroup']['calls'] == 15
