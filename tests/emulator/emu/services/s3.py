"""S3 (path-style): buckets and objects, ETags, conditional requests.

Conditional writes (for cairn's shared state backend): PutObject with
If-None-Match: * fails with 412 PreconditionFailed when the key exists;
If-Match: "<etag>" fails with 412 when the ETag differs and 404 NoSuchKey when
the key does not exist. These headers are read from the raw request because
this botocore's model predates them in PutObject. GetObject/HeadObject honour
If-Match / If-None-Match (412 / 304) as modelled.

Versioning (for cairn's `state history` / `state pull --version-id`): with the
bucket's versioning Enabled every PutObject keeps a new version (a random
VersionId, returned as x-amz-version-id), DeleteObject adds a delete marker,
GetObject/HeadObject take versionId, ListObjectVersions lists versions and
delete markers newest first. Without versioning the one version is "null" (as
AWS lists it). Server-side encryption: PutObject's x-amz-server-side-encryption
(AES256 or aws:kms) and KMS key id are stored and echoed by Put/Get/HeadObject;
without the header the object is AES256 (the default encryption AWS applies
to every new object since January 2023).

Store: buckets[name] = {Name, CreationDate, Region, Tags, Versioning,
                        objects {key: {Body (base64), ETag, LastModified, ContentType,
                                       Metadata, Size, VersionId, SSE, KMSKeyId}},
                        versions {key: [object or {DeleteMarker: True, VersionId,
                                  LastModified}, oldest first]}}
"""
import base64
import hashlib
import re

from ..core import AwsError, lookup

_BUCKET_RE = re.compile(r'^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')


class S3Error(AwsError):
    def __init__(self, code, message, status, headers=None, **extra):
        super().__init__(code, message, status=status, headers=headers)
        self.extra = extra


def _st(ctx):
    return ctx.store('s3').setdefault('buckets', {})


# --- which region a request addressed -----------------------------------------
#
# A bucket lives in one Region; S3 answers a request that reaches another
# Region's endpoint, or is signed for another Region, as follows (S3 user
# guide "Request routing" and "Making requests", API reference CreateBucket,
# and the answers the SDKs' redirect handlers expect; docs/aws-behaviour.md):
#   - path-style (or a regional virtual-hosted name) at another Region's
#     endpoint: 301 PermanentRedirect, x-amz-bucket-region: <region>, the XML
#     error with <Endpoint> and <Bucket> (HEAD: the status and headers only);
#   - the right endpoint, signed for another Region: 400
#     AuthorizationHeaderMalformed "the region 'X' is wrong; expecting 'Y'"
#     with <Region>Y</Region>;
#   - <bucket>.s3.amazonaws.com (the global name, routed by DNS to the
#     bucket's Region) while the bucket is younger than
#     config s3_dns_propagation_seconds: 307 TemporaryRedirect, Location and
#     <Endpoint> naming the regional host, x-amz-bucket-region;
#   - Regions launched after 20 March 2019 (opt-in) answer 400
#     IllegalLocationConstraintException instead of redirecting, both ways.
# Which endpoint a request reached: the Host header when it is an AWS S3
# host name (s3.amazonaws.com, s3.<region>.amazonaws.com, s3-<region>...,
# with or without a bucket in front); otherwise (127.0.0.1, the usual
# endpoint override) the endpoint of the Region it is signed for, the SDKs'
# pairing, where us-east-1 is the global endpoint s3.amazonaws.com.

OPT_IN_REGIONS = frozenset((
    'af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4',
    'ap-southeast-5', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1',
    'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1'))

_AWS_HOST = re.compile(r'^(?:(?P<bucket>.+)\.)?s3(?:[.-](?P<region>(?!amazonaws)'
                       r'[a-z0-9-]+))?\.amazonaws\.com$')


def vhost_bucket(host):
    """The bucket of a virtual-hosted AWS host name, else None."""
    m = _AWS_HOST.match(host or '')
    return m.group('bucket') if m else None


def _endpoint(ctx):
    """-> (region, is_global, virtual_hosted) of the endpoint addressed."""
    host = ((ctx.http.get('headers') or {}).get('Host') or '').rsplit(':', 1)[0] \
        if ctx.http else ''
    m = _AWS_HOST.match(host)
    if m:
        region = m.group('region')
        if region in (None, 'external-1'):
            return 'us-east-1', True, bool(m.group('bucket'))
        return region, False, bool(m.group('bucket'))
    vhost = host.endswith('.localhost')
    return ctx.region, ctx.region == 'us-east-1', vhost


