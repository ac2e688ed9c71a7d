"""Never take over what cairn did not create, for the types added after
issue 15 (test_foreign.py covers roles, managed policies, log groups,
repositories and clusters): S3 buckets, bucket policies, SSM parameters, EC2
key pairs, IAM instance profiles and OIDC providers.

Each resource is made first with botocore, as another team would have, under
the name the template gives. apply must fail naming it with the `cairn
import` command to paste, and leave it exactly as it was (tags, policy,
contents, creation date, value); destroy must leave it; import then apply
converges. S3 is the hard case: CreateBucket takes no tags and answers a
bucket the account already owns with BucketAlreadyOwnedByYou (us-east-1: with
200), the same answer a resent create whose first answer was lost gets. So
the lost-answer and stopped-run cases are tested too: what cairn made itself
is still adopted, and a bare bucket older than the stopped run's intent is
not."""
import json
import time

import botocore.exceptions
import pytest

STACK = 'f2stack'

BUCKET_TPL = """\
Resources:
  Bare:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {bare}
      VersioningConfiguration: {{Status: Enabled}}
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {data}
      Tags: [{{Key: app, Value: mine}}]
"""

POLICY = {'Version': '2012-10-17', 'Statement': [{
    'Sid': 'TeamRead', 'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::123456789012:root'},
    'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::{b}/*'}]}


def _common(cairn, name):
    return [*cairn.endpoint, '--stack', STACK, '--state', str(cairn.tmp / f'{name}.db')]


def _bucket_snapshot(s3, name):
    """Everything about a bucket a takeover would change."""
    created = [b['CreationDate'] for b in s3.list_buckets()['Buckets'] if b['Name'] == name]
    try:
        tags = sorted((t['Key'], t['Value'])
                      for t in s3.get_bucket_tagging(Bucket=name)['TagSet'])
    except botocore.exceptions.ClientError as e:
        assert e.response['Error']['Code'] == 'NoSuchTagSet', e
        tags = []
    try:
        policy = s3.get_bucket_policy(Bucket=name)['Policy']
    except botocore.exceptions.ClientError as e:
        assert e.response['Error']['Code'] == 'NoSuchBucketPolicy', e
        policy = None
    return {
        'created': created,
        'tags': tags,
        'policy': policy,
        'versioning': s3.get_bucket_versioning(Bucket=name).get('Status'),
        'objects': sorted(o['Key'] for o in s3.list_objects_v2(Bucket=name).get('Contents', [])),
    }


def _make_bucket(s3, name, region):
    if region == 'us-east-1':
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={'LocationConstraint': region})


