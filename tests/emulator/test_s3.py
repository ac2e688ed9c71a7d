"""S3 (path-style) through botocore: buckets, objects, ETags, conditional
requests, listing with pagination."""
import hashlib

import botocore.exceptions
import pytest


@pytest.fixture
def s3(emulator):
    return emulator.client('s3')


def err(e):
    return e.value.response['Error']['Code'], \
        e.value.response['ResponseMetadata']['HTTPStatusCode']


def with_header(client, op, name, value):
    def add(request, **kw):
        request.headers[name] = value
    client.meta.events.register(f'before-sign.s3.{op}', add)
    return lambda: client.meta.events.unregister(f'before-sign.s3.{op}', add)


def test_bucket_lifecycle(s3):
    s3.create_bucket(Bucket='bk1')
    s3.create_bucket(Bucket='bk1')           # us-east-1: the owner gets 200 again
    s3.head_bucket(Bucket='bk1')
    assert [b['Name'] for b in s3.list_buckets()['Buckets']] == ['bk1']
    s3.put_object(Bucket='bk1', Key='k', Body=b'x')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket='bk1')
    assert err(e) == ('BucketNotEmpty', 409)
    s3.delete_object(Bucket='bk1', Key='k')
    s3.delete_bucket(Bucket='bk1')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket='bk1')
    assert err(e)[1] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket='bk1')
    assert err(e) == ('NoSuchBucket', 404)


def test_bucket_in_other_region(emulator):
    c = emulator.client('s3', region='eu-west-1')
    c.create_bucket(Bucket='eu-bucket',
                    CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
    assert c.get_bucket_location(Bucket='eu-bucket')['LocationConstraint'] == 'eu-west-1'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.create_bucket(Bucket='eu-bucket',
                        CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
    assert err(e) == ('BucketAlreadyOwnedByYou', 409)


def test_invalid_bucket_name(s3):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket='no_underscores_allowed')
    assert err(e) == ('InvalidBucketName', 400)


def test_object_roundtrip_and_etag(s3):
    s3.create_bucket(Bucket='objs')
    body = b'{"serial": 1}'
    put = s3.put_object(Bucket='objs', Key='state/dev.json', Body=body,
                        ContentType='application/json', Metadata={'owner': 'cairn'})
    assert put['ETag'] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket='objs', Key='state/dev.json')
    assert got['Body'].read() == body and got['ETag'] == put['ETag']
    assert got['ContentType'] == 'application/json' and got['Metadata'] == {'owner': 'cairn'}
    head = s3.head_object(Bucket='objs', Key='state/dev.json')
    assert head['ContentLength'] == len(body) and head['ETag'] == put['ETag']
    part = s3.get_object(Bucket='objs', Key='state/dev.json', Range='bytes=2-7')
    assert part['Body'].read() == body[2:8] and part['ContentRange'] == f'bytes 2-7/{len(body)}'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket='objs', Key='missing')
    assert err(e) == ('NoSuchKey', 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket='objs', Key='missing')
    assert err(e)[1] == 404
    s3.delete_object(Bucket='objs', Key='missing')          # idempotent 204


def test_keys_with_special_characters(s3):
    s3.create_bucket(Bucket='odd')
    key = 'dir/with space/ünï+cødé=1&x.json'
    s3.put_object(Bucket='odd', Key=key, Body=b'1')
    assert s3.get_object(Bucket='odd', Key=key)['Body'].read() == b'1'
    assert [o['Key'] for o in s3.list_objects_v2(Bucket='odd')['Contents']] == [key]


def test_conditional_create_if_none_match(s3):
    s3.create_bucket(Bucket='lock')
    undo = with_header(s3, 'PutObject', 'If-None-Match', '*')
    try:
        s3.put_object(Bucket='lock', Key='stack.lock', Body=b'holder=a')
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket='lock', Key='stack.lock', Body=b'holder=b')
        assert err(e) == ('PreconditionFailed', 412)
    finally:
        undo()
    assert s3.get_object(Bucket='lock', Key='stack.lock')['Body'].read() == b'holder=a'


def test_conditional_update_if_match(s3):
    s3.create_bucket(Bucket='cas')
    etag = s3.put_object(Bucket='cas', Key='state', Body=b'v1')['ETag']
    undo = with_header(s3, 'PutObject', 'If-Match', etag)
    try:
        etag2 = s3.put_object(Bucket='cas', Key='state', Body=b'v2')['ETag']
        assert etag2 != etag
        with pytest.raises(botocore.exceptions.ClientError) as e:   # stale ETag
            s3.put_object(Bucket='cas', Key='state', Body=b'v3')
        assert err(e) == ('PreconditionFailed', 412)
        with pytest.raises(botocore.exceptions.ClientError) as e:   # no such key
            s3.put_object(Bucket='cas', Key='other', Body=b'v3')
        assert err(e) == ('NoSuchKey', 404)
    finally:
        undo()
    assert s3.get_object(Bucket='cas', Key='state')['Body'].read() == b'v2'
    undo = with_header(s3, 'DeleteObject', 'If-Match', etag)
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.delete_object(Bucket='cas', Key='state')
        assert err(e) == ('PreconditionFailed', 412)
    finally:
        undo()


