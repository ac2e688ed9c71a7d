"""A create that fails after its first call made the resource leaves
nothing behind (found by QA). A role whose managed policy attachment is
refused (PoliciesPerRole quota), a managed policy whose attachment to a role
is refused: before, each failed apply left one more role or policy in the
account under a fresh generated name, unknown to the state, so destroy
never removed them. Now the half-made resource is deleted again (as
CloudFormation's rollback does) and the error says so. Checked with
botocore.

The same for the other creates of several calls, with the emulator's
error_rate keyed per operation refusing the second call: a log group whose
PutRetentionPolicy fails, an ECR repository whose PutLifecyclePolicy fails,
an S3 bucket whose PutBucketTagging fails, a key pair whose private key
cannot be stored in SSM, an instance profile whose role is refused. Before, the group or repository
stayed, and the next apply of a named one met ResourceAlreadyExists."""
import json

import pytest

POLICIES = ['AmazonS3ReadOnlyAccess', 'AmazonEC2ReadOnlyAccess', 'AmazonSQSReadOnlyAccess',
            'AmazonSNSReadOnlyAccess', 'AmazonDynamoDBReadOnlyAccess',
            'CloudWatchReadOnlyAccess', 'AmazonRDSReadOnlyAccess', 'IAMReadOnlyAccess',
            'AmazonVPCReadOnlyAccess', 'AmazonECS_FullAccess', 'AWSLambda_ReadOnlyAccess']
TRUST = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]}

ROLE_TEMPLATE = """\
Resources:
  Busy:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: %s
      ManagedPolicyArns: %s
""" % (json.dumps(TRUST), json.dumps(['arn:aws:iam::aws:policy/' + p for p in POLICIES]))

POLICY_TEMPLATE = """\
Resources:
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [rollback-full-role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Action: "s3:ListBucket", Resource: "*"}]
"""


def _roles(iam, prefix):
    return [r['RoleName'] for p in iam.get_paginator('list_roles').paginate()
            for r in p['Roles'] if r['RoleName'].startswith(prefix)]


def _policies(iam, prefix):
    return [x['PolicyName'] for p in iam.get_paginator('list_policies').paginate(Scope='Local')
            for x in p['Policies'] if x['PolicyName'].startswith(prefix)]


def test_failed_role_create_leaves_no_role(emu, cairn):
    iam = emu.client('iam')
    (cairn.tmp / 'busy.yaml').write_text(ROLE_TEMPLATE)
    common = [*cairn.endpoint, '--stack', 'rb', '--state', str(cairn.tmp / 'rb.db')]
    for attempt in (1, 2):
        r = cairn('apply', 'busy.yaml', '--auto-approve', *common)
        assert r.rc == 1 and 'LimitExceeded' in r.err, r
        assert 'was deleted again' in r.err, r
        assert _roles(iam, 'rb-Busy-') == [], attempt
    d = cairn('destroy', 'busy.yaml', '--auto-approve', *common)
    assert d.rc == 0, d
    assert _roles(iam, 'rb-Busy-') == []


def test_failed_managed_policy_create_leaves_no_policy(emu, cairn):
    iam = emu.client('iam')
    # someone else's role that already holds the 10 managed policies it may
    iam.create_role(RoleName='rollback-full-role', AssumeRolePolicyDocument=json.dumps(TRUST))
    for p in POLICIES[:10]:
        iam.attach_role_policy(RoleName='rollback-full-role',
                               PolicyArn='arn:aws:iam::aws:policy/' + p)
    emu.settle()
    (cairn.tmp / 'extra.yaml').write_text(POLICY_TEMPLATE)
    common = [*cairn.endpoint, '--stack', 'rbp', '--state', str(cairn.tmp / 'rbp.db')]
    r = cairn('apply', 'extra.yaml', '--auto-approve', *common)
    assert r.rc == 1 and 'LimitExceeded' in r.err, r
    assert 'was deleted again' in r.err, r
    assert _policies(iam, 'rbp-Extra-') == []
    # the other team's role is as it was
    assert len(iam.list_attached_role_policies(
        RoleName='rollback-full-role')['AttachedPolicies']) == 10


# ---- log groups, repositories, buckets: the second call refused

FAST = {'CAIRN_AWS_RETRY_BASE_MS': '5'}

LOGS_TEMPLATE = """\
Resources:
  Lg:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /rollback/named, RetentionInDays: 14}
"""