@pytest.mark.parametrize('region', ['us-east-1', 'eu-west-1'])
def test_existing_bucket_is_refused_left_alone_and_importable(emu, cairn, region):
    """A same-account bucket of the template's name: S3 answers
    BucketAlreadyOwnedByYou (us-east-1: 200), which must not be taken for
    cairn's own lost answer, even for a bare, empty bucket made a moment
    ago."""
    emu.reset()
    s3 = emu.client('s3', region=region)
    bare, data = f'team-bare-{region}', f'team-data-{region}'
    _make_bucket(s3, bare, region)
    _make_bucket(s3, data, region)
    s3.put_bucket_tagging(Bucket=data, Tagging={'TagSet': [{'Key': 'team', 'Value': 'data'}]})
    s3.put_bucket_policy(Bucket=data, Policy=json.dumps(POLICY).replace('{b}', data))
    s3.put_object(Bucket=data, Key='reports/q1.csv', Body=b'1,2,3')
    # AWS's answers to a second create, which the emulator must give too
    for name in (bare, data):
        if region == 'us-east-1':
            s3.create_bucket(Bucket=name)          # the legacy 200
        else:
            with pytest.raises(botocore.exceptions.ClientError) as e:
                _make_bucket(s3, name, region)
            assert e.value.response['Error']['Code'] == 'BucketAlreadyOwnedByYou'
            assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 409
    time.sleep(0.5)
    before = {b: _bucket_snapshot(s3, b) for b in (bare, data)}
    assert before[data]['objects'] == ['reports/q1.csv'] and before[data]['policy']

    tpl = cairn.tmp / 'buckets.yaml'
    tpl.write_text(BUCKET_TPL.format(bare=bare, data=data))
    common = _common(cairn, f'b-{region}')
    env = {'AWS_REGION': region}
    r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
    assert r.rc == 1, r
    text = r.out + r.err
    for lid, name in (('Bare', bare), ('Data', data)):
        assert f'AWS::S3::Bucket {lid}: "{name}" already exists' in text, (lid, r)
        assert f'cairn import {lid} {name} --template {tpl}' in text, (lid, r)
    assert {b: _bucket_snapshot(s3, b) for b in (bare, data)} == before

    # again (the failed creates are now "uncertain": find first): same
    r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
    assert r.rc == 1 and f'cairn import Bare {bare}' in r.out + r.err, r
    assert {b: _bucket_snapshot(s3, b) for b in (bare, data)} == before

    d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=env)
    assert d.rc == 0, d
    assert {b: _bucket_snapshot(s3, b) for b in (bare, data)} == before

    # taken over on purpose: import, then apply converges
    for lid, name in (('Bare', bare), ('Data', data)):
        i = cairn('import', lid, name, '--template', str(tpl), *common, extra_env=env)
        assert i.rc == 0, (lid, i)
    a = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
    assert a.rc == 0, a
    after = {b: _bucket_snapshot(s3, b) for b in (bare, data)}
    assert after[bare]['versioning'] == 'Enabled'
    assert ('app', 'mine') in after[data]['tags'] and ('cairn:stack', STACK) in after[data]['tags']
    assert after[data]['objects'] == before[data]['objects']      # the same bucket
    assert after[data]['created'] == before[data]['created']
    p = cairn('plan', str(tpl), *common, '--detailed-exitcode', extra_env=env)
    assert p.rc == 0, p
    s3.delete_object(Bucket=data, Key='reports/q1.csv')
    d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=env)
    assert d.rc == 0, d
    assert not [b for b in s3.list_buckets()['Buckets'] if b['Name'] in (bare, data)]


def test_bucket_of_another_account_is_a_clear_error(emu, cairn):
    """Bucket names are global: another account's answers 403 to HeadBucket
    and BucketAlreadyExists (409) to CreateBucket, as on AWS."""
    emu.reset()
    emu.control('config', {'credentials': {'AKIAOTHERACCOUNT0001': {
        'secret': 'other', 'account': '210987654321'}}})
    other = emu.client('s3', access_key='AKIAOTHERACCOUNT0001', secret_key='other')
    other.create_bucket(Bucket='globally-taken')
    s3 = emu.client('s3')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket='globally-taken')
    assert e.value.response['Error']['Code'] == 'BucketAlreadyExists'
    assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 409
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket='globally-taken')
    assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 403
    assert 'globally-taken' not in [b['Name'] for b in s3.list_buckets()['Buckets']]
    tpl = cairn.tmp / 'taken.yaml'
    tpl.write_text('Resources:\n  B:\n    Type: AWS::S3::Bucket\n'
                   '    Properties: {BucketName: globally-taken}\n')
    r = cairn('apply', str(tpl), '--auto-approve', *_common(cairn, 'taken'))
    assert r.rc == 1, r
    assert 'globally-taken' in r.err and 'another account' in r.err, r
    assert 'cairn import' not in r.err, r     # nothing of this account to import
    assert other.get_bucket_versioning(Bucket='globally-taken').get('Status') is None


LOST_TPL = """\
Resources:
  Mine:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {name}
      Tags: [{{Key: app, Value: mine}}]
"""


