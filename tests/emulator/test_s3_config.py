"""S3 bucket configuration through botocore: encryption, public access block,
lifecycle, ownership controls, policy; defaults of a new bucket."""
import json

import botocore.exceptions
import pytest


@pytest.fixture
def s3(emulator):
    emulator.reset()
    c = emulator.client('s3')
    c.create_bucket(Bucket='cfg-bucket')
    return c


def code(e):
    return e.value.response['Error']['Code']


def test_defaults_of_a_new_bucket(s3):
    enc = s3.get_bucket_encryption(Bucket='cfg-bucket')['ServerSideEncryptionConfiguration']
    assert enc['Rules'][0]['ApplyServerSideEncryptionByDefault']['SSEAlgorithm'] == 'AES256'
    pab = s3.get_public_access_block(Bucket='cfg-bucket')['PublicAccessBlockConfiguration']
    assert all(pab.values()) and len(pab) == 4
    own = s3.get_bucket_ownership_controls(Bucket='cfg-bucket')['OwnershipControls']
    assert own['Rules'] == [{'ObjectOwnership': 'BucketOwnerEnforced'}]
    for call, err in ((s3.get_bucket_lifecycle_configuration, 'NoSuchLifecycleConfiguration'),
                      (s3.get_bucket_policy, 'NoSuchBucketPolicy')):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket='cfg-bucket')
        assert code(e) == err


def test_configure_and_delete(s3):
    s3.put_bucket_encryption(Bucket='cfg-bucket', ServerSideEncryptionConfiguration={
        'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms'},
                   'BucketKeyEnabled': True}]})
    enc = s3.get_bucket_encryption(Bucket='cfg-bucket')['ServerSideEncryptionConfiguration']
    assert enc['Rules'][0]['BucketKeyEnabled'] is True
    rules = [{'ID': 'old', 'Status': 'Enabled', 'Filter': {'Prefix': 'flows/'},
              'Expiration': {'Days': 30}}]
    s3.put_bucket_lifecycle_configuration(Bucket='cfg-bucket',
                                          LifecycleConfiguration={'Rules': rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket='cfg-bucket')['Rules']
    assert got[0]['Expiration'] == {'Days': 30} and got[0]['ID'] == 'old'
    # the current operation's shapes (Filter), not the deprecated one's
    assert got[0]['Filter'] == {'Prefix': 'flows/'}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket='cfg-bucket', LifecycleConfiguration={
            'Rules': rules + rules})
    assert code(e) == 'InvalidArgument'
    s3.delete_bucket_lifecycle(Bucket='cfg-bucket')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket='cfg-bucket')
    assert code(e) == 'NoSuchLifecycleConfiguration'
    public = json.dumps({'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',
         'Resource': 'arn:aws:s3:::cfg-bucket/*'}]})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket='cfg-bucket', Policy=public)
    assert code(e) == 'AccessDenied'
    tls = json.dumps({'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*',
         'Resource': 'arn:aws:s3:::cfg-bucket/*',
         'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}]})
    s3.put_bucket_policy(Bucket='cfg-bucket', Policy=tls)
    assert json.loads(s3.get_bucket_policy(Bucket='cfg-bucket')['Policy']) == json.loads(tls)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket='cfg-bucket', Policy='not json')
    assert code(e) == 'MalformedPolicy'
    s3.put_bucket_ownership_controls(Bucket='cfg-bucket', OwnershipControls={
        'Rules': [{'ObjectOwnership': 'ObjectWriter'}]})
    assert s3.get_bucket_ownership_controls(Bucket='cfg-bucket')['OwnershipControls'][
        'Rules'] == [{'ObjectOwnership': 'ObjectWriter'}]
    s3.put_public_access_block(Bucket='cfg-bucket', PublicAccessBlockConfiguration={
        'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': False,
        'RestrictPublicBuckets': False})
    s3.put_bucket_policy(Bucket='cfg-bucket', Policy=public)
    s3.put_object(Bucket='cfg-bucket', Key='k', Body=b'x')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket='cfg-bucket')
    assert code(e) == 'BucketNotEmpty'
