"""The answers AWS gives when a name is already taken, which cairn's
adoption rules (docs/real-account.md) depend on: S3 buckets of this account
and of another, the listing of one's own buckets, ImportKeyPair."""
import base64

import botocore.exceptions
import pytest


def err(e):
    return e.value.response['Error']['Code'], \
        e.value.response['ResponseMetadata']['HTTPStatusCode']


def test_bucket_of_another_account(emulator):
    emulator.control('config', {'credentials': {'AKIAOTHERACCT0000002': {
        'secret': 'other', 'account': '210987654321'}}})
    other = emulator.client('s3', access_key='AKIAOTHERACCT0000002', secret_key='other')
    mine = emulator.client('s3')
    other.create_bucket(Bucket='their-bucket')
    mine.create_bucket(Bucket='my-bucket')
    mine.create_bucket(Bucket='my-bucket-2')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        mine.create_bucket(Bucket='their-bucket')
    assert err(e) == ('BucketAlreadyExists', 409)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        mine.head_bucket(Bucket='their-bucket')
    assert err(e)[1] == 403                    # HEAD: the status alone
    with pytest.raises(botocore.exceptions.ClientError) as e:
        mine.get_bucket_tagging(Bucket='their-bucket')
    assert err(e) == ('AccessDenied', 403)
    # ListBuckets: the caller's own, Prefix filtering
    assert [b['Name'] for b in mine.list_buckets()['Buckets']] == ['my-bucket', 'my-bucket-2']
    assert [b['Name'] for b in other.list_buckets()['Buckets']] == ['their-bucket']
    # (Debian's botocore predates Prefix: sent by hand, as cairn sends it)
    status, _, body = emulator.raw('s3', method='GET', path='/?prefix=my-bucket-')
    assert status == 200, body
    assert b'<Name>my-bucket-2</Name>' in body and b'<Name>my-bucket</Name>' not in body


def test_bucket_already_owned_outside_us_east_1(emulator):
    s3 = emulator.client('s3', region='eu-west-1')
    conf = {'LocationConstraint': 'eu-west-1'}
    s3.create_bucket(Bucket='owned-eu', CreateBucketConfiguration=conf)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket='owned-eu', CreateBucketConfiguration=conf)
    assert err(e) == ('BucketAlreadyOwnedByYou', 409)


def test_import_key_pair(emulator):
    ec2 = emulator.client('ec2')
    out = ec2.import_key_pair(KeyName='laptop', PublicKeyMaterial=b'ssh-ed25519 AAAAC3Nz x@y',
                              TagSpecifications=[{'ResourceType': 'key-pair',
                                                  'Tags': [{'Key': 'a', 'Value': 'b'}]}])
    assert out['KeyName'] == 'laptop' and out['KeyPairId'].startswith('key-')
    got = ec2.describe_key_pairs(KeyNames=['laptop'])['KeyPairs'][0]
    assert got['KeyType'] == 'ed25519' and got['Tags'] == [{'Key': 'a', 'Value': 'b'}]
    for call in (lambda: ec2.import_key_pair(KeyName='laptop',
                                             PublicKeyMaterial=b'ssh-rsa AAAAB3 x@y'),
                 lambda: ec2.create_key_pair(KeyName='laptop')):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert err(e) == ('InvalidKeyPair.Duplicate', 400)
    # not a public key (here: text that was base64-encoded twice)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.import_key_pair(KeyName='other',
                            PublicKeyMaterial=base64.b64encode(b'ssh-ed25519 AAAA x@y'))
    assert err(e) == ('InvalidKey.Format', 400)
    ec2.delete_key_pair(KeyName='laptop')
    assert ec2.describe_key_pairs()['KeyPairs'] == []