@pytest.mark.parametrize('region', ['us-east-1', 'eu-west-1'])
def test_bucket_whose_create_answer_was_lost_is_adopted(emu, cairn, region):
    """Every CreateBucket answer lost (applied, then the connection closed):
    the client's resend gets BucketAlreadyOwnedByYou (us-east-1: 200, lost
    again). The bucket was not there before this create: it is cairn's."""
    emu.reset()
    name = f'lost-answer-{region}'
    tpl = cairn.tmp / 'lost.yaml'
    tpl.write_text(LOST_TPL.format(name=name))
    common = _common(cairn, f'lost-{region}')
    env = {'AWS_REGION': region}
    s3 = emu.client('s3', region=region)
    emu.control('config', {'drop_after_rate': {'s3:CreateBucket': 1.0}})
    try:
        r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
    finally:
        emu.control('config', {'drop_after_rate': 0.0})
    assert r.rc == 0, r
    assert emu.control('calls').get('s3:CreateBucket', 0) >= 2
    snap = _bucket_snapshot(s3, name)
    assert ('cairn:stack', STACK) in snap['tags'] and ('app', 'mine') in snap['tags'], snap
    p = cairn('plan', str(tpl), *common, '--detailed-exitcode', extra_env=env)
    assert p.rc == 0, p
    d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=env)
    assert d.rc == 0, d
    assert name not in [b['Name'] for b in s3.list_buckets()['Buckets']]


def _crash_then_untag(emu, cairn, tpl, common, env):
    """A run killed right after the bucket was made (its intent stays open);
    the tags removed, as a run stopped between CreateBucket and
    PutBucketTagging leaves it."""
    r = cairn('apply', str(tpl), '--auto-approve', *common,
              extra_env={**env, 'CAIRN_TEST_CRASH_AFTER': 'Mine'})
    assert r.rc != 0, r
    s3 = emu.client('s3', region=env['AWS_REGION'])
    s3.delete_bucket_tagging(Bucket='stopped-run')
    return s3


@pytest.mark.parametrize('skew', [0, -420, 420])
def test_bare_bucket_of_a_stopped_run_is_adopted(emu, cairn, skew):
    """CreateBucket takes no tags: a run stopped before PutBucketTagging
    leaves a bare bucket. It is adopted when it was created after the open
    intent and is still empty, also when S3's clock differs from cairn's
    (the emulator's clock moved by `skew` seconds, within S3's 15 minutes)."""
    emu.reset()
    tpl = cairn.tmp / 'stopped.yaml'
    tpl.write_text(LOST_TPL.format(name='stopped-run'))
    common = _common(cairn, f'stopped{skew}')
    env = {'AWS_REGION': 'eu-west-1'}
    emu.control('config', {'server_clock_offset': skew, 'clock_offset': skew})
    try:
        s3 = _crash_then_untag(emu, cairn, tpl, common, env)
        assert _bucket_snapshot(s3, 'stopped-run')['tags'] == []
        r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
        assert r.rc == 0, r
        assert ('cairn:logical-id', 'Mine') in _bucket_snapshot(s3, 'stopped-run')['tags']
        d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=env)
        assert d.rc == 0, d
    finally:
        emu.control('config', {'server_clock_offset': 0, 'clock_offset': 0})
    assert 'stopped-run' not in [b['Name'] for b in s3.list_buckets()['Buckets']]


