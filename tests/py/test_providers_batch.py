"""Batched reads (read_many) of the providers that have one beyond EC2:
ECR repositories (DescribeRepositories with a list of names) and CloudWatch
Logs log groups (a DescribeLogGroups listing by the names' common prefix).

Each test runs the provider_driver test binary against the real emulator
and checks what it returns against what botocore reads from the same
emulator, and counts the calls through GET /_emulator/calls: a batch must
cost fewer Describe calls than one per resource, must report a gone id as
null among found ones, and must still return every property drift needs
(tags included).

Environment: CAIRN_BUILD (the meson build directory; default build/).
"""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_providers import DRIVER, Emu, drive, tags_of  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(DRIVER),
                                reason=f'{DRIVER} is not built')


@pytest.fixture(scope='module')
def emu():
    e = Emu()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _calm(emu):
    emu.control('config', {'throttle_rate': 0, 'error_rate': 0,
                           'iam_propagation_seconds': 0})
    yield


def calls_during(emu, fn):
    before = emu.control('calls')
    out = fn()
    after = emu.control('calls')
    return out, {k: v - before.get(k, 0) for k, v in after.items()
                 if v != before.get(k, 0)}


# ------------------------------------------------------------------ ECR

LIFECYCLE = {'rules': [{'rulePriority': 1, 'selection': {
    'tagStatus': 'untagged', 'countType': 'imageCountMoreThan', 'countNumber': 3},
    'action': {'type': 'expire'}}]}


def make_repos(emu, n, prefix):
    names = []
    for i in range(n):
        props = {'RepositoryName': f'{prefix}-{i}', 'Tags': [{'Key': 'N', 'Value': str(i)}]}
        if i == 0:
            props['LifecyclePolicy'] = {'LifecyclePolicyText': json.dumps(LIFECYCLE)}
        names.append(drive(emu, 'create', 'AWS::ECR::Repository', props,
                           lid=f'Repo{i}')['physical_id'])
    return names


def test_ecr_read_many_one_describe(emu):
    ecr = emu.client('ecr')
    names = make_repos(emu, 3, 'batch-ecr')
    # changed outside cairn: the batch must see it (drift)
    arn1 = ecr.describe_repositories(repositoryNames=[names[1]])['repositories'][0][
        'repositoryArn']
    ecr.tag_resource(resourceArn=arn1, tags=[{'Key': 'N', 'Value': 'changed'}])
    ecr.put_image_tag_mutability(repositoryName=names[2], imageTagMutability='IMMUTABLE')
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::ECR::Repository',
                                                 *names))
    assert calls.get('ecr:DescribeRepositories') == 1
    assert len(got) == 3
    for name, r in zip(names, got):
        repo = ecr.describe_repositories(repositoryNames=[name])['repositories'][0]
        assert r['physical_id'] == name
        assert r['attrs']['Arn'] == repo['repositoryArn']
        assert r['attrs']['RepositoryUri'] == repo['repositoryUri']
        assert r['props']['ImageTagMutability'] == repo['imageTagMutability']
        live_tags = tags_of(ecr.list_tags_for_resource(
            resourceArn=repo['repositoryArn'])['tags'])
        assert tags_of(r['props']['Tags']) == {k: v for k, v in live_tags.items()
                                               if not k.startswith('cairn:')}
    assert tags_of(got[1]['props']['Tags']) == {'N': 'changed'}
    assert got[2]['props']['ImageTagMutability'] == 'IMMUTABLE'
    assert json.loads(got[0]['props']['LifecyclePolicy']['LifecyclePolicyText']) == LIFECYCLE
    assert 'LifecyclePolicy' not in got[1]['props']
    for name in names:
        drive(emu, 'delete', 'AWS::ECR::Repository', name, {})


def test_ecr_read_many_gone_among_found(emu):
    ecr = emu.client('ecr')
    names = make_repos(emu, 3, 'batch-gone')
    ecr.delete_repository(repositoryName=names[1])
    ids = [names[0], names[1], 'batch-never-existed', names[2]]
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::ECR::Repository',
                                                 *ids))
    # the batch fails on a missing name; one listing of the registry
    # (1000 a page) tells the gone from the found
    assert calls.get('ecr:DescribeRepositories') == 2
    assert got[1] is None and got[2] is None
    assert [got[0]['physical_id'], got[3]['physical_id']] == [names[0], names[2]]
    assert tags_of(got[3]['props']['Tags']) == {'N': '2'}
    # all gone: an empty answer, not an error
    assert drive(emu, 'read-many', 'AWS::ECR::Repository', names[1],
                 'batch-never-existed') == [None, None]
    # read (one id) still reports gone as an error the refresh counts as gone
    p = drive(emu, 'read', 'AWS::ECR::Repository', names[1], check=False)
    assert p.returncode != 0 and 'does not exist' in p.stderr
    for name in (names[0], names[2]):
        drive(emu, 'delete', 'AWS::ECR::Repository', name, {})