def test_conditional_reads(s3):
    s3.create_bucket(Bucket='reads')
    etag = s3.put_object(Bucket='reads', Key='k', Body=b'v')['ETag']
    assert s3.get_object(Bucket='reads', Key='k', IfMatch=etag)['Body'].read() == b'v'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket='reads', Key='k', IfMatch='"0000"')
    assert err(e) == ('PreconditionFailed', 412)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket='reads', Key='k', IfNoneMatch=etag)
    assert err(e)[1] == 304


def test_list_objects_v2_pagination_and_delimiter(s3):
    s3.create_bucket(Bucket='list')
    keys = [f'env/{e}/{i}.json' for e in ('dev', 'prod') for i in range(3)] + ['top.txt']
    for k in keys:
        s3.put_object(Bucket='list', Key=k, Body=b'.')
    out = s3.list_objects_v2(Bucket='list', Delimiter='/')
    assert [p['Prefix'] for p in out['CommonPrefixes']] == ['env/']
    assert [o['Key'] for o in out['Contents']] == ['top.txt'] and out['KeyCount'] == 2
    out = s3.list_objects_v2(Bucket='list', Prefix='env/', Delimiter='/')
    assert [p['Prefix'] for p in out['CommonPrefixes']] == ['env/dev/', 'env/prod/']
    seen, token = [], None
    while True:
        kw = {'ContinuationToken': token} if token else {}
        page = s3.list_objects_v2(Bucket='list', MaxKeys=3, **kw)
        seen += [o['Key'] for o in page.get('Contents', [])]
        if not page['IsTruncated']:
            break
        token = page['NextContinuationToken']
    assert seen == sorted(keys)
    after = s3.list_objects_v2(Bucket='list', StartAfter='env/prod/2.json')
    assert [o['Key'] for o in after['Contents']] == ['top.txt']
    v1 = s3.list_objects(Bucket='list', Prefix='env/dev/')
    assert [o['Key'] for o in v1['Contents']] == [f'env/dev/{i}.json' for i in range(3)]


def test_copy_and_multi_delete(s3):
    s3.create_bucket(Bucket='cpy')
    s3.put_object(Bucket='cpy', Key='a', Body=b'A')
    s3.copy_object(Bucket='cpy', Key='b', CopySource={'Bucket': 'cpy', 'Key': 'a'})
    assert s3.get_object(Bucket='cpy', Key='b')['Body'].read() == b'A'
    out = s3.delete_objects(Bucket='cpy', Delete={'Objects': [{'Key': 'a'}, {'Key': 'b'}]})
    assert sorted(d['Key'] for d in out['Deleted']) == ['a', 'b']
    assert s3.list_objects_v2(Bucket='cpy')['KeyCount'] == 0


def test_bucket_tagging_and_versioning(s3):
    s3.create_bucket(Bucket='meta')
    s3.put_bucket_tagging(Bucket='meta', Tagging={'TagSet': [{'Key': 'a', 'Value': 'b'}]})
    assert s3.get_bucket_tagging(Bucket='meta')['TagSet'] == [{'Key': 'a', 'Value': 'b'}]
    s3.delete_bucket_tagging(Bucket='meta')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_tagging(Bucket='meta')
    assert err(e) == ('NoSuchTagSet', 404)
    s3.put_bucket_versioning(Bucket='meta', VersioningConfiguration={'Status': 'Enabled'})
    assert s3.get_bucket_versioning(Bucket='meta')['Status'] == 'Enabled'


def test_error_has_request_id(emulator):
    st, h, body = emulator.raw('s3', method='GET', path='/nobucket/key')
    assert st == 404 and b'<Code>NoSuchBucket</Code>' in body
    assert h['x-amz-request-id'] and h['x-amz-request-id'].encode() in body


def test_inventory(emulator, s3):
    s3.create_bucket(Bucket='inv')
    s3.put_object(Bucket='inv', Key='x', Body=b'1')
    inv = [(i['type'], i['id']) for i in emulator.control('inventory') if i['service'] == 's3']
    assert inv == [('bucket', 'inv'), ('object', 'inv/x')]