@pytest.mark.parametrize('case', ['older', 'has-object'])
def test_bare_bucket_not_made_by_the_stopped_run_is_refused(emu, cairn, case):
    """The same open intent, but the bare bucket there now predates it (made
    two minutes before, by someone else) or holds an object: not the
    stopped run's; refused, left alone, and destroy leaves it too."""
    emu.reset()
    tpl = cairn.tmp / 'stopped.yaml'
    tpl.write_text(LOST_TPL.format(name='stopped-run'))
    common = _common(cairn, f'refused-{case}')
    env = {'AWS_REGION': 'eu-west-1'}
    s3 = _crash_then_untag(emu, cairn, tpl, common, env)
    if case == 'older':
        s3.delete_bucket(Bucket='stopped-run')
        # two minutes before the intent: within S3's signature window,
        # so only S3's own clock (the Date header) tells it apart
        emu.control('config', {'clock_offset': -120})
        try:
            _make_bucket(s3, 'stopped-run', 'eu-west-1')
        finally:
            emu.control('config', {'clock_offset': 0})
    else:
        s3.put_object(Bucket='stopped-run', Key='theirs.txt', Body=b'x')
    before = _bucket_snapshot(s3, 'stopped-run')
    r = cairn('apply', str(tpl), '--auto-approve', *common, extra_env=env)
    assert r.rc == 1, r
    assert 'AWS::S3::Bucket Mine: "stopped-run" already exists' in r.err, r
    assert 'cairn import Mine stopped-run' in r.err, r
    assert _bucket_snapshot(s3, 'stopped-run') == before
    d = cairn('destroy', str(tpl), '--auto-approve', *common, extra_env=env)
    assert d.rc == 0, d
    assert _bucket_snapshot(s3, 'stopped-run') == before
    for o in s3.list_objects_v2(Bucket='stopped-run').get('Contents', []):
        s3.delete_object(Bucket='stopped-run', Key=o['Key'])
    s3.delete_bucket(Bucket='stopped-run')


OTHERS_TPL = """\
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /team/db/host
      Type: String
      Value: db.example.internal
  Key:
    Type: AWS::EC2::KeyPair
    Properties:
      KeyName: team-key
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      InstanceProfileName: team-profile
      Roles: [team-role]
  GitHub:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
      ClientIdList: [sts.amazonaws.com]
      ThumbprintList: [6938fd4d98bab03faadb97b34396831e3780aea1]
"""

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ec2.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})
GH = 'https://token.actions.githubusercontent.com'


def _others_snapshot(emu):
    ssm, ec2, iam = emu.client('ssm'), emu.client('ec2'), emu.client('iam')
    par = ssm.get_parameter(Name='/team/db/host')['Parameter']
    ptags = ssm.list_tags_for_resource(ResourceType='Parameter',
                                       ResourceId='/team/db/host')['TagList']
    key = ec2.describe_key_pairs(KeyNames=['team-key'])['KeyPairs'][0]
    prof = iam.get_instance_profile(InstanceProfileName='team-profile')['InstanceProfile']
    arn = [p['Arn'] for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']
           if p['Arn'].endswith('/token.actions.githubusercontent.com')]
    oidc = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn[0])
    return {
        'param': (par['Value'], par['Version'], sorted((t['Key'], t['Value']) for t in ptags)),
        'key': (key['KeyPairId'], key['KeyFingerprint'],
                sorted((t['Key'], t['Value']) for t in key.get('Tags', []))),
        'profile': (prof['InstanceProfileId'], [r['RoleName'] for r in prof['Roles']],
                    sorted((t['Key'], t['Value']) for t in prof.get('Tags', []))),
        'oidc': (arn[0], sorted(oidc['ClientIDList']), sorted(oidc['ThumbprintList']),
                 sorted((t['Key'], t['Value']) for t in oidc.get('Tags', []))),
    }


