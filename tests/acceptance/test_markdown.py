"""plan/drift --format markdown and graph --format mermaid, parsed: the
summary table against the JSON plan, the Mermaid diagram's nodes, classes
and edges against the graph, <details> sections per resource, and no secret
anywhere (a NoEcho parameter and a SecretString)."""
import json
import os
import re
import time

import pytest

from accept_util import SECRET, TOP

STACK = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
PARAMS = ['--param', 'PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w',
          '--param', 'PrefectApiKey=' + SECRET]


def mermaid_blocks(md):
    return re.findall(r'```mermaid\n(.*?)```', md, re.S)


def parse_mermaid(block):
    """node id -> (label, class), and the set of (from, to) edges."""
    nodes, edges = {}, set()
    for line in block.splitlines()[1:]:
        line = line.strip()
        m = re.fullmatch(r'(n\d+)\["([^"]*)"\](?::::(\w+))?', line)
        if m:
            nodes[m.group(1)] = (m.group(2).split('<br/>')[0], m.group(3))
            continue
        m = re.fullmatch(r'(n\d+) (?:-->|-\. "[^"]*" \.->) (n\d+)', line)
        if m:
            edges.add((m.group(1), m.group(2)))
            continue
        assert line.startswith('classDef ') or not line, line
    return nodes, edges


def test_graph_mermaid_matches_graph_json(cairn):
    j = json.loads(cairn('graph', STACK, '--format', 'json').out)
    r = cairn('graph', STACK, '--format', 'mermaid')
    assert r.rc == 0, r
    assert r.out.startswith('flowchart LR\n')
    nodes, edges = parse_mermaid(r.out)
    label = {n: lab for n, (lab, _) in nodes.items()}
    assert sorted(label.values()) == sorted(n['id'] for n in j['nodes'])
    got = {(label[a], label[b]) for a, b in edges}
    # an arrow from the dependency to its dependent
    want = {(e['to'], e['from']) for e in j['edges']}
    assert got == want
    bad = cairn('graph', STACK, '--format', 'svg')
    assert bad.rc == 2 and 'mermaid' in bad.err


def test_plan_markdown(emu, cairn):
    emu.reset()
    r = cairn('plan', STACK, '--format', 'markdown', *cairn.endpoint, *PARAMS)
    assert r.rc == 0, r
    md = r.out
    assert SECRET not in md and SECRET not in r.err
    plan = json.loads(cairn('plan', STACK, '--json', *cairn.endpoint, *PARAMS).out)
    changing = [x for x in plan['resources'] if x['action'] != 'no-op']
    rows = re.findall(r'^\| \+ create \| (\w+) \| (AWS::\S+) \|', md, re.M)
    assert sorted(rows) == sorted((x['logical_id'], x['type']) for x in changing)
    assert md.count('<details>') == len(changing) == md.count('</details>')
    assert f"**Plan: {len(changing)} to add" in md
    # the secret parameter flows into a secret resource: shown as (sensitive)
    assert '(sensitive)' in md
    [block] = mermaid_blocks(md)
    nodes, edges = parse_mermaid(block)
    assert {c for _, c in nodes.values()} == {'create'}
    assert 'classDef create' in block
    label = {n: lab for n, (lab, _) in nodes.items()}
    deps = {x['logical_id']: set(x.get('depends_on') or []) for x in plan['resources']}
    for a, b in edges:
        assert label[a] in deps[label[b]], (label[a], label[b])

    # applied, then one change: only that resource (and what it depends on)
    assert cairn('apply', STACK, '--auto-approve', *cairn.endpoint, *PARAMS).rc == 0
    time.sleep(0.5)      # past the emulator's visibility delay for reads
    r = cairn('plan', STACK, '--format', 'markdown', '--detailed-exitcode', *cairn.endpoint,
              *PARAMS)
    assert r.rc == 0 and 'No changes' in r.out and '```mermaid' not in r.out, r
    logs = emu.client('logs')
    for g in logs.describe_log_groups()['logGroups']:
        logs.put_retention_policy(logGroupName=g['logGroupName'], retentionInDays=1)
    r = cairn('plan', STACK, '--format', 'markdown', '--detailed-exitcode', *cairn.endpoint,
              *PARAMS)
    assert r.rc == 2, r
    [block] = mermaid_blocks(r.out)
    nodes, _ = parse_mermaid(block)
    updated = {lab for lab, c in nodes.values() if c == 'update'}
    assert updated and all('Log' in x for x in updated), nodes
    assert '```diff\n- RetentionInDays: 1' in r.out
    assert SECRET not in r.out

    # drift in Markdown: the same change, as recorded -> live
    d = cairn('drift', STACK, '--format', 'markdown', *cairn.endpoint)
    assert d.rc == 2, d
    assert '| drifted |' in d.out and 'RetentionInDays' in d.out and SECRET not in d.out
    [block] = mermaid_blocks(d.out)
    nodes, _ = parse_mermaid(block)
    assert {lab for lab, c in nodes.values() if c == 'drifted'} == updated


