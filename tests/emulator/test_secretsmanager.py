"""Secrets Manager through botocore: versions, idempotency, deletion window."""
import re
import time

import botocore.exceptions
import pytest


@pytest.fixture
def sm(emulator):
    return emulator.client('secretsmanager')


def code(e):
    return e.value.response['Error']['Code']


TOKEN = '11111111-2222-3333-4444-555555555555'


def test_create_and_get(sm):
    out = sm.create_secret(Name='app/db', SecretString='pw', Description='d',
                           ClientRequestToken=TOKEN, Tags=[{'Key': 'k', 'Value': 'v'}])
    assert re.match(r'^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Za-z0-9]{6}$',
                    out['ARN'])
    assert out['VersionId'] == TOKEN
    v = sm.get_secret_value(SecretId='app/db')
    assert v['SecretString'] == 'pw' and v['VersionStages'] == ['AWSCURRENT']
    # by full ARN and by partial ARN (without the random suffix)
    assert sm.get_secret_value(SecretId=out['ARN'])['SecretString'] == 'pw'
    assert sm.describe_secret(SecretId=out['ARN'][:-7])['Name'] == 'app/db'
    d = sm.describe_secret(SecretId='app/db')
    assert d['Description'] == 'd' and d['Tags'] == [{'Key': 'k', 'Value': 'v'}]
    assert d['VersionIdsToStages'] == {TOKEN: ['AWSCURRENT']}


def test_binary_secret(sm):
    sm.create_secret(Name='bin', SecretBinary=b'\x00\x01\xff')
    assert sm.get_secret_value(SecretId='bin')['SecretBinary'] == b'\x00\x01\xff'