def test_virtual_hosted_style(emulator, s3):
    s3.create_bucket(Bucket='vhost')
    s3.put_object(Bucket='vhost', Key='a/b', Body=b'vh')
    st, _, body = emulator.raw('s3', method='GET', path='/a/b',
                               headers={'Host': f'vhost.localhost:{emulator.port}'})
    assert st == 200 and body == b'vh'


def test_concurrent_lock_acquisition_has_one_winner(emulator, s3):
    """Eight writers race to create the same lock object: exactly one wins."""
    import threading
    s3.create_bucket(Bucket='race')
    clients = [emulator.client('s3', connect_timeout=10 + i) for i in range(8)]
    undos = [with_header(c, 'PutObject', 'If-None-Match', '*') for c in clients]
    results = []

    def grab(i):
        try:
            clients[i].put_object(Bucket='race', Key='lock', Body=f'holder-{i}'.encode())
            results.append(('won', i))
        except botocore.exceptions.ClientError as e:
            results.append((e.response['Error']['Code'], i))
    ts = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for u in undos:
        u()
    winners = [i for r, i in results if r == 'won']
    assert len(winners) == 1
    assert sorted(r for r, _ in results if r != 'won') == ['PreconditionFailed'] * 7
    body = s3.get_object(Bucket='race', Key='lock')['Body'].read()
    assert body == f'holder-{winners[0]}'.encode()


def test_versioning_keeps_every_put(s3):
    s3.create_bucket(Bucket='vers')
    s3.put_object(Bucket='vers', Key='k', Body=b'before')   # before versioning: "null"
    s3.put_bucket_versioning(Bucket='vers', VersioningConfiguration={'Status': 'Enabled'})
    v1 = s3.put_object(Bucket='vers', Key='k', Body=b'one')['VersionId']
    v2 = s3.put_object(Bucket='vers', Key='k', Body=b'two')['VersionId']
    s3.put_object(Bucket='vers', Key='k2', Body=b'other key')
    assert v1 != v2 and 'null' not in (v1, v2)
    assert s3.get_object(Bucket='vers', Key='k')['Body'].read() == b'two'
    assert s3.get_object(Bucket='vers', Key='k', VersionId=v1)['Body'].read() == b'one'
    assert s3.get_object(Bucket='vers', Key='k', VersionId='null')['Body'].read() == b'before'
    assert s3.head_object(Bucket='vers', Key='k', VersionId=v1)['VersionId'] == v1
    out = s3.list_object_versions(Bucket='vers', Prefix='k')
    mine = [v for v in out['Versions'] if v['Key'] == 'k']
    assert [v['VersionId'] for v in mine] == [v2, v1, 'null']
    assert [v['IsLatest'] for v in mine] == [True, False, False]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket='vers', Key='k', VersionId='0' * 32)
    assert err(e) == ('NoSuchVersion', 404)
    # a delete leaves a marker; the versions stay readable
    d = s3.delete_object(Bucket='vers', Key='k')
    assert d['DeleteMarker'] is True
    out = s3.list_object_versions(Bucket='vers', Prefix='k')
    assert [m['VersionId'] for m in out['DeleteMarkers']] == [d['VersionId']]
    assert out['DeleteMarkers'][0]['IsLatest'] is True
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket='vers', Key='k')
    assert err(e) == ('NoSuchKey', 404)
    assert s3.get_object(Bucket='vers', Key='k', VersionId=v2)['Body'].read() == b'two'


def test_unversioned_bucket_lists_one_null_version(s3):
    s3.create_bucket(Bucket='plain')
    s3.put_object(Bucket='plain', Key='k', Body=b'1')
    s3.put_object(Bucket='plain', Key='k', Body=b'2')
    out = s3.list_object_versions(Bucket='plain', Prefix='k')
    assert [(v['VersionId'], v['IsLatest']) for v in out['Versions']] == [('null', True)]
    assert 'VersionId' not in s3.put_object(Bucket='plain', Key='k', Body=b'3')


def test_server_side_encryption_echoed(s3):
    s3.create_bucket(Bucket='enc')
    assert s3.put_object(Bucket='enc', Key='a', Body=b'x')['ServerSideEncryption'] == 'AES256'
    r = s3.put_object(Bucket='enc', Key='b', Body=b'x', ServerSideEncryption='aws:kms',
                      SSEKMSKeyId='alias/state')
    assert (r['ServerSideEncryption'], r['SSEKMSKeyId']) == ('aws:kms', 'alias/state')
    g = s3.get_object(Bucket='enc', Key='b')
    assert (g['ServerSideEncryption'], g['SSEKMSKeyId']) == ('aws:kms', 'alias/state')
    assert s3.head_object(Bucket='enc', Key='a')['ServerSideEncryption'] == 'AES256'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket='enc', Key='c', Body=b'x', SSEKMSKeyId='alias/state')
    assert err(e) == ('InvalidArgument', 400)
