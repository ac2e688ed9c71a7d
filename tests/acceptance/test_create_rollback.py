"""A create that fails after its first call made the resource leaves
nothing behind (found by QA). A role whose managed policy attachment is
refused (PoliciesPerRole quota), a managed policy whose attachment to a role
is refused: before, each failed apply left one more role or policy in the
account under a fresh generated name, unknown to the state, so destroy
never removed them. Now the half-made resource is deleted again (as
CloudFormation's rollback does) and the error says so. Checked with
botocore."""
import json

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