def test_drift_unmanaged(emu, cairn):
    emu.reset()
    tpl = cairn.tmp / 'net.yaml'
    tpl.write_text('Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n'
                   '    Properties: {CidrBlock: 10.3.0.0/16}\n')
    assert cairn('apply', str(tpl), '--auto-approve', *cairn.endpoint).rc == 0
    r = cairn('drift', str(tpl), '--unmanaged', *cairn.endpoint)
    assert r.rc == 0, r
    ec2 = emu.client('ec2')
    # left behind by a lost state: tagged for this stack, unknown to its state
    lost = ec2.create_vpc(CidrBlock='10.4.0.0/16', TagSpecifications=[{
        'ResourceType': 'vpc', 'Tags': [{'Key': 'cairn:stack', 'Value': 'net'},
                                        {'Key': 'cairn:logical-id', 'Value': 'OldVpc'}]}])
    lost_id = lost['Vpc']['VpcId']
    # another stack's resource is not ours
    ec2.create_vpc(CidrBlock='10.5.0.0/16', TagSpecifications=[{
        'ResourceType': 'vpc', 'Tags': [{'Key': 'cairn:stack', 'Value': 'other'}]}])
    time.sleep(0.5)      # past the emulator's visibility delay for listings
    r = cairn('drift', str(tpl), '--unmanaged', *cairn.endpoint)
    assert r.rc == 2, r
    assert lost_id in r.out and 'OldVpc' in r.out and r.out.count('unmanaged') == 1
    # a secret made by hand with the stack's tag (and one of a stack whose
    # name only starts the same)
    sm = emu.client('secretsmanager')
    arn = sm.create_secret(Name='by-hand', SecretString='x', Tags=[
        {'Key': 'cairn:stack', 'Value': 'net'}])['ARN']
    sm.create_secret(Name='other', SecretString='x', Tags=[
        {'Key': 'cairn:stack', 'Value': 'network'}])
    # (what was just made becomes visible to listings after the emulator's
    # eventual-consistency delay)
    deadline = time.time() + 10
    while True:
        m = cairn('drift', str(tpl), '--unmanaged', '--format', 'markdown', *cairn.endpoint)
        if m.out.count('| unmanaged |') >= 2 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert m.rc == 2 and f'| unmanaged | OldVpc | AWS::EC2::VPC | {lost_id} |' in m.out, m
    assert f'| AWS::SecretsManager::Secret | {arn} |' in m.out
    assert m.out.count('| unmanaged |') == 2
    # without --unmanaged nothing is searched
    assert cairn('drift', str(tpl), *cairn.endpoint).rc == 0


