"""The emulator refuses what AWS refuses (issue 16). Each test cites where AWS
documents the behaviour."""
import json
import time

import botocore.exceptions
import pytest


def code(e):
    return e.value.response['Error']['Code']


def doc(*stmts, **top):
    return json.dumps(dict({'Version': '2012-10-17', 'Statement': list(stmts)}, **top))


ALLOW = {'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}
TRUST_STMT = {'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
              'Action': 'sts:AssumeRole'}


# ------------------------------------------------- 1. IAM policy grammar
# IAM User Guide, "IAM JSON policy element reference" and "Condition operators";
# "AWS JSON policy elements: Principal"; "IAM and AWS STS quotas".

@pytest.mark.parametrize('stmt,why', [
    (dict(ALLOW, Resource='my-bucket'), 'Resource must be an ARN or *'),
    (dict(ALLOW, Action='GetObject'), 'Action needs a service prefix'),
    (dict(ALLOW, Actoin='s3:GetObject'), 'unknown statement key'),
    (dict(ALLOW, NotAction='s3:PutObject'), 'Action with NotAction'),
    (dict(ALLOW, Condition={'StringEqualz': {'aws:username': 'x'}}), 'unknown operator'),
    (dict(ALLOW, Sid='has space'), 'Sid must be alphanumeric'),
    (dict(ALLOW, Effect='NotAllow'), 'Effect'),
])
def test_identity_policy_grammar(emulator, stmt, why):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(stmt))
    assert code(e) == 'MalformedPolicyDocument', why


def test_duplicate_sids_and_good_conditions(emulator):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(dict(ALLOW, Sid='A'),
                                                             dict(ALLOW, Sid='A')))
    assert code(e) == 'MalformedPolicyDocument'
    # prefixes and IfExists are part of the grammar
    iam.create_policy(PolicyName='ok', PolicyDocument=doc(dict(ALLOW, Sid='A1', Condition={
        'ForAnyValue:StringLikeIfExists': {'aws:TagKeys': ['a*']},
        'Bool': {'aws:SecureTransport': 'true'}})))


@pytest.mark.parametrize('principal_or_action', [
    {'Action': 's3:GetObject'},
    {'Principal': {'AWS': 'arn:aws:iam::123456789012:role/ghost'}},
    {'Principal': {'AWS': 'not-an-arn'}},
    {'Principal': {'Servce': 'ecs-tasks.amazonaws.com'}},
])
def test_trust_policy_grammar(emulator, principal_or_action):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(
            dict(TRUST_STMT, **principal_or_action)))
    assert code(e) == 'MalformedPolicyDocument'
    # a role that exists may be trusted, and so may another account
    iam.create_role(RoleName='real', AssumeRolePolicyDocument=doc(TRUST_STMT))
    iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(dict(
        TRUST_STMT, Principal={'AWS': ['arn:aws:iam::123456789012:role/real',
                                       '210987654321']})))


def test_policy_size_quotas(emulator):
    iam = emulator.client('iam')
    many = [f's3:GetObject{"x" * 40}{i}' for i in range(200)]     # ~10,000 chars
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='big', PolicyDocument=doc(dict(ALLOW, Action=many)))
    assert code(e) == 'LimitExceeded'                 # managed: 6,144
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(
            dict(TRUST_STMT, Principal={'AWS': [f'arn:aws:iam::{100000000000 + i}:root'
                                                for i in range(80)]})))
    assert code(e) == 'LimitExceeded'                 # trust: 2,048
    iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(TRUST_STMT))
    half = [f's3:GetObject{"x" * 40}{i}' for i in range(100)]      # ~5,500 chars
    iam.put_role_policy(RoleName='r', PolicyName='a', PolicyDocument=doc(
        dict(ALLOW, Action=half)))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.put_role_policy(RoleName='r', PolicyName='b', PolicyDocument=doc(
            dict(ALLOW, Action=half)))
    assert code(e) == 'LimitExceeded'                 # inline, per role: 10,240
    # white space is not counted
    iam.create_policy(PolicyName='spaced', PolicyDocument=json.dumps(
        json.loads(doc(ALLOW)), indent=2000))


def test_policy_characters_outside_the_model_set(emulator):
    # the model's policyDocumentType pattern: [\u0009\u000A\u000D\u0020-\u00FF]+
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(dict(ALLOW, Sid='\u2603')))
    assert code(e) in ('ValidationError', 'MalformedPolicyDocument')
