"""Batched refresh reads past one page (issue 12, items 1 and 5): a stack
big enough that each batched read needs more than one call (91 log groups:
two DescribeLogGroups of 50; 22 ECS services: three DescribeServices of 10;
113 log groups and repositories: two tag:GetResources pages of 100) is read
in exactly the calls AWS's page sizes and id limits imply, counted by the
emulator (/_emulator/calls), for a no-change plan and for drift. A refresh
that fell back to one call per resource, dropped the second page of a
listing or split batches smaller than the API allows fails here; the
counts are derived from the template, not written down."""
import collections
import math
import os
import re
import subprocess
import sys

import pytest

from accept_util import TOP, apply_backdated

N = 230
STACK = 'pages'

# the most ids / entries one call takes (AWS API references; the emulator
# enforces the same limits)
PER_CALL = {
    'AWS::Logs::LogGroup': 50,          # DescribeLogGroups logGroupIdentifiers
    'AWS::ECS::Service': 10,            # DescribeServices services
    'AWS::ECR::Repository': 100,        # DescribeRepositories repositoryNames
    'AWS::SecretsManager::Secret': 100,  # ListSecrets MaxResults
    'AWS::EC2::Subnet': 100,            # refresh's EC2 id batches
}
TAG_PAGE = 100  # tag:GetResources ResourcesPerPage

# per-resource reads the listings replace: none may appear
POINT_READS = ('logs:ListTagsForResource', 'ecr:ListTagsForResource',
               'ecs:ListTagsForResource', 'iam:GetRole', 'iam:ListRolePolicies',
               'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies',
               'secretsmanager:DescribeSecret', 'ecr:GetLifecyclePolicy',
               'ecr:GetRepositoryPolicy')


def _delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


@pytest.fixture(scope='module')
def stack(tmp_path_factory):
    d = tmp_path_factory.mktemp('pages')
    tpl = d / 'mixed.yaml'
    with open(tpl, 'w') as f:
        subprocess.run([sys.executable, os.path.join(TOP, 'bench', 'gen_stack.py'),
                        '--mixed', str(N)], stdout=f, check=True)
    return tpl


@pytest.fixture(scope='module')
def types(stack):
    return collections.Counter(re.findall(r'^    Type: (AWS::\S+)$', stack.read_text(),
                                          re.M))


@pytest.fixture(scope='module')
def applied(emu, stack, tmp_path_factory):
    """Applied once, stamped 15 minutes ago (the secrets listing trusts
    entries older than five minutes; docs/batched-reads.md)."""
    return apply_backdated(emu, stack, STACK, tmp_path_factory.mktemp('pagesstate'),
                           timeout=900)


def _expected(types):
    lg, repos = types['AWS::Logs::LogGroup'], types['AWS::ECR::Repository']
    want = {
        'logs:DescribeLogGroups': math.ceil(lg / PER_CALL['AWS::Logs::LogGroup']),
        'ecs:DescribeServices': math.ceil(types['AWS::ECS::Service'] /
                                          PER_CALL['AWS::ECS::Service']),
        'ecr:DescribeRepositories': math.ceil(repos / PER_CALL['AWS::ECR::Repository']),
        'secretsmanager:ListSecrets': math.ceil(types['AWS::SecretsManager::Secret'] /
                                                PER_CALL['AWS::SecretsManager::Secret']),
        'ec2:DescribeSubnets': math.ceil(types['AWS::EC2::Subnet'] /
                                         PER_CALL['AWS::EC2::Subnet']),
        'resourcegroupstaggingapi:GetResources': math.ceil((lg + repos) / TAG_PAGE),
        # every role of the (small) account in one page of 1000
        'iam:GetAccountAuthorizationDetails': 1,
    }
    return want


def test_the_stack_needs_several_pages(types):
    # the premise: otherwise the counts below prove nothing about paging
    assert types['AWS::Logs::LogGroup'] > PER_CALL['AWS::Logs::LogGroup'], types
    assert types['AWS::ECS::Service'] > 2 * PER_CALL['AWS::ECS::Service'], types
    assert types['AWS::Logs::LogGroup'] + types['AWS::ECR::Repository'] > TAG_PAGE, types
    assert sum(types.values()) == N


@pytest.mark.parametrize('command', ['plan', 'drift'])
def test_reads_take_the_calls_the_page_sizes_imply(emu, stack, types, applied, cairn,
                                                   command):
    args = [command, str(stack), '--stack', STACK, '--endpoint-url', emu.url,
            '--state', applied]
    if command == 'plan':
        args.append('--detailed-exitcode')
    before = emu.control('calls')
    r = cairn(*args)
    d = _delta(before, emu.control('calls'))
    assert r.rc == 0, r
    for op, n in _expected(types).items():
        assert d.get(op, 0) == n, (op, n, d)
    assert not [op for op in POINT_READS if op in d], d
    # everything else: a handful of calls for the few single resources (the
    # VPC and its attributes, the cluster, the task definition, the managed
    # policy's three reads, the security groups' one or two Describe calls)
    rest = sum(v for k, v in d.items() if k not in _expected(types))
    assert rest <= 15, d
    # against one call per resource (the reads before batching: several)
    assert sum(d.values()) <= N // 8, d


def test_no_tag_listing_without_types_that_need_it(emu, cairn, tmp_path):
    """The tag listing serves only log groups and repositories (the other
    types' reads carry their tags): a stack with neither makes no
    tag:GetResources call at all."""
    tpl = tmp_path / 'net.yaml'
    tpl.write_text('Resources:\n'
                   '  Vpc:\n    Type: AWS::EC2::VPC\n'
                   '    Properties:\n      CidrBlock: 10.9.0.0/16\n'
                   '  Sg:\n    Type: AWS::EC2::SecurityGroup\n'
                   '    Properties:\n      GroupDescription: no tags listing\n'
                   '      VpcId: !Ref Vpc\n')
    state = str(tmp_path / 'net.db')
    common = ['--stack', 'notags', '--endpoint-url', emu.url, '--state', state]
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    before = emu.control('calls')
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    d = _delta(before, emu.control('calls'))
    assert r.rc == 0, r
    assert d.get('ec2:DescribeVpcs') and d.get('ec2:DescribeSecurityGroups'), d
    assert 'resourcegroupstaggingapi:GetResources' not in d, d