def _status(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response['Error']['Code'], e.value.response['ResponseMetadata']['HTTPStatusCode']


def test_existing_parameter_key_profile_and_oidc_provider_are_refused(emu, cairn):
    """An SSM parameter, a key pair, an instance profile and the account's
    GitHub OIDC provider (one per URL: very often there already) made by
    someone else: refused with the import command, untouched (no Overwrite
    of the parameter), left by destroy; import then apply converges."""
    emu.reset()
    team = [{'Key': 'team', 'Value': 'data'}]
    ssm, ec2, iam = emu.client('ssm'), emu.client('ec2'), emu.client('iam')
    ssm.put_parameter(Name='/team/db/host', Type='String', Value='theirs.internal', Tags=team)
    ec2.create_key_pair(KeyName='team-key',
                        TagSpecifications=[{'ResourceType': 'key-pair', 'Tags': team}])
    for role in ('team-role', 'other-role'):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName='team-profile', Tags=team)
    iam.add_role_to_instance_profile(InstanceProfileName='team-profile', RoleName='other-role')
    arn = iam.create_open_id_connect_provider(
        Url=GH, ClientIDList=['sts.amazonaws.com', 'other-audience'],
        ThumbprintList=['a' * 40], Tags=team)['OpenIDConnectProviderArn']
    # the answers AWS gives a second create, which the emulator must give too
    assert _status(ssm.put_parameter, Name='/team/db/host', Type='String',
                   Value='x') == ('ParameterAlreadyExists', 400)
    assert _status(ec2.create_key_pair, KeyName='team-key') == ('InvalidKeyPair.Duplicate', 400)
    assert _status(ec2.import_key_pair, KeyName='team-key',
                   PublicKeyMaterial=b'ssh-ed25519 AAAAx a@b') == ('InvalidKeyPair.Duplicate', 400)
    assert _status(iam.create_instance_profile,
                   InstanceProfileName='team-profile') == ('EntityAlreadyExists', 409)
    assert _status(iam.create_open_id_connect_provider, Url=GH,
                   ThumbprintList=['b' * 40]) == ('EntityAlreadyExists', 409)
    time.sleep(0.5)
    before = _others_snapshot(emu)

    tpl = cairn.tmp / 'others.yaml'
    tpl.write_text(OTHERS_TPL)
    common = _common(cairn, 'others')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 1, r
    text = r.out + r.err
    for lid, typ, phys in (('Param', 'AWS::SSM::Parameter', '/team/db/host'),
                           ('Key', 'AWS::EC2::KeyPair', 'team-key'),
                           ('Profile', 'AWS::IAM::InstanceProfile', 'team-profile'),
                           ('GitHub', 'AWS::IAM::OIDCProvider', arn)):
        assert f'{typ} {lid}: "{phys}" already exists' in text, (lid, r)
        assert f'cairn import {lid} {phys} --template {tpl}' in text, (lid, r)
    assert 'an account has one OIDC provider per URL' in text, r
    assert _others_snapshot(emu) == before

    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 1 and 'cairn import GitHub' in r.out + r.err, r
    assert _others_snapshot(emu) == before
    d = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert d.rc == 0, d
    assert _others_snapshot(emu) == before

    for lid, phys in (('Param', '/team/db/host'), ('Key', 'team-key'),
                      ('Profile', 'team-profile'), ('GitHub', arn)):
        i = cairn('import', lid, phys, '--template', str(tpl), *common)
        assert i.rc == 0, (lid, i)
    a = cairn('apply', str(tpl), '--auto-approve', *common)
    assert a.rc == 0, a
    after = _others_snapshot(emu)
    assert after['param'][0] == 'db.example.internal'
    assert after['key'][0] == before['key'][0]              # the same key pair
    assert after['profile'][0] == before['profile'][0]
    assert after['profile'][1] == ['team-role']
    assert after['oidc'][0] == arn and after['oidc'][1] == ['sts.amazonaws.com']
    p = cairn('plan', str(tpl), *common, '--detailed-exitcode')
    assert p.rc == 0, p.out
    d = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert d.rc == 0, d
    assert not iam.list_open_id_connect_providers()['OpenIDConnectProviderList']


POLICY_TPL = """\
Resources:
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: team-shared
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyHttp
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: "arn:aws:s3:::team-shared/*"
            Condition: {Bool: {"aws:SecureTransport": "false"}}
"""


