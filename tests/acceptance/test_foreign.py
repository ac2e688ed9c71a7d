"""Never take over what cairn did not create (issue 15 item 1).

Resources that already exist in the account under the template's fixed names
(made here with botocore, as another team or another tool would have) must
make apply fail with an error naming each of them and `cairn import`; they
must be left exactly as they were, destroy must not delete them, and
`cairn import` then takes them over on purpose. A resource tagged as this
stack's (what a run that stopped before recording it leaves) is adopted.
Everything is checked through botocore."""
import json
import time

STACK = 'fstack'

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: team-exec-role
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
  AppPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: shared-read
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:ListBucket
            Resource: "*"
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /shared/app
      RetentionInDays: 1
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: shared-repo
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterName: shared-cluster
"""

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})
DOC = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 'ec2:Describe*', 'Resource': '*'}]})


def _setup(cairn):
    tpl = cairn.tmp / 'foreign.yaml'
    tpl.write_text(TEMPLATE)
    return str(tpl), [*cairn.endpoint, '--stack', STACK, '--state',
                      str(cairn.tmp / 'foreign.db')]


def _precreate(emu, tags=()):
    """The five resources, as someone else made them; returns their ids."""
    tags = list(tags)
    iam = emu.client('iam')
    other = iam.create_policy(PolicyName='team-policy', PolicyDocument=DOC)['Policy']['Arn']
    iam.create_role(RoleName='team-exec-role', AssumeRolePolicyDocument=TRUST,
                    Tags=[{'Key': 'team', 'Value': 'data'}] + tags)
    iam.attach_role_policy(RoleName='team-exec-role', PolicyArn=other)
    iam.put_role_policy(RoleName='team-exec-role', PolicyName='team-inline',
                        PolicyDocument=DOC)
    shared = iam.create_policy(PolicyName='shared-read', PolicyDocument=DOC,
                               Tags=[{'Key': 'team', 'Value': 'data'}] + tags)['Policy']['Arn']
    iam.attach_role_policy(RoleName='team-exec-role', PolicyArn=shared)
    logs = emu.client('logs')
    logs.create_log_group(logGroupName='/shared/app', tags={'team': 'data', **{
        t['Key']: t['Value'] for t in tags}})
    logs.put_retention_policy(logGroupName='/shared/app', retentionInDays=3653)
    emu.client('ecr').create_repository(repositoryName='shared-repo',
                                        tags=[{'Key': 'team', 'Value': 'data'}] + tags)
    emu.client('ecs').create_cluster(clusterName='shared-cluster', tags=[
        {'key': 'team', 'value': 'data'}] + [{'key': t['Key'], 'value': t['Value']}
                                             for t in tags])
    # they exist before cairn runs, not a moment before (the emulator's
    # visibility delay hides resources younger than 0.2 s from cairn)
    time.sleep(0.5)
    return other, shared


def _snapshot(emu):
    """Everything about the five resources a takeover would change."""
    iam, logs = emu.client('iam'), emu.client('logs')
    role = iam.get_role(RoleName='team-exec-role')['Role']
    shared = [p for p in iam.list_policies(Scope='Local')['Policies']
              if p['PolicyName'] == 'shared-read'][0]
    group = [g for g in logs.describe_log_groups(logGroupNamePrefix='/shared/app')['logGroups']
             if g['logGroupName'] == '/shared/app'][0]
    repo = emu.client('ecr').describe_repositories(repositoryNames=['shared-repo'])['repositories'][0]
    cluster = emu.client('ecs').describe_clusters(clusters=['shared-cluster'],
                                                  include=['TAGS'])['clusters'][0]
    return {
        'role': (role['RoleId'], sorted((t['Key'], t['Value']) for t in role.get('Tags', []))),
        'attached': sorted(p['PolicyArn'] for p in iam.list_attached_role_policies(
            RoleName='team-exec-role')['AttachedPolicies']),
        'inline': sorted(iam.list_role_policies(RoleName='team-exec-role')['PolicyNames']),
        'policy': (shared['PolicyId'], shared['DefaultVersionId'],
                   sorted((t['Key'], t['Value']) for t in iam.get_policy(
                       PolicyArn=shared['Arn'])['Policy'].get('Tags', []))),
        'policy_entities': sorted(r['RoleName'] for r in iam.list_entities_for_policy(
            PolicyArn=shared['Arn'])['PolicyRoles']),
        'retention': group.get('retentionInDays'),
        'group_tags': logs.list_tags_for_resource(
            resourceArn=group['arn'].rstrip('*').rstrip(':'))['tags'],
        'repo': (repo['repositoryArn'], emu.client('ecr').list_tags_for_resource(
            resourceArn=repo['repositoryArn'])['tags']),
        'cluster': (cluster['status'], sorted((t['key'], t['value'])
                                              for t in cluster.get('tags', []))),
    }


def test_existing_resources_are_refused_left_alone_and_importable(emu, cairn):
    emu.reset()
    tpl, common = _setup(cairn)
    other, shared = _precreate(emu)
    before = _snapshot(emu)
    assert before['retention'] == 3653 and len(before['attached']) == 2

    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 1, r
    text = r.out + r.err
    for lid, typ, phys in (('AppRole', 'AWS::IAM::Role', 'team-exec-role'),
                           ('AppPolicy', 'AWS::IAM::ManagedPolicy', shared),
                           ('Logs', 'AWS::Logs::LogGroup', '/shared/app'),
                           ('Repo', 'AWS::ECR::Repository', 'shared-repo'),
                           ('Cluster', 'AWS::ECS::Cluster', 'shared-cluster')):
        assert f'{typ} {lid}: "{phys}" already exists' in text, (lid, r)
        assert f'cairn import {lid} {phys} --template {tpl}' in text, (lid, r)
    # running again would not help: the summary says what would
    assert 'Import or rename the existing resources' in text, r
    assert _snapshot(emu) == before

    # a second apply (the failed creates are now "uncertain": find first)
    # refuses the same way and still changes nothing
    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 1 and 'cairn import AppRole' in r.out + r.err, r
    assert _snapshot(emu) == before

    d = cairn('destroy', tpl, '--auto-approve', *common)
    assert d.rc == 0, d
    assert _snapshot(emu) == before

    # taken over on purpose: import, then apply converges to the template
    for lid, phys in (('AppRole', 'team-exec-role'), ('AppPolicy', shared),
                      ('Logs', '/shared/app'), ('Repo', 'shared-repo'),
                      ('Cluster', 'shared-cluster')):
        i = cairn('import', lid, phys, '--template', tpl, *common)
        assert i.rc == 0, (lid, i)
    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a
    after = _snapshot(emu)
    assert after['retention'] == 1
    assert after['role'][0] == before['role'][0]  # the same role, not a new one
    assert cairn('plan', tpl, *common, '--detailed-exitcode').rc == 0


def test_resource_tagged_for_this_stack_is_adopted(emu, cairn):
    """What a run that stopped before recording leaves carries this stack's
    tags: adopted in place (same ids), and brought to the template."""
    emu.reset()
    tpl, common = _setup(cairn)
    _precreate(emu, tags=[{'Key': 'cairn:stack', 'Value': STACK}])
    # the tags must name the very resource: add cairn:logical-id per resource
    iam, logs = emu.client('iam'), emu.client('logs')
    iam.tag_role(RoleName='team-exec-role',
                 Tags=[{'Key': 'cairn:logical-id', 'Value': 'AppRole'}])
    shared = [p for p in iam.list_policies(Scope='Local')['Policies']
              if p['PolicyName'] == 'shared-read'][0]['Arn']
    iam.tag_policy(PolicyArn=shared, Tags=[{'Key': 'cairn:logical-id', 'Value': 'AppPolicy'}])
    arn = logs.describe_log_groups(logGroupNamePrefix='/shared/app')['logGroups'][0]['arn']
    logs.tag_resource(resourceArn=arn.rstrip('*').rstrip(':'),
                      tags={'cairn:logical-id': 'Logs'})
    ecr = emu.client('ecr')
    repo = ecr.describe_repositories(repositoryNames=['shared-repo'])['repositories'][0]
    ecr.tag_resource(resourceArn=repo['repositoryArn'],
                     tags=[{'Key': 'cairn:logical-id', 'Value': 'Repo'}])
    ecs = emu.client('ecs')
    carn = ecs.describe_clusters(clusters=['shared-cluster'])['clusters'][0]['clusterArn']
    ecs.tag_resource(resourceArn=carn, tags=[{'key': 'cairn:logical-id', 'value': 'Cluster'}])
    before = _snapshot(emu)

    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 0, r
    after = _snapshot(emu)
    assert after['role'][0] == before['role'][0]
    assert after['policy'][0] == before['policy'][0]
    assert after['repo'][0] == before['repo'][0]
    assert after['retention'] == 1
    p = cairn('plan', tpl, *common, '--detailed-exitcode')
    assert p.rc == 0, p.out
    d = cairn('destroy', tpl, '--auto-approve', *common)
    assert d.rc == 0, d
    assert emu.client('ecr').describe_repositories()['repositories'] == []


def test_tagged_for_another_resource_is_refused(emu, cairn):
    """cairn:stack alone is not enough: the tags must name this resource."""
    emu.reset()
    tpl, common = _setup(cairn)
    emu.client('logs').create_log_group(
        logGroupName='/shared/app', tags={'cairn:stack': STACK, 'cairn:logical-id': 'Other'})
    emu.client('logs').put_retention_policy(logGroupName='/shared/app', retentionInDays=3653)
    time.sleep(0.5)
    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 1, r
    assert 'AWS::Logs::LogGroup Logs: "/shared/app" already exists and belongs to another' \
        in r.out + r.err, r
    g = emu.client('logs').describe_log_groups(logGroupNamePrefix='/shared/app')['logGroups'][0]
    assert g['retentionInDays'] == 3653


INLINE_TPL = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Extra:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: shared-role
      PolicyName: team-inline
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""


def test_inline_policy_of_another_is_not_overwritten(emu, cairn):
    """Inline policies carry no tags: one already on the role under that
    name with another document is someone else's, never overwritten."""
    emu.reset()
    iam = emu.client('iam')
    iam.create_role(RoleName='shared-role', AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName='shared-role', PolicyName='team-inline', PolicyDocument=DOC)
    time.sleep(0.5)
    tpl = cairn.tmp / 'inline.yaml'
    tpl.write_text(INLINE_TPL)
    r = cairn('apply', str(tpl), '--auto-approve', *cairn.endpoint, '--state',
              str(cairn.tmp / 'inline.db'))
    assert r.rc == 1, r
    text = r.out + r.err
    assert 'already has an inline policy "team-inline"' in text, r
    assert 'cairn import Extra team-inline|shared-role' in text, r
    got = iam.get_role_policy(RoleName='shared-role', PolicyName='team-inline')
    assert got['PolicyDocument'] == json.loads(DOC)