def regional_host(name, region, vhost):
    base = 's3.amazonaws.com' if region == 'us-east-1' else f's3.{region}.amazonaws.com'
    return f'{name}.{base}' if vhost else base


def _check_region(ctx, b):
    br = b['Region']
    ep, is_global, vhost = _endpoint(ctx)
    hdr = {'x-amz-bucket-region': br}
    if is_global and vhost and br != 'us-east-1':
        # DNS sends <bucket>.s3.amazonaws.com to the bucket's Region once
        # the name has propagated; until then the global endpoint answers
        window = float(lookup(ctx.config.get('s3_dns_propagation_seconds'), 's3',
                              ctx.operation) or 0)
        if ctx.now() - b['CreationDate'] < window:
            target = regional_host(b['Name'], br, True)
            path = (ctx.http.get('path') or '/')
            q = ctx.http.get('query')
            e = S3Error('TemporaryRedirect', 'Please re-send this request to the specified '
                                             'temporary endpoint. Continue to use the '
                                             'original request endpoint for future requests.',
                        307, headers=dict(hdr, Location=f'https://{target}{path}' +
                                          (f'?{q}' if q else '')),
                        Endpoint=target, Bucket=b['Name'])
            raise e
        ep = br
    if ep != br:
        if ep in OPT_IN_REGIONS or br in OPT_IN_REGIONS:
            lc = 'unspecified' if br == 'us-east-1' else br
            raise S3Error('IllegalLocationConstraintException',
                          f'The {lc} location constraint is incompatible for the region '
                          f'specific endpoint this request was sent to.', 400, headers=hdr)
        raise S3Error('PermanentRedirect', 'The bucket you are attempting to access must be '
                                           'addressed using the specified endpoint. Please '
                                           'send all future requests to this endpoint.',
                      301, headers=hdr, Endpoint=regional_host(b['Name'], br, vhost),
                      Bucket=b['Name'])
    if ctx.region != br:
        raise S3Error('AuthorizationHeaderMalformed',
                      f"The authorization header is malformed; the region '{ctx.region}' is "
                      f"wrong; expecting '{br}'", 400, headers=hdr, Region=br)


def _bucket(ctx, name, check_region=True):
    b = _st(ctx).get(name)
    if b is None:
        raise S3Error('NoSuchBucket', 'The specified bucket does not exist', 404,
                      BucketName=name)
    if check_region:
        _check_region(ctx, b)
    if b.get('Owner', ctx.account) != ctx.account:
        # another account's bucket (no bucket policy grants anything
        # here): AWS answers 403, HeadBucket with the status alone
        raise S3Error('AccessDenied', 'Access Denied', 403)
    return b


def _header(ctx, name):
    h = ctx.http.get('headers')
    return h.get(name) if h is not None else None


def create_bucket(ctx, p):
    name = p['Bucket']
    if not _BUCKET_RE.match(name) or '..' in name or re.match(r'^\d+\.\d+\.\d+\.\d+$', name):
        raise S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400,
                      BucketName=name)
    st = _st(ctx)
    lc = (p.get('CreateBucketConfiguration') or {}).get('LocationConstraint')
    if lc == 'us-east-1':
        # us-east-1 is the absence of a constraint; naming it is refused
        raise S3Error('InvalidLocationConstraint', 'The specified location-constraint is '
                                                   'not valid', 400, LocationConstraint=lc)
    if lc == 'EU':
        lc = 'eu-west-1'    # the legacy name of Ireland
    region = lc or 'us-east-1'
    ep, is_global, _vhost = _endpoint(ctx)
    if ctx.region != ep:
        raise S3Error('AuthorizationHeaderMalformed',
                      f"The authorization header is malformed; the region '{ctx.region}' is "
                      f"wrong; expecting '{ep}'", 400, Region=ep)
    # the global endpoint (signed us-east-1) creates a bucket in any Region;
    # a regional endpoint only in its own (API reference, CreateBucket)
    if region != ep and not (is_global and lc):
        lcs = lc or 'unspecified'
        raise S3Error('IllegalLocationConstraintException',
                      f'The {lcs} location constraint is incompatible for the region '
                      f'specific endpoint this request was sent to.', 400)
    if name in st:
        if st[name]['Owner'] != ctx.account:
            raise S3Error('BucketAlreadyExists', 'The requested bucket name is not available.',
                          409, BucketName=name)
        if region == 'us-east-1' and st[name]['Region'] == 'us-east-1':
            return {'Location': f'/{name}'}   # us-east-1 legacy: 200 OK for the owner
        raise S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named '
                                                 'bucket succeeded and you already own it.',
                      409, BucketName=name)
    st[name] = {'Name': name, 'CreationDate': ctx.now(), 'Region': region,
                'Owner': ctx.account, 'Tags': [], 'Versioning': None, 'objects': {}}
    return {'Location': f'/{name}'}