def test_bucket_policy_of_another_is_not_overwritten(emu, cairn):
    """A bucket policy carries no tags. One already on the bucket with
    another document is someone else's: cairn refuses (CloudFormation would
    replace it), keeps it, and `cairn import Policy team-shared` takes it
    over on purpose. A bucket without a policy gets cairn's."""
    emu.reset()
    s3 = emu.client('s3')
    s3.create_bucket(Bucket='team-shared')
    theirs = json.dumps(POLICY).replace('{b}', 'team-shared')
    s3.put_bucket_policy(Bucket='team-shared', Policy=theirs)
    time.sleep(0.5)
    tpl = cairn.tmp / 'policy.yaml'
    tpl.write_text(POLICY_TPL)
    common = _common(cairn, 'policy')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 1, r
    assert 'AWS::S3::BucketPolicy Policy: bucket "team-shared" already has a bucket policy' \
        in r.err, r
    assert f'cairn import Policy team-shared --template {tpl}' in r.err, r
    assert json.loads(s3.get_bucket_policy(Bucket='team-shared')['Policy']) == json.loads(theirs)
    d = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert d.rc == 0, d
    assert json.loads(s3.get_bucket_policy(Bucket='team-shared')['Policy']) == json.loads(theirs)
    i = cairn('import', 'Policy', 'team-shared', '--template', str(tpl), *common)
    assert i.rc == 0, i
    a = cairn('apply', str(tpl), '--auto-approve', *common)
    assert a.rc == 0, a
    got = json.loads(s3.get_bucket_policy(Bucket='team-shared')['Policy'])
    assert got['Statement'][0]['Sid'] == 'DenyHttp'
    assert cairn('plan', str(tpl), *common, '--detailed-exitcode').rc == 0
    d = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert d.rc == 0, d
    # a bucket without a policy: cairn's is written at once
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert json.loads(s3.get_bucket_policy(Bucket='team-shared')['Policy'])[
        'Statement'][0]['Sid'] == 'DenyHttp'
    assert cairn('destroy', str(tpl), '--auto-approve', *common).rc == 0
    s3.delete_bucket(Bucket='team-shared')


LAPTOP_TPL = """\
Resources:
  Laptop:
    Type: AWS::EC2::KeyPair
    Properties:
      KeyName: {name}
      PublicKeyMaterial: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7cairnfixture me@laptop
"""


def test_imported_public_key_of_another_is_refused_and_ours_is_sent_base64(emu, cairn):
    """AWS::EC2::KeyPair with PublicKeyMaterial (ImportKeyPair): a key pair
    of that name made by someone else is refused and left alone; a new one
    is imported (the blob goes base64 on the wire, as the API wants)."""
    emu.reset()
    ec2 = emu.client('ec2')
    team = [{'Key': 'team', 'Value': 'data'}]
    ec2.import_key_pair(KeyName='team-laptop', PublicKeyMaterial=b'ssh-ed25519 AAAAtheirs x@y',
                        TagSpecifications=[{'ResourceType': 'key-pair', 'Tags': team}])
    time.sleep(0.5)
    before = ec2.describe_key_pairs(KeyNames=['team-laptop'])['KeyPairs']
    tpl = cairn.tmp / 'laptop.yaml'
    tpl.write_text(LAPTOP_TPL.format(name='team-laptop'))
    common = _common(cairn, 'laptop')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 1, r
    assert 'AWS::EC2::KeyPair Laptop: "team-laptop" already exists' in r.err, r
    assert f'cairn import Laptop team-laptop --template {tpl}' in r.err, r
    assert cairn('destroy', str(tpl), '--auto-approve', *common).rc == 0
    assert ec2.describe_key_pairs(KeyNames=['team-laptop'])['KeyPairs'] == before

    tpl.write_text(LAPTOP_TPL.format(name='my-laptop'))
    common = _common(cairn, 'laptop2')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    got = ec2.describe_key_pairs(KeyNames=['my-laptop'])['KeyPairs'][0]
    assert ('cairn:logical-id', 'Laptop') in [(t['Key'], t['Value']) for t in got['Tags']]
    assert cairn('destroy', str(tpl), '--auto-approve', *common).rc == 0
    assert [k['KeyName'] for k in ec2.describe_key_pairs()['KeyPairs']] == ['team-laptop']