def test_ecr_read_many_gone_in_a_large_registry(emu):
    # more repositories than one listing page: a batch of two lists one
    # page (its budget: a page per ten names), then looks the rest up alone
    ecr = emu.client('ecr')
    crowd = [f'batch-crowd-{i:04d}' for i in range(1005)]
    for c in crowd:
        ecr.create_repository(repositoryName=c)
    names = make_repos(emu, 1, 'batch-zz')
    ids = ['batch-zz-gone', names[0]]
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::ECR::Repository',
                                                 *ids))
    assert got[0] is None and got[1]['physical_id'] == names[0]
    # the batch, one page (ours was created after the crowd: not on it), each alone
    assert calls.get('ecr:DescribeRepositories') == 4
    drive(emu, 'delete', 'AWS::ECR::Repository', names[0], {})
    for c in crowd:
        ecr.delete_repository(repositoryName=c)


# ------------------------------------------------------------------ Logs

def make_groups(emu, names, days=7):
    for i, n in enumerate(names):
        drive(emu, 'create', 'AWS::Logs::LogGroup',
              {'LogGroupName': n, 'RetentionInDays': days,
               'Tags': [{'Key': 'N', 'Value': str(i)}]}, lid=f'Logs{i}')


def delete_groups(emu, names):
    for n in names:
        drive(emu, 'delete', 'AWS::Logs::LogGroup', n, {})


def test_logs_read_many_by_common_prefix(emu):
    logs = emu.client('logs')
    names = [f'/batch/prefix/{i}' for i in range(12)]
    make_groups(emu, names)
    # a group that is not ours under the same prefix, and one outside it
    logs.create_log_group(logGroupName='/batch/prefix/zz-other')
    logs.create_log_group(logGroupName='/batch/elsewhere')
    logs.put_retention_policy(logGroupName=names[3], retentionInDays=30)
    logs.tag_resource(resourceArn=logs.describe_log_groups(
        logGroupNamePrefix=names[4])['logGroups'][0]['arn'].rstrip('*').rstrip(':'),
        tags={'N': 'changed'})
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::Logs::LogGroup',
                                                 *names))
    # 13 groups under the prefix: one page of 50
    assert calls.get('logs:DescribeLogGroups') == 1
    assert calls.get('logs:ListTagsForResource') == 12
    for name, r in zip(names, got):
        g = [x for x in logs.describe_log_groups(logGroupNamePrefix=name)['logGroups']
             if x['logGroupName'] == name][0]
        assert r['physical_id'] == name and r['attrs']['Arn'] == g['arn']
        assert str(r['props']['RetentionInDays']) == str(g['retentionInDays'])
    assert str(got[3]['props']['RetentionInDays']) == '30'
    assert tags_of(got[4]['props']['Tags']) == {'N': 'changed'}
    assert tags_of(got[5]['props']['Tags']) == {'N': '5'}
    delete_groups(emu, names)
    logs.delete_log_group(logGroupName='/batch/prefix/zz-other')
    logs.delete_log_group(logGroupName='/batch/elsewhere')


def test_logs_read_many_gone_among_found(emu):
    logs = emu.client('logs')
    names = [f'/batch/gone/{i}' for i in range(4)]
    make_groups(emu, names)
    logs.delete_log_group(logGroupName=names[2])
    ids = names + ['/batch/gone/never']
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::Logs::LogGroup',
                                                 *ids))
    assert got[2] is None and got[4] is None
    assert [g['physical_id'] for g in got if g] == [names[0], names[1], names[3]]
    assert tags_of(got[3]['props']['Tags']) == {'N': '3'}
    # listed to the end: the gone ones cost no call of their own
    assert calls.get('logs:DescribeLogGroups') == 1
    delete_groups(emu, [n for n in names if n != names[2]])