def head_bucket(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    return {'BucketRegion': b['Region']}


def delete_bucket(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    if b['objects']:
        raise S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409,
                      BucketName=b['Name'])
    del _st(ctx)[b['Name']]
    return {'__status__': 204}


def list_buckets(ctx, p):
    return {'__root__': 'ListAllMyBucketsResult',
            'Buckets': [{'Name': b['Name'], 'CreationDate': b['CreationDate'],
                         'BucketRegion': b['Region']}
                        for b in sorted(_st(ctx).values(), key=lambda b: b['Name'])
                        # the caller's own buckets only; Prefix (2024) filters
                        if b.get('Owner', ctx.account) == ctx.account
                        and b['Name'].startswith(p.get('Prefix') or '')],
            'Owner': {'ID': hashlib.sha256(ctx.account.encode()).hexdigest(),
                      'DisplayName': 'emulator'}}


def get_bucket_location(ctx, p):
    # answered from any Region's endpoint: how a client learns where a
    # bucket is without being redirected
    b = _bucket(ctx, p['Bucket'], check_region=False)
    # the root element itself carries the value; us-east-1 is an empty element
    value = '' if b['Region'] == 'us-east-1' else b['Region']
    return {'__body__': ('<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
                         'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                         f'{value}</LocationConstraint>').encode()}


def put_bucket_versioning(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    b['Versioning'] = p['VersioningConfiguration'].get('Status')
    return {}


def get_bucket_versioning(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    out = {'__root__': 'VersioningConfiguration'}
    if b['Versioning']:
        out['Status'] = b['Versioning']
    return out


def put_bucket_tagging(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    b['Tags'] = list(p['Tagging'].get('TagSet', []))
    return {'__status__': 204}


def get_bucket_tagging(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    if not b['Tags']:
        raise S3Error('NoSuchTagSet', 'The TagSet does not exist', 404, BucketName=b['Name'])
    return {'__root__': 'Tagging', 'TagSet': b['Tags']}


def delete_bucket_tagging(ctx, p):
    _bucket(ctx, p['Bucket'])['Tags'] = []
    return {'__status__': 204}


# --- objects ------------------------------------------------------------------

def _obj(ctx, b, key):
    o = b['objects'].get(key)
    if o is None:
        raise S3Error('NoSuchKey', 'The specified key does not exist.', 404, Key=key)
    return o


def _etag_list(value):
    return [x.strip() for x in value.split(',')]


def _check_write_conditions(ctx, b, key):
    inm = _header(ctx, 'If-None-Match')
    im = _header(ctx, 'If-Match')
    cur = b['objects'].get(key)
    if inm is not None:
        if inm.strip() != '*':
            raise S3Error('NotImplemented', 'A header you provided implies functionality that '
                                            'is not implemented', 501, Header='If-None-Match')
        if cur is not None:
            raise S3Error('PreconditionFailed', 'At least one of the pre-conditions you '
                                                'specified did not hold', 412,
                          Condition='If-None-Match')
    if im is not None:
        if cur is None:
            raise S3Error('NoSuchKey', 'The specified key does not exist.', 404, Key=key)
        if cur['ETag'] not in _etag_list(im) and im.strip() != '*':
            raise S3Error('PreconditionFailed', 'At least one of the pre-conditions you '
                                                'specified did not hold', 412,
                          Condition='If-Match')


def put_object(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    key = p['Key']
    if len(key.encode()) > 1024:
        raise S3Error('KeyTooLongError', 'Your key is too long', 400)
    body = p.get('Body') or b''
    if isinstance(body, str):
        body = body.encode()
    md5 = hashlib.md5(body)
    if p.get('ContentMD5'):
        try:
            sent = base64.b64decode(p['ContentMD5'], validate=True)
        except ValueError:
            raise S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400)
        if sent != md5.digest():
            raise S3Error('BadDigest', 'The Content-MD5 you specified did not match what we '
                                       'received.', 400)
    _check_write_conditions(ctx, b, key)
    etag = f'"{md5.hexdigest()}"'
    sse = p.get('ServerSideEncryption') or 'AES256'
    if sse not in ('AES256', 'aws:kms', 'aws:kms:dsse'):
        raise S3Error('InvalidArgument', 'The encryption method specified is not supported',
                      400, ArgumentName='x-amz-server-side-encryption', ArgumentValue=sse)
    kms = None
    if sse.startswith('aws:kms'):
        kms = p.get('SSEKMSKeyId') or \
            f'arn:aws:kms:{ctx.region}:{ctx.account}:alias/aws/s3'
    elif p.get('SSEKMSKeyId'):
        raise S3Error('InvalidArgument', 'Server Side Encryption with KMS managed key '
                                         'requires HTTP header x-amz-server-side-encryption '
                                         ': aws:kms', 400)
    vid = ctx.rand_hex(32) if b.get('Versioning') == 'Enabled' else 'null'
    o = {'Body': base64.b64encode(body).decode(), 'ETag': etag,
         'LastModified': float(int(ctx.now())), 'Size': len(body),
         'ContentType': p.get('ContentType') or 'binary/octet-stream',
         'Metadata': p.get('Metadata') or {}, 'VersionId': vid, 'SSE': sse,
         'KMSKeyId': kms}
    b['objects'][key] = o
    _keep_version(b, key, o)
    out = {'ETag': etag, 'ServerSideEncryption': sse}
    if kms:
        out['SSEKMSKeyId'] = kms
    if vid != 'null':
        out['VersionId'] = vid
    return out


def _keep_version(b, key, entry):
    vs = b.setdefault('versions', {}).setdefault(key, [])
    if entry['VersionId'] == 'null':
        vs[:] = [v for v in vs if v['VersionId'] != 'null']
    vs.append(entry)


def _read_conditions(ctx, p, o):
    im = p.get('IfMatch')
    inm = p.get('IfNoneMatch')
    if im is not None and o['ETag'] not in _etag_list(im) and im.strip() != '*':
        raise S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified '
                                            'did not hold', 412, Condition='If-Match')
    if inm is not None and (o['ETag'] in _etag_list(inm) or inm.strip() == '*'):
        raise AwsError('NotModified', 'Not Modified', status=304)
    if 'IfUnmodifiedSince' in p and o['LastModified'] > p['IfUnmodifiedSince']:
        raise S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified '
                                            'did not hold', 412, Condition='If-Unmodified-Since')
    if 'IfModifiedSince' in p and im is None and o['LastModified'] <= p['IfModifiedSince']:
        raise AwsError('NotModified', 'Not Modified', status=304)


def _obj_headers(o):
    out = {'ETag': o['ETag'], 'LastModified': o['LastModified'], 'ContentLength': o['Size'],
           'ContentType': o['ContentType'], 'AcceptRanges': 'bytes',
           'ServerSideEncryption': o.get('SSE') or 'AES256'}
    if o.get('KMSKeyId'):
        out['SSEKMSKeyId'] = o['KMSKeyId']
    if o.get('VersionId') not in (None, 'null'):
        out['VersionId'] = o['VersionId']
    if o['Metadata']:
        out['Metadata'] = o['Metadata']
    return out


def _get_version(ctx, b, key, p):
    """The current object, or the version p['VersionId'] names."""
    vid = p.get('VersionId')
    if vid is None:
        return _obj(ctx, b, key)
    for v in b.get('versions', {}).get(key, []):
        if v['VersionId'] == vid:
            if v.get('DeleteMarker'):
                raise S3Error('MethodNotAllowed', 'The specified method is not allowed '
                                                  'against this resource.', 405,
                              Method='GET', ResourceType='DeleteMarker')
            return v
    if vid == 'null' and key in b['objects'] and b['objects'][key].get('VersionId') in \
            (None, 'null'):
        return b['objects'][key]
    raise S3Error('NoSuchVersion', 'The specified version does not exist.', 404, Key=key,
                  VersionId=vid)


def get_object(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    o = _get_version(ctx, b, p['Key'], p)
    _read_conditions(ctx, p, o)
    body = base64.b64decode(o['Body'])
    out = _obj_headers(o)
    rng = p.get('Range')
    if rng:
        m = re.match(r'^bytes=(\d*)-(\d*)$', rng.strip())
        if m and (m.group(1) or m.group(2)):
            size = len(body)
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
                end = size - 1
            if start >= size:
                raise S3Error('InvalidRange', 'The requested range is not satisfiable', 416,
                              RangeRequested=rng, ActualObjectSize=size)
            end = min(end, size - 1)
            body = body[start:end + 1]
            out['ContentRange'] = f'bytes {start}-{end}/{size}'
            out['ContentLength'] = len(body)
            out['__status__'] = 206
    out['Body'] = body
    return out


def head_object(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    o = _get_version(ctx, b, p['Key'], p)
    _read_conditions(ctx, p, o)
    return _obj_headers(o)


def delete_object(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    im = _header(ctx, 'If-Match')
    cur = b['objects'].get(p['Key'])
    if im is not None:
        if cur is None:
            raise S3Error('NoSuchKey', 'The specified key does not exist.', 404, Key=p['Key'])
        if cur['ETag'] not in _etag_list(im) and im.strip() != '*':
            raise S3Error('PreconditionFailed', 'At least one of the pre-conditions you '
                                                'specified did not hold', 412,
                          Condition='If-Match')
    if p.get('VersionId'):
        vs = b.get('versions', {}).get(p['Key'], [])
        vs[:] = [v for v in vs if v['VersionId'] != p['VersionId']]
        if cur is not None and cur.get('VersionId') == p['VersionId']:
            b['objects'].pop(p['Key'], None)
        return {'__status__': 204, 'VersionId': p['VersionId']}
    b['objects'].pop(p['Key'], None)
    if b.get('Versioning') == 'Enabled' and cur is not None:
        vid = ctx.rand_hex(32)
        _keep_version(b, p['Key'], {'DeleteMarker': True, 'VersionId': vid,
                                    'LastModified': float(int(ctx.now()))})
        return {'__status__': 204, 'DeleteMarker': True, 'VersionId': vid}
    if cur is not None and b.get('versions', {}).get(p['Key']):
        # unversioned bucket: the "null" version goes with the object
        vs = b['versions'][p['Key']]
        vs[:] = [v for v in vs if v['VersionId'] != 'null']
    return {'__status__': 204}


def list_object_versions(ctx, p):
    """Versions and delete markers of the keys under Prefix, newest first per
    key (no pagination: MaxKeys is honoured as a cap with IsTruncated)."""
    b = _bucket(ctx, p['Bucket'])
    prefix = p.get('Prefix', '')
    max_keys = p.get('MaxKeys', 1000)
    versions, markers = [], []
    count = 0
    truncated = False
    for key in sorted(b.get('versions', {})):
        if not key.startswith(prefix):
            continue
        vs = b['versions'][key]
        for i, v in enumerate(reversed(vs)):
            if count >= max_keys:
                truncated = True
                break
            count += 1
            item = {'Key': key, 'VersionId': v['VersionId'], 'IsLatest': i == 0,
                    'LastModified': v['LastModified']}
            if v.get('DeleteMarker'):
                markers.append(item)
            else:
                item.update({'ETag': v['ETag'], 'Size': v['Size'],
                             'StorageClass': 'STANDARD'})
                versions.append(item)
    out = {'__root__': 'ListVersionsResult', 'Name': b['Name'], 'Prefix': prefix,
           'KeyMarker': p.get('KeyMarker', ''), 'VersionIdMarker': p.get('VersionIdMarker', ''),
           'MaxKeys': max_keys, 'IsTruncated': truncated}
    if versions:
        out['Versions'] = versions
    if markers:
        out['DeleteMarkers'] = markers
    return out


def delete_objects(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    deleted = []
    for o in p['Delete'].get('Objects', []):
        b['objects'].pop(o['Key'], None)
        deleted.append({'Key': o['Key']})
    out = {'__root__': 'DeleteResult'}
    if not p['Delete'].get('Quiet'):
        out['Deleted'] = deleted
    return out


def copy_object(ctx, p):
    b = _bucket(ctx, p['Bucket'])
    src = p['CopySource'].lstrip('/')
    from urllib.parse import unquote
    src = unquote(src.split('?', 1)[0])
    sb, _, sk = src.partition('/')
    so = _obj(ctx, _bucket(ctx, sb, check_region=False), sk)  # a source in any Region
    o = dict(so)
    if p.get('MetadataDirective') == 'REPLACE':
        o['Metadata'] = p.get('Metadata') or {}
        o['ContentType'] = p.get('ContentType') or 'binary/octet-stream'
    o['LastModified'] = float(int(ctx.now()))
    b['objects'][p['Key']] = o
    return {'CopyObjectResult': {'ETag': o['ETag'], 'LastModified': o['LastModified']}}


def _list(ctx, p, v2):
    b = _bucket(ctx, p['Bucket'])
    prefix = p.get('Prefix', '')
    delim = p.get('Delimiter')
    max_keys = p.get('MaxKeys', 1000)
    if max_keys < 0:
        raise S3Error('InvalidArgument', 'Argument maxKeys must be an integer between 0 and '
                                         '2147483647', 400)
    keys = sorted(k for k in b['objects'] if k.startswith(prefix))
    after = ''
    if v2:
        if p.get('ContinuationToken'):
            try:
                after = base64.urlsafe_b64decode(p['ContinuationToken'].encode()).decode()
            except ValueError:
                raise S3Error('InvalidArgument', 'The continuation token provided is '
                                                 'incorrect', 400)
        elif p.get('StartAfter'):
            after = p['StartAfter']
    elif p.get('Marker'):
        after = p['Marker']
    contents, prefixes = [], []
    truncated = False
    last = None
    for k in keys:
        if k <= after:
            continue
        if delim:
            i = k.find(delim, len(prefix))
            if i >= 0:
                cp = k[:i + len(delim)]
                if cp <= after or (prefixes and prefixes[-1] == cp):
                    continue
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                prefixes.append(cp)
                last = cp
                continue
        if len(contents) + len(prefixes) >= max_keys:
            truncated = True
            break
        o = b['objects'][k]
        contents.append({'Key': k, 'LastModified': o['LastModified'], 'ETag': o['ETag'],
                         'Size': o['Size'], 'StorageClass': 'STANDARD'})
        last = k
    out = {'__root__': 'ListBucketResult', 'Name': b['Name'], 'Prefix': prefix,
           'MaxKeys': max_keys, 'IsTruncated': truncated}
    if contents:
        out['Contents'] = contents
    if prefixes:
        out['CommonPrefixes'] = [{'Prefix': x} for x in prefixes]
    if delim:
        out['Delimiter'] = delim
    if v2:
        out['KeyCount'] = len(contents) + len(prefixes)
        if p.get('ContinuationToken'):
            out['ContinuationToken'] = p['ContinuationToken']
        if p.get('StartAfter'):
            out['StartAfter'] = p['StartAfter']
        if truncated and last is not None:
            out['NextContinuationToken'] = base64.urlsafe_b64encode(last.encode()).decode()
    else:
        out['Marker'] = p.get('Marker', '')
        if truncated and delim and last is not None:
            out['NextMarker'] = last
    return out


def list_objects_v2(ctx, p):
    return _list(ctx, p, True)


def list_objects(ctx, p):
    return _list(ctx, p, False)


HANDLERS = {
    'CreateBucket': create_bucket, 'HeadBucket': head_bucket, 'DeleteBucket': delete_bucket,
    'ListBuckets': list_buckets, 'GetBucketLocation': get_bucket_location,
    'PutBucketVersioning': put_bucket_versioning,
    'GetBucketVersioning': get_bucket_versioning,
    'PutBucketTagging': put_bucket_tagging, 'GetBucketTagging': get_bucket_tagging,
    'DeleteBucketTagging': delete_bucket_tagging,
    'PutObject': put_object, 'GetObject': get_object, 'HeadObject': head_object,
    'DeleteObject': delete_object, 'DeleteObjects': delete_objects,
    'CopyObject': copy_object, 'ListObjectsV2': list_objects_v2, 'ListObjects': list_objects,
    'ListObjectVersions': list_object_versions,
}

# bucket configuration (encryption, public access block, lifecycle, ownership,
# policy): emu/services/s3_config.py
from emu.services import s3_config as _config  # noqa: E402
HANDLERS.update(_config.EXTRA_HANDLERS)


def inventory(store):
    out = []
    for name, b in sorted(store.get('buckets', {}).items()):
        out.append({'service': 's3', 'type': 'bucket', 'id': name})
        for key in sorted(b['objects']):
            out.append({'service': 's3', 'type': 'object', 'id': f'{name}/{key}'})
    return out