KEY_TPL = """\
Resources:
  Key:
    Type: AWS::EC2::KeyPair
    Properties:
      KeyName: lost-key
"""


def test_key_pair_whose_private_key_was_lost_is_made_again(emu, cairn):
    """CreateKeyPair is never resent (the private key is shown once). When its
    answer is lost, the key pair exists, tagged for this resource, but its
    private key is gone for good (the SSM parameter was never written): the
    next apply must not adopt that useless key pair but delete it (it is
    provably this resource's) and make one whose private key is kept."""
    emu.reset()
    ec2, ssm = emu.client('ec2'), emu.client('ssm')
    tpl = cairn.tmp / 'key.yaml'
    tpl.write_text(KEY_TPL)
    common = _common(cairn, 'lostkey')
    emu.control('config', {'drop_after_rate': {'ec2:CreateKeyPair': 1.0}})
    try:
        r = cairn('apply', str(tpl), '--auto-approve', *common)
    finally:
        emu.control('config', {'drop_after_rate': 0.0})
    assert r.rc == 1, r
    lost = ec2.describe_key_pairs(KeyNames=['lost-key'])['KeyPairs'][0]['KeyPairId']
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    key = ec2.describe_key_pairs(KeyNames=['lost-key'])['KeyPairs'][0]
    assert key['KeyPairId'] != lost
    ssm.get_parameter(Name=f"/ec2/keypair/{key['KeyPairId']}")     # kept
    assert cairn('destroy', str(tpl), '--auto-approve', *common).rc == 0
    assert ec2.describe_key_pairs()['KeyPairs'] == []


def test_lost_create_answers_of_parameter_profile_and_provider_are_adopted(emu, cairn):
    """The other side of the rule: every create answer lost (applied, then the
    connection closed), the client's resend answers "already exists", and
    what cairn made itself (its tags, written by the create call) is adopted:
    one of each, no error."""
    emu.reset()
    iam = emu.client('iam')
    iam.create_role(RoleName='team-role', AssumeRolePolicyDocument=TRUST)
    time.sleep(0.5)
    tpl = cairn.tmp / 'others.yaml'
    tpl.write_text(OTHERS_TPL.replace('''  Key:
    Type: AWS::EC2::KeyPair
    Properties:
      KeyName: team-key
''', ''))
    common = _common(cairn, 'lost-others')
    ops = ('ssm:PutParameter', 'iam:CreateInstanceProfile', 'iam:CreateOpenIDConnectProvider')
    emu.control('config', {'drop_after_rate': {op: 1.0 for op in ops}})
    try:
        r = cairn('apply', str(tpl), '--auto-approve', *common)
    finally:
        emu.control('config', {'drop_after_rate': 0.0})
    assert r.rc == 0, r
    calls = emu.control('calls')
    assert all(calls.get(op, 0) >= 2 for op in ops), calls       # answers were lost
    assert emu.client('ssm').get_parameter(Name='/team/db/host')['Parameter']['Version'] == 1
    assert [p['InstanceProfileName'] for p in iam.list_instance_profiles()['InstanceProfiles']] \
        == ['team-profile']
    assert len(iam.list_open_id_connect_providers()['OpenIDConnectProviderList']) == 1
    assert cairn('plan', str(tpl), *common, '--detailed-exitcode').rc == 0
    assert cairn('destroy', str(tpl), '--auto-approve', *common).rc == 0
    assert not iam.list_open_id_connect_providers()['OpenIDConnectProviderList']