def test_create_idempotent_by_token(sm):
    a = sm.create_secret(Name='idem', SecretString='x', ClientRequestToken=TOKEN)
    b = sm.create_secret(Name='idem', SecretString='x', ClientRequestToken=TOKEN)
    assert a['ARN'] == b['ARN'] and a['VersionId'] == b['VersionId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.create_secret(Name='idem', SecretString='different', ClientRequestToken=TOKEN)
    assert code(e) == 'ResourceExistsException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.create_secret(Name='idem', SecretString='x')       # a fresh token
    assert code(e) == 'ResourceExistsException'


def test_put_secret_value_rotates_stages(sm):
    first = sm.create_secret(Name='rot', SecretString='v1')['VersionId']
    second = sm.put_secret_value(SecretId='rot', SecretString='v2')['VersionId']
    assert sm.get_secret_value(SecretId='rot')['SecretString'] == 'v2'
    prev = sm.get_secret_value(SecretId='rot', VersionStage='AWSPREVIOUS')
    assert prev['SecretString'] == 'v1' and prev['VersionId'] == first
    assert sm.get_secret_value(SecretId='rot', VersionId=first)['SecretString'] == 'v1'
    stages = sm.describe_secret(SecretId='rot')['VersionIdsToStages']
    assert stages == {first: ['AWSPREVIOUS'], second: ['AWSCURRENT']}
    third = sm.put_secret_value(SecretId='rot', SecretString='v3')['VersionId']
    stages = sm.describe_secret(SecretId='rot')['VersionIdsToStages']
    assert stages == {second: ['AWSPREVIOUS'], third: ['AWSCURRENT']}
    ids = [v['VersionId'] for v in sm.list_secret_version_ids(SecretId='rot',
                                                              IncludeDeprecated=True)['Versions']]
    assert ids == [first, second, third]
    # same token + same value: no new version; same token + other value: refused
    again = sm.put_secret_value(SecretId='rot', SecretString='v3', ClientRequestToken=third)
    assert again['VersionId'] == third
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.put_secret_value(SecretId='rot', SecretString='v4', ClientRequestToken=third)
    assert code(e) == 'ResourceExistsException'


def test_secret_without_value(sm):
    sm.create_secret(Name='empty')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.get_secret_value(SecretId='empty')
    assert code(e) == 'ResourceNotFoundException'


def test_update_secret(sm):
    sm.create_secret(Name='up', SecretString='a', Description='old')
    out = sm.update_secret(SecretId='up', Description='new')
    assert 'VersionId' not in out
    out = sm.update_secret(SecretId='up', SecretString='b')
    assert sm.get_secret_value(SecretId='up')['VersionId'] == out['VersionId']
    assert sm.describe_secret(SecretId='up')['Description'] == 'new'


def test_delete_with_recovery_window_keeps_name(emulator, sm):
    arn = sm.create_secret(Name='gone', SecretString='a')['ARN']
    out = sm.delete_secret(SecretId='gone', RecoveryWindowInDays=7)
    days = (out['DeletionDate'] - sm.describe_secret(SecretId='gone')['DeletedDate']).days
    assert days == 7
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.get_secret_value(SecretId='gone')
    assert code(e) == 'InvalidRequestException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.create_secret(Name='gone', SecretString='b')
    assert code(e) == 'InvalidRequestException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.delete_secret(SecretId='gone')
    assert code(e) == 'InvalidRequestException'
    assert 'gone' not in [s['Name'] for s in sm.list_secrets()['SecretList']]
    sm.restore_secret(SecretId='gone')
    assert sm.get_secret_value(SecretId=arn)['SecretString'] == 'a'
    # once the window has passed the name is free again
    sm.delete_secret(SecretId='gone', RecoveryWindowInDays=7)
    emulator.control('config', {'clock_offset': 7 * 86400 + 1})
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sm.describe_secret(SecretId='gone')
        assert code(e) == 'ResourceNotFoundException'
    finally:
        emulator.control('config', {'clock_offset': 0})
    sm.create_secret(Name='gone', SecretString='new')


def test_force_delete_frees_name(sm):
    sm.create_secret(Name='f', SecretString='a')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.delete_secret(SecretId='f', ForceDeleteWithoutRecovery=True, RecoveryWindowInDays=7)
    assert code(e) == 'InvalidParameterException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.delete_secret(SecretId='f', RecoveryWindowInDays=3)
    assert code(e) == 'InvalidParameterException'
    sm.delete_secret(SecretId='f', ForceDeleteWithoutRecovery=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.describe_secret(SecretId='f')
    assert code(e) == 'ResourceNotFoundException'
    # the purge is asynchronous: the name is taken for a moment (DeleteSecret:
    # "use appropriate back off and retry logic")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.create_secret(Name='f', SecretString='b')
    assert code(e) == 'InvalidRequestException'
    time.sleep(0.6)
    sm.create_secret(Name='f', SecretString='b')


def test_force_delete_of_a_missing_secret_succeeds(sm):
    # DeleteSecret: "If you forcibly delete an already deleted or nonexistent
    # secret, the operation does not return ResourceNotFoundException."
    out = sm.delete_secret(SecretId='never-was', ForceDeleteWithoutRecovery=True)
    assert out['Name'] == 'never-was'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.delete_secret(SecretId='never-was')
    assert code(e) == 'ResourceNotFoundException'


def test_tags(sm):
    sm.create_secret(Name='tg', SecretString='a')
    sm.tag_resource(SecretId='tg', Tags=[{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}])
    sm.untag_resource(SecretId='tg', TagKeys=['a'])
    assert sm.describe_secret(SecretId='tg')['Tags'] == [{'Key': 'b', 'Value': '2'}]


def test_list_secrets_filters_and_pages(sm):
    for i in range(5):
        sm.create_secret(Name=f'svc/{i}', SecretString='x',
                         Tags=[{'Key': 'env', 'Value': 'prod' if i % 2 else 'dev'}])
    sm.create_secret(Name='other', SecretString='x')
    names = [s['Name'] for s in sm.list_secrets(
        Filters=[{'Key': 'name', 'Values': ['svc/']}])['SecretList']]
    assert sorted(names) == [f'svc/{i}' for i in range(5)]
    prod = [s['Name'] for s in sm.list_secrets(
        Filters=[{'Key': 'tag-value', 'Values': ['prod']}])['SecretList']]
    assert sorted(prod) == ['svc/1', 'svc/3']
    first = sm.list_secrets(MaxResults=4)
    assert len(first['SecretList']) == 4 and 'NextToken' in first
    rest = sm.list_secrets(MaxResults=4, NextToken=first['NextToken'])
    assert len(rest['SecretList']) == 2 and 'NextToken' not in rest
    assert first['SecretList'][0]['SecretVersionsToStages']


def test_missing_secret(sm):
    for call in (lambda: sm.describe_secret(SecretId='nope'),
                 lambda: sm.get_secret_value(SecretId='nope'),
                 lambda: sm.put_secret_value(SecretId='nope', SecretString='x')):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert code(e) == 'ResourceNotFoundException'


def test_inventory_excludes_scheduled(emulator, sm):
    sm.create_secret(Name='live', SecretString='a')
    sm.create_secret(Name='dying', SecretString='a')
    sm.delete_secret(SecretId='dying')
    ids = [x['id'] for x in emulator.control('inventory') if x['service'] == 'secretsmanager']
    assert ids == ['live']


def test_random_password(sm):
    pw = sm.get_random_password(PasswordLength=40, ExcludePunctuation=True,
                                ExcludeCharacters='abc')['RandomPassword']
    assert len(pw) == 40 and pw.isalnum() and not set(pw) & set('abc')