def test_drift_unmanaged_every_type(emu, cairn):
    """One tag:GetResources listing (100 a page) finds every tagged type; IAM
    roles (which that API does not list) through GetAccountAuthorizationDetails;
    with tag:GetResources refused, EC2, Secrets Manager, ECS and SSM are still
    searched through their own tag filters."""
    emu.reset()
    tpl = cairn.tmp / 'every.yaml'
    tpl.write_text('Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n'
                   '    Properties: {CidrBlock: 10.3.0.0/16}\n'
                   '  Logs:\n    Type: AWS::Logs::LogGroup\n')
    assert cairn('apply', str(tpl), '--auto-approve', *cairn.endpoint).rc == 0
    ours = [{'Key': 'cairn:stack', 'Value': 'every'}]
    other = [{'Key': 'cairn:stack', 'Value': 'other'}]
    iam, logs, ecr, ec2 = (emu.client(s) for s in ('iam', 'logs', 'ecr', 'ec2'))
    trust = json.dumps({'Version': '2012-10-17', 'Statement': [{
        'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
        'Action': 'sts:AssumeRole'}]})
    iam.create_role(RoleName='by-hand-role', AssumeRolePolicyDocument=trust,
                    Tags=ours + [{'Key': 'cairn:logical-id', 'Value': 'OldRole'}])
    iam.create_role(RoleName='other-role', AssumeRolePolicyDocument=trust, Tags=other)
    logs.create_log_group(logGroupName='/by/hand', tags={'cairn:stack': 'every'})
    logs.create_log_group(logGroupName='/other/stack', tags={'cairn:stack': 'other'})
    ecr.create_repository(repositoryName='by-hand-repo', tags=ours)
    vpc = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
    sg = ec2.create_security_group(
        GroupName='by-hand', Description='x', VpcId=vpc, TagSpecifications=[
            {'ResourceType': 'security-group', 'Tags': ours}])['GroupId']
    want = {('AWS::IAM::Role', 'by-hand-role'), ('AWS::Logs::LogGroup', '/by/hand'),
            ('AWS::ECR::Repository', 'by-hand-repo'), ('AWS::EC2::SecurityGroup', sg)}

    def get_resources(*args):
        before = emu.control('calls')
        r = cairn('drift', str(tpl), *args, *cairn.endpoint)
        after = emu.control('calls')
        return r, sum(after.get(k, 0) - before.get(k, 0)
                      for k in after if k.endswith(':GetResources'))

    def listed():
        deadline = time.time() + 10
        while True:
            r, pages = get_resources('--unmanaged', '--json')
            j = json.loads(r.out) if r.out.startswith('{') else {}
            got = {(u['type'], u['physical_id']) for u in j.get('unmanaged', [])}
            if len(got) >= len(want) or time.time() > deadline:
                # less the refresh's own listing (tags of log groups)
                return r, j, got, pages - get_resources()[1]

    def tagged_pages():
        n = 0
        for page in emu.client('resourcegroupstaggingapi').get_paginator(
                'get_resources').paginate(TagFilters=[{'Key': 'cairn:stack',
                                                       'Values': ['every']}]):
            n += len(page['ResourceTagMappingList'])
        return -(-n // 100)

    r, j, got, pages = listed()
    assert r.rc == 2, r
    assert got == want, (got, r)            # not the other stack's, not the state's
    assert j['drifted'] is True
    assert [u['logical_id'] for u in j['unmanaged'] if u['type'] == 'AWS::IAM::Role'] == ['OldRole']
    assert pages == tagged_pages() == 1, pages
    # human and markdown list the same four
    h = cairn('drift', str(tpl), '--unmanaged', *cairn.endpoint)
    assert h.rc == 2 and h.out.count('(unmanaged)') == 4, h
    assert all(i in h.out for _, i in want) and '/other/stack' not in h.out
    m = cairn('drift', str(tpl), '--unmanaged', '--format', 'markdown', *cairn.endpoint)
    assert m.rc == 2 and m.out.count('| unmanaged |') == 4, m
    assert f'| AWS::EC2::SecurityGroup | {sg} |' in m.out

    # 150 more log groups: two pages of 100, back to back
    for i in range(150):
        logs.create_log_group(logGroupName=f'/many/{i}', tags={'cairn:stack': 'every'})
    want |= {('AWS::Logs::LogGroup', f'/many/{i}') for i in range(150)}
    r, j, got, pages = listed()
    assert r.rc == 2 and got == want, r
    assert pages == tagged_pages() == 2, pages

    # tag:GetResources refused: EC2, Secrets Manager, ECS, SSM (and IAM)
    # still searched through their own tag filters
    sm = emu.client('secretsmanager')
    arn = sm.create_secret(Name='by-hand', SecretString='x', Tags=ours)['ARN']
    ecs, ssm = emu.client('ecs'), emu.client('ssm')
    ecs_ours = [{'key': 'cairn:stack', 'value': 'every'},
                {'key': 'cairn:logical-id', 'value': 'OldCluster'}]
    ecs.create_cluster(clusterName='by-hand-cluster', tags=ecs_ours)
    ecs.create_cluster(clusterName='other-cluster',
                       tags=[{'key': 'cairn:stack', 'value': 'other'}])
    ecs.register_task_definition(family='by-hand', requiresCompatibilities=['EC2'],
                                 networkMode='bridge', containerDefinitions=[
                                     {'name': 'app', 'image': 'busybox', 'memory': 64}])
    svc = ecs.create_service(cluster='by-hand-cluster', serviceName='by-hand-svc',
                             taskDefinition='by-hand', desiredCount=0, launchType='EC2',
                             tags=[{'key': 'cairn:stack', 'value': 'every'}])['service']
    ssm.put_parameter(Name='/by/hand', Value='x', Type='String',
                      Tags=ours + [{'Key': 'cairn:logical-id', 'Value': 'OldParam'}])
    ssm.put_parameter(Name='/other/param', Value='x', Type='String', Tags=other)
    emu.settle()
    emu.control('config', {'tagging_denied': True})
    try:
        want = {('AWS::IAM::Role', 'by-hand-role'), ('AWS::EC2::SecurityGroup', sg),
                ('AWS::SecretsManager::Secret', arn),
                ('AWS::ECS::Cluster', 'by-hand-cluster'),
                ('AWS::ECS::Service', svc['serviceArn']),
                ('AWS::SSM::Parameter', '/by/hand')}
        r, j, got, pages = listed()
        assert r.rc == 2 and got == want, (got ^ want, r)
        assert 'tag:GetResources refused' in r.err
        lids = {u['physical_id']: u['logical_id'] for u in j['unmanaged']}
        assert lids['by-hand-cluster'] == 'OldCluster' and lids['/by/hand'] == 'OldParam', lids
    finally:
        emu.control('config', {'tagging_denied': False})