ECR_TEMPLATE = """\
Resources:
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: rollback-repo
      LifecyclePolicy:
        LifecyclePolicyText: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}'
"""

BUCKET_TEMPLATE = """\
Resources:
  Store:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
"""


KEY_TEMPLATE = """\
Resources:
  Key:
    Type: AWS::EC2::KeyPair
    Properties: {KeyName: rollback-key}
"""

PROFILE_TEMPLATE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: %s
  Prof:
    Type: AWS::IAM::InstanceProfile
    Properties: {Roles: [!Ref Role]}
""" % json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ec2.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})


def _key_pairs(emu, name):
    return [k['KeyName'] for k in emu.client('ec2').describe_key_pairs()['KeyPairs']
            if k['KeyName'] == name]


def _profiles(emu, prefix):
    return [p['InstanceProfileName'] for p in
            emu.client('iam').list_instance_profiles()['InstanceProfiles']
            if p['InstanceProfileName'].startswith(prefix)]


def _log_groups(emu, prefix):
    return [g['logGroupName'] for g in
            emu.client('logs').describe_log_groups(logGroupNamePrefix=prefix)['logGroups']]


def _repos(emu, name):
    return [r['repositoryName'] for r in emu.client('ecr').describe_repositories()['repositories']
            if r['repositoryName'] == name]


def _buckets(emu, part):
    return [b['Name'] for b in emu.client('s3').list_buckets()['Buckets'] if part in b['Name']]


CASES = {
    'logs': (LOGS_TEMPLATE, 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup', 'log group',
             lambda emu: _log_groups(emu, '/rollback/')),
    'ecr': (ECR_TEMPLATE, 'ecr:PutLifecyclePolicy', 'ecr:DeleteRepository', 'repository',
            lambda emu: _repos(emu, 'rollback-repo')),
    'keypair': (KEY_TEMPLATE, 'ssm:PutParameter', 'ec2:DeleteKeyPair', 'key pair',
                lambda emu: _key_pairs(emu, 'rollback-key')),
    'profile': (PROFILE_TEMPLATE, 'iam:AddRoleToInstanceProfile', 'iam:DeleteInstanceProfile',
                'instance profile', lambda emu: _profiles(emu, 'rbprofile-Prof-')),
    's3': (BUCKET_TEMPLATE, 's3:PutBucketTagging', 's3:DeleteBucket', 'bucket',
           lambda emu: _buckets(emu, '-store-')),
}


@pytest.mark.parametrize('kind', sorted(CASES))
def test_second_call_refused_leaves_nothing(emu, cairn, kind):
    tpl, refused, delete_op, what, live = CASES[kind]
    (cairn.tmp / 't.yaml').write_text(tpl)
    common = [*cairn.endpoint, '--stack', f'rb{kind}', '--state', str(cairn.tmp / 'r.db')]
    emu.control('config', {'error_rate': {refused: 1.0}})
    try:
        for attempt in (1, 2):
            emu.control('calls', method='DELETE')
            r = cairn('apply', 't.yaml', '--auto-approve', *common, extra_env=FAST)
            assert r.rc == 1, r
            # the cause, then what became of the half-made resource
            assert 'InternalError' in r.err or 'ServiceUnavailable' in r.err or \
                'InternalFailure' in r.err, r
            assert f'the {what} ' in r.err and 'was deleted again' in r.err, r
            # never AlreadyExists on the second attempt: nothing was left
            assert 'AlreadyExists' not in r.err and 'already exists' not in r.err, r
            assert emu.control('calls').get(delete_op, 0) >= 1
            assert live(emu) == [], attempt
    finally:
        emu.control('config', {'error_rate': {}})
    r = cairn('apply', 't.yaml', '--auto-approve', *common, extra_env=FAST)
    assert r.rc == 0, r
    assert len(live(emu)) == 1
    if kind == 'logs':
        g = emu.client('logs').describe_log_groups(logGroupNamePrefix='/rollback/')
        assert g['logGroups'][0]['retentionInDays'] == 14
    if kind == 'ecr':
        assert 'untagged' in emu.client('ecr').get_lifecycle_policy(
            repositoryName='rollback-repo')['lifecyclePolicyText']
    d = cairn('destroy', 't.yaml', '--auto-approve', *common)
    assert d.rc == 0, d
    assert live(emu) == []
