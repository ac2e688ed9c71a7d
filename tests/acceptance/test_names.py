"""Generated names meet each service's rules (issue 9 item 4): resources
without a name in the template are applied under stack names that used to
break them (`sg` made the group name "sg-Sg-..." EC2 refuses; a 100-character
stack name; upper case, which ECR refuses), and the names AWS holds
(read through botocore) keep every service's length and character rules."""
import re

import pytest

from test_apply_stacks import inventory_counts

TEMPLATE = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: generated name
      VpcId: !Ref Vpc
  Repo:
    Type: AWS::ECR::Repository
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Action: "logs:CreateLogStream", Resource: "*"}
  Logs:
    Type: AWS::Logs::LogGroup
  Cluster:
    Type: AWS::ECS::Cluster
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString: {PasswordLength: 20}
"""

STACKS = ['sg', 'SG-Upper-Case',
          'S' + 'x123456789' * 9 + 'y12345678']   # 100 characters

RULES = {
    'group': (255, r'[^\s].*'),
    'repo': (256, r'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'),
    'role': (64, r'[\w+=,.@-]+'),
    'policy': (128, r'[\w+=,.@-]+'),
    'logs': (512, r'[.\-_/#A-Za-z0-9]+'),
    'cluster': (255, r'[a-zA-Z0-9_-]+'),
    'secret': (512, r'[A-Za-z0-9/_+=.@-]+'),
}


@pytest.mark.parametrize('stack', STACKS)
def test_generated_names_meet_service_rules(emu, cairn, stack):
    assert len(STACKS[2]) == 100
    emu.reset()
    tpl = cairn.tmp / 'names.yaml'
    tpl.write_text(TEMPLATE)
    common = [*cairn.endpoint, '--stack', stack, '--state', str(cairn.tmp / 'n.db')]
    a = cairn('apply', str(tpl), '--auto-approve', *common)
    assert a.rc == 0, a

    ec2 = emu.client('ec2')
    names = {
        'group': [g['GroupName'] for g in ec2.describe_security_groups()['SecurityGroups']
                  if g['GroupName'] != 'default'],
        'repo': [r['repositoryName'] for r in
                 emu.client('ecr').describe_repositories()['repositories']],
        'role': [r['RoleName'] for r in emu.client('iam').list_roles()['Roles']],
        'policy': [p['PolicyName'] for p in
                   emu.client('iam').list_policies(Scope='Local')['Policies']],
        'logs': [g['logGroupName'] for g in
                 emu.client('logs').describe_log_groups()['logGroups']],
        'cluster': [c.rsplit('/', 1)[1] for c in
                    emu.client('ecs').list_clusters()['clusterArns']],
        'secret': [s['Name'] for s in
                   emu.client('secretsmanager').list_secrets()['SecretList']],
    }
    # the emulator's account holds resources of its own: only the stack's
    # (each name starts with the stack name's first letters)
    head = stack[:2].lower()
    names = {k: [n for n in v if n.lower().startswith(head)] for k, v in names.items()}
    for what, found in names.items():
        assert len(found) == 1, (what, found)
        n = found[0]
        limit, pattern = RULES[what]
        assert len(n) <= limit and re.fullmatch(pattern, n), (what, n)
        # CloudFormation's shape: the stack's start, a 12-character tail
        assert re.fullmatch(r'.+-[A-Za-z0-9]{12}', n), (what, n)
        assert n.lower().startswith(stack[:2].lower()), (what, n)
    assert not names['group'][0].lower().startswith('sg-'), names['group']
    assert len(names['role'][0]) <= 64

    d = cairn('destroy', str(tpl), '--auto-approve', *common, timeout=120)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')
