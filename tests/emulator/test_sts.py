"""STS: caller identity, AssumeRole, AssumeRoleWithWebIdentity (unsigned)."""
import base64
import json
import re

import botocore
import botocore.config
import botocore.exceptions
import botocore.session
import pytest

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/x'},
    'Action': 'sts:AssumeRoleWithWebIdentity'}]})


def jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b'=').decode()
    return f"{enc({'alg': 'RS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJl"


def test_get_caller_identity_default(emulator):
    ident = emulator.client('sts').get_caller_identity()
    assert ident['Account'] == '123456789012'
    assert ident['Arn'] == 'arn:aws:iam::123456789012:root'


def test_assume_role_formats(emulator):
    role = emulator.client('iam').create_role(RoleName='deployer',
                                              AssumeRolePolicyDocument=TRUST)['Role']
    out = emulator.client('sts').assume_role(RoleArn=role['Arn'], RoleSessionName='ci-42',
                                             DurationSeconds=1800)
    c = out['Credentials']
    assert re.match(r'^ASIA[A-Z0-9]{16}$', c['AccessKeyId'])
    assert len(c['SecretAccessKey']) == 40 and len(c['SessionToken']) > 100
    left = c['Expiration'].timestamp() - __import__('time').time()
    assert 1700 < left <= 1800
    assert out['AssumedRoleUser']['Arn'] == 'arn:aws:sts::123456789012:assumed-role/deployer/ci-42'
    assert out['AssumedRoleUser']['AssumedRoleId'] == role['RoleId'] + ':ci-42'


def test_assume_missing_role_denied(emulator):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('sts').assume_role(
            RoleArn='arn:aws:iam::123456789012:role/ghost', RoleSessionName='s1')
    assert e.value.response['Error']['Code'] == 'AccessDenied'
    assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 403


def test_assume_role_duration_above_max(emulator):
    role = emulator.client('iam').create_role(RoleName='short',
                                              AssumeRolePolicyDocument=TRUST)['Role']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('sts').assume_role(RoleArn=role['Arn'], RoleSessionName='s1',
                                           DurationSeconds=7200)
    assert e.value.response['Error']['Code'] == 'ValidationError'


def _unsigned_sts(emulator):
    s = botocore.session.get_session()
    return s.create_client('sts', region_name='us-east-1', endpoint_url=emulator.url,
                           config=botocore.config.Config(signature_version=botocore.UNSIGNED))


def test_web_identity_unsigned(emulator):
    role = emulator.client('iam').create_role(RoleName='gha', AssumeRolePolicyDocument=TRUST)['Role']
    token = jwt({'sub': 'repo:org/cairn:ref:refs/heads/main', 'aud': 'sts.amazonaws.com',
                 'iss': 'https://token.actions.githubusercontent.com'})
    out = _unsigned_sts(emulator).assume_role_with_web_identity(
        RoleArn=role['Arn'], RoleSessionName='gh', WebIdentityToken=token)
    assert out['SubjectFromWebIdentityToken'] == 'repo:org/cairn:ref:refs/heads/main'
    assert out['Provider'] == 'token.actions.githubusercontent.com'
    assert out['Audience'] == 'sts.amazonaws.com'
    c = out['Credentials']
    ident = emulator.client('sts', access_key=c['AccessKeyId'], secret_key=c['SecretAccessKey'],
                            token=c['SessionToken']).get_caller_identity()
    assert ident['Arn'] == 'arn:aws:sts::123456789012:assumed-role/gha/gh'


def test_web_identity_rejects_non_jwt(emulator):
    role = emulator.client('iam').create_role(RoleName='gha2', AssumeRolePolicyDocument=TRUST)['Role']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _unsigned_sts(emulator).assume_role_with_web_identity(
            RoleArn=role['Arn'], RoleSessionName='gh', WebIdentityToken='not-a-jwt-at-all')
    assert e.value.response['Error']['Code'] == 'InvalidIdentityToken'


def test_unsigned_other_operations_refused(emulator):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _unsigned_sts(emulator).get_caller_identity()
    assert e.value.response['Error']['Code'] == 'MissingAuthenticationToken'
