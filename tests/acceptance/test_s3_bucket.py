"""AWS::S3::Bucket and AWS::S3::BucketPolicy through the real binary against
the emulator: configuration applied and read back (no drift, including the
defaults a template leaves out), a lifecycle change done in place with one
PUT, a non-empty bucket's delete failing with a clear message, DeletionPolicy
Retain keeping a bucket, destroy back to the seed baseline."""
import json

TPL = """Parameters:
  Days: {Type: Number, Default: 30}
Resources:
  Storage:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      OwnershipControls: {Rules: [{ObjectOwnership: BucketOwnerEnforced}]}
      LifecycleConfiguration:
        Rules:
          - Id: expire-old
            Status: Enabled
            Prefix: flows/
            ExpirationInDays: !Ref Days
            NoncurrentVersionExpiration: {NoncurrentDays: 7}
            AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}
      Tags: [{Key: app, Value: prefect}]
  Plain:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
  TlsOnly:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Storage
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Storage.Arn, !Sub "${Storage.Arn}/*"]
            Condition: {Bool: {"aws:SecureTransport": "false"}}
Outputs:
  Name: {Value: !Ref Storage}
  Arn: {Value: !GetAtt Storage.Arn}
  Plain: {Value: !Ref Plain}
"""


def delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}


def buckets(emu):
    return sorted(r['id'] for r in emu.control('inventory') if r['type'] == 'bucket')


def test_bucket_configuration_lifecycle_and_delete(emu, cairn):
    s3 = emu.client('s3')
    tpl = cairn.tmp / 'store.yaml'
    tpl.write_text(TPL)
    common = [*cairn.endpoint, '--state', str(cairn.tmp / 's.db')]
    before = set(buckets(emu))
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    new = sorted(set(buckets(emu)) - before)
    assert len(new) == 2, new
    storage = [b for b in new if '-storage-' in b][0]
    plain = [b for b in new if '-plain-' in b][0]
    assert storage == storage.lower() and len(storage) <= 63
    assert s3.get_bucket_versioning(Bucket=storage)['Status'] == 'Enabled'
    rules = s3.get_bucket_lifecycle_configuration(Bucket=storage)['Rules']
    assert rules[0]['Expiration'] == {'Days': 30} and rules[0]['ID'] == 'expire-old'
    assert rules[0].get('Filter') == {'Prefix': 'flows/'}, rules
    assert rules[0]['NoncurrentVersionExpiration']['NoncurrentDays'] == 7
    tags = {t['Key']: t['Value'] for t in s3.get_bucket_tagging(Bucket=storage)['TagSet']}
    assert tags['app'] == 'prefect' and tags['cairn:logical-id'] == 'Storage'
    pol = json.loads(s3.get_bucket_policy(Bucket=storage)['Policy'])
    assert pol['Statement'][0]['Resource'][0] == f'arn:aws:s3:::{storage}'
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p.out
    d = cairn('drift', str(tpl), *common)
    assert d.rc == 0, d.out

    # lifecycle change: one PUT of the lifecycle, nothing else
    before_calls = emu.control('calls')
    r = cairn('apply', str(tpl), '--auto-approve', *common, '--param', 'Days=90')
    assert r.rc == 0, r
    calls = delta(before_calls, emu.control('calls'))
    assert calls.get('s3:PutBucketLifecycleConfiguration', 0) + \
        calls.get('s3:PutBucketLifecycle', 0) == 1, calls
    assert not any(k.startswith('s3:CreateBucket') or k.startswith('s3:DeleteBucket')
                   for k in calls), calls
    rules = s3.get_bucket_lifecycle_configuration(Bucket=storage)['Rules']
    assert rules[0]['Expiration'] == {'Days': 90}
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common, '--param', 'Days=90')
    assert p.rc == 0, p.out

    # changed outside cairn: drift
    s3.delete_bucket_lifecycle(Bucket=storage)
    d = cairn('drift', str(tpl), *common, '--param', 'Days=90')
    assert d.rc != 0 and 'LifecycleConfiguration' in d.out + d.err, d

    # a non-empty bucket is not deleted, and the error says what to do
    s3.put_object(Bucket=storage, Key='flows/x.py', Body=b'print(1)')
    r = cairn('destroy', str(tpl), '--auto-approve', *common, '--param', 'Days=90')
    assert r.rc != 0, r
    assert 'not empty' in r.err and 'DeletionPolicy: Retain' in r.err, r
    assert storage in buckets(emu)
    for v in s3.list_object_versions(Bucket=storage).get('Versions', []):
        s3.delete_object(Bucket=storage, Key=v['Key'], VersionId=v['VersionId'])
    for v in s3.list_object_versions(Bucket=storage).get('DeleteMarkers', []):
        s3.delete_object(Bucket=storage, Key=v['Key'], VersionId=v['VersionId'])
    r = cairn('destroy', str(tpl), '--auto-approve', *common, '--param', 'Days=90')
    assert r.rc == 0, r
    # Retain: forgotten, still there
    assert buckets(emu) == sorted(before | {plain})
    s3.delete_bucket(Bucket=plain)
    now = {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}
    assert now == emu.baseline