def test_logs_read_many_by_name_list(emu):
    """DescribeLogGroups by logGroupIdentifiers (up to 50 names a call):
    names without a shared prefix, and names whose prefix many groups that
    are not the stack's share, cost one call, not a listing."""
    logs = emu.client('logs')
    names = ['alpha-batch-logs', 'beta-batch-logs', 'gamma-batch-logs']
    make_groups(emu, names)
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::Logs::LogGroup',
                                                 *names, 'zeta-gone'))
    assert [g and g['physical_id'] for g in got] == names + [None]
    assert calls.get('logs:DescribeLogGroups') == 1
    delete_groups(emu, names)
    others = [f'/batch/crowd/a{i:03d}' for i in range(160)]
    for o in others:
        logs.create_log_group(logGroupName=o)
    mine = ['/batch/crowd/b1', '/batch/crowd/c2']  # common prefix: /batch/crowd/
    make_groups(emu, mine)
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::Logs::LogGroup',
                                                 *mine))
    assert [g['physical_id'] for g in got] == mine
    assert calls.get('logs:DescribeLogGroups') == 1
    delete_groups(emu, mine)
    for o in others:
        logs.delete_log_group(logGroupName=o)


# ------------------------------------------------------------------ ECS

def test_ecs_clusters_read_many(emu):
    ecs = emu.client('ecs')
    names = ['batch-cl-a', 'batch-cl-b', 'batch-cl-c']
    for i, n in enumerate(names):
        ecs.create_cluster(clusterName=n, tags=[{'key': 'N', 'value': str(i)}],
                           settings=[{'name': 'containerInsights', 'value': 'enabled'}])
    ecs.delete_cluster(cluster=names[1])  # INACTIVE: gone
    arn2 = ecs.describe_clusters(clusters=[names[2]])['clusters'][0]['clusterArn']
    ecs.tag_resource(resourceArn=arn2, tags=[{'key': 'N', 'value': 'changed'}])
    got, calls = calls_during(emu, lambda: drive(
        emu, 'read-many', 'AWS::ECS::Cluster', *names, 'batch-cl-never'))
    assert calls == {'ecs:DescribeClusters': 1}
    assert got[1] is None and got[3] is None
    c0 = ecs.describe_clusters(clusters=[names[0]], include=['TAGS'])['clusters'][0]
    assert got[0]['physical_id'] == names[0] and got[0]['attrs']['Arn'] == c0['clusterArn']
    assert tags_of(got[0]['props']['Tags']) == tags_of(c0['tags'], 'key', 'value')
    assert got[0]['props']['ClusterSettings'] == [{'Name': 'containerInsights',
                                                   'Value': 'enabled'}]
    assert tags_of(got[2]['props']['Tags']) == {'N': 'changed'}
    for n in (names[0], names[2]):
        ecs.delete_cluster(cluster=n)


def test_ecs_services_read_many_across_clusters(emu):
    ecs = emu.client('ecs')
    td = ecs.register_task_definition(family='batch-td', networkMode='bridge',
                                      containerDefinitions=[{
                                          'name': 'c', 'image': 'nginx:1', 'memory': 128}])
    td_arn = td['taskDefinition']['taskDefinitionArn']
    arns = []
    for cl in ('batch-svc-1', 'batch-svc-2'):
        ecs.create_cluster(clusterName=cl)
        for i in range(2):
            s = ecs.create_service(cluster=cl, serviceName=f'web{i}', taskDefinition=td_arn,
                                   desiredCount=0, launchType='EC2',
                                   tags=[{'key': 'N', 'value': f'{cl}-{i}'}])
            arns.append(s['service']['serviceArn'])
    # one deleted (DRAINING, then INACTIVE: gone either way), one never made
    ecs.delete_service(cluster='batch-svc-1', service=arns[1], force=True)
    missing = arns[0].replace('/web0', '/nope')
    ids = arns + [missing]
    got, calls = calls_during(emu, lambda: drive(emu, 'read-many', 'AWS::ECS::Service',
                                                 *ids))
    # one DescribeServices per cluster, tags included
    assert calls == {'ecs:DescribeServices': 2}
    assert got[1] is None and got[4] is None
    for k in (0, 2, 3):
        s = ecs.describe_services(cluster=got[k]['props']['Cluster'], services=[arns[k]],
                                  include=['TAGS'])['services'][0]
        assert got[k]['physical_id'] == arns[k]
        assert got[k]['props']['ServiceName'] == s['serviceName']
        assert tags_of(got[k]['props']['Tags']) == tags_of(s['tags'], 'key', 'value')
        assert str(got[k]['props']['DesiredCount']) == '0'
    assert got[3]['props']['Cluster'] == 'batch-svc-2'
    for k in (0, 2, 3):
        ecs.delete_service(cluster=got[k]['props']['Cluster'], service=arns[k], force=True)


# ------------------------------------------- through `cairn drift` (refresh)

CAIRN = os.environ.get('CAIRN', os.path.join(os.path.dirname(DRIVER), '..', '..', '..',
                                             'cairn'))

DRIFT_STACK = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
''' + ''.join(f'''  Logs{i}:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /batch/drift/{i}
      RetentionInDays: 7
      Tags:
        - Key: N
          Value: "{i}"
''' for i in range(4)) + ''.join(f'''  Repo{i}:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: batch-drift-{i}
      ImageTagMutability: MUTABLE
      Tags:
        - Key: N
          Value: "{i}"
''' for i in range(3)) + ''.join(f'''  Cluster{i}:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterName: batch-drift-{i}
      Tags:
        - Key: N
          Value: "{i}"
''' for i in range(3))


@pytest.mark.skipif(not os.path.exists(CAIRN), reason=f'{CAIRN} is not built')
def test_drift_through_batched_reads(emu, tmp_path):
    """The refresh batches these three types (one read_many per type): a
    change behind cairn's back on one member of a batch is reported on that
    resource only, a deleted one as gone, and the rest as unchanged."""
    tpl = tmp_path / 'stack.yaml'
    tpl.write_text(DRIFT_STACK)
    # the deletions below come moments after the apply: no re-read of a
    # recent resource's NotFound (src/exec/settle.c; tested in
    # tests/acceptance/test_consistency.py) keeps the call counts exact
    env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
               AWS_REGION='us-east-1', AWS_EC2_METADATA_DISABLED='true', NO_COLOR='1',
               CAIRN_SETTLE_SECONDS='0')
    env.pop('AWS_PROFILE', None)
    common = ['--endpoint-url', emu.url, '--state', str(tmp_path / 'state.db')]

    def cairn(*args):
        return subprocess.run([CAIRN, *args], env=env, capture_output=True, text=True,
                              timeout=300, cwd=str(tmp_path))

    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.returncode == 0, r.stderr
    r = cairn('drift', str(tpl), '--json', *common)
    assert r.returncode == 0, r.stdout + r.stderr

    logs, ecr, ecs = emu.client('logs'), emu.client('ecr'), emu.client('ecs')
    logs.put_retention_policy(logGroupName='/batch/drift/1', retentionInDays=30)
    logs.delete_log_group(logGroupName='/batch/drift/2')
    arn = ecr.describe_repositories(repositoryNames=['batch-drift-1'])['repositories'][0][
        'repositoryArn']
    ecr.tag_resource(resourceArn=arn, tags=[{'Key': 'N', 'Value': 'moved'}])
    ecr.delete_repository(repositoryName='batch-drift-2')
    carn = ecs.describe_clusters(clusters=['batch-drift-0'])['clusters'][0]['clusterArn']
    ecs.tag_resource(resourceArn=carn, tags=[{'key': 'N', 'value': 'moved'}])
    ecs.delete_cluster(cluster='batch-drift-2')

    before = emu.control('calls')
    r = cairn('drift', str(tpl), '--json', *common)
    after = emu.control('calls')
    assert r.returncode == 2, r.stdout + r.stderr
    calls = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    # a gone repository fails the batch call: one listing page more
    assert calls.get('ecr:DescribeRepositories') == 2
    assert calls.get('ecs:DescribeClusters') == 1
    assert calls.get('logs:DescribeLogGroups') == 1
    res = {x['logical_id']: x for x in json.loads(r.stdout)['resources']}

    def status(lid):
        return res[lid]['status'] if lid in res else 'unchanged'

    def changed(lid):
        return {c['path']: str(c['live']) for c in res[lid]['changes']}
    assert status('Logs1') == 'drifted' and changed('Logs1') == {'RetentionInDays': '30'}
    assert status('Logs2') == 'gone'
    assert status('Repo1') == 'drifted'
    assert any('moved' in v for v in changed('Repo1').values()), changed('Repo1')
    assert status('Repo2') == 'gone'
    assert status('Cluster0') == 'drifted'
    assert any('moved' in v for v in changed('Cluster0').values()), changed('Cluster0')
    assert status('Cluster2') == 'gone'
    for lid in ('Logs0', 'Logs3', 'Repo0', 'Cluster1'):
        assert status(lid) == 'unchanged', res.get(lid)
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.returncode == 0, r.stderr
