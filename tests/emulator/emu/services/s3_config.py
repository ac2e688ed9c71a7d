"""S3 bucket configuration, kept apart from s3.py (which merges EXTRA_HANDLERS
into its HANDLERS): default encryption, public access block, lifecycle rules,
ownership controls, bucket policy. Stored in the bucket record under 'config'.

AWS behaviour followed (S3 API reference; "Default encryption", "Blocking
public access", "Controlling ownership of objects" in the user guide):
- every bucket is encrypted with SSE-S3 (AES256) unless configured otherwise
  (January 2023), so GetBucketEncryption always answers a rule;
- a new bucket has all four public access block settings on and object
  ownership BucketOwnerEnforced (April 2023);
- without a lifecycle configuration GetBucketLifecycleConfiguration is 404
  NoSuchLifecycleConfiguration; without a policy GetBucketPolicy is 404
  NoSuchBucketPolicy; a policy that is not JSON is MalformedPolicy; with
  BlockPublicPolicy on, a policy granting access to Principal "*" is 403
  AccessDenied;
- a lifecycle rule needs an ID unique in the configuration, a Status of
  Enabled/Disabled and at least one action.
"""
import json

from ..core import AwsError
from .s3 import S3Error, _bucket

PAB_KEYS = ('BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets')


def _cfg(ctx, name):
    b = _bucket(ctx, name)
    c = b.setdefault('config', {})
    c.setdefault('PublicAccessBlock', {k: True for k in PAB_KEYS})
    c.setdefault('Ownership', 'BucketOwnerEnforced')
    return b, c


def put_bucket_encryption(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    rules = p['ServerSideEncryptionConfiguration'].get('Rules') or []
    for r in rules:
        algo = (r.get('ApplyServerSideEncryptionByDefault') or {}).get('SSEAlgorithm')
        if algo not in ('AES256', 'aws:kms', 'aws:kms:dsse'):
            raise S3Error('MalformedXML', 'The XML you provided was not well-formed or did '
                                          'not validate against our published schema', 400)
    c['Encryption'] = rules
    return {}


def get_bucket_encryption(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    rules = c.get('Encryption') or [{'ApplyServerSideEncryptionByDefault':
                                     {'SSEAlgorithm': 'AES256'}, 'BucketKeyEnabled': False}]
    return {'ServerSideEncryptionConfiguration': {'Rules': rules}}


def delete_bucket_encryption(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    c.pop('Encryption', None)
    return {'__status__': 204}


def put_public_access_block(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    conf = p['PublicAccessBlockConfiguration']
    c['PublicAccessBlock'] = {k: bool(conf.get(k, False)) for k in PAB_KEYS}
    return {}


def get_public_access_block(ctx, p):
    b, c = _cfg(ctx, p['Bucket'])
    if c.get('PublicAccessBlock') is None:
        raise S3Error('NoSuchPublicAccessBlockConfiguration',
                      'The public access block configuration was not found', 404,
                      BucketName=b['Name'])
    return {'PublicAccessBlockConfiguration': dict(c['PublicAccessBlock'])}


def delete_public_access_block(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    c['PublicAccessBlock'] = None
    return {'__status__': 204}


def put_bucket_lifecycle_configuration(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    rules = (p.get('LifecycleConfiguration') or {}).get('Rules') or []
    seen = set()
    for r in rules:
        rid = r.get('ID') or ''
        if rid in seen:
            raise S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more '
                                             'than one rule', 400)
        seen.add(rid)
        if r.get('Status') not in ('Enabled', 'Disabled'):
            raise S3Error('MalformedXML', 'The XML you provided was not well-formed or did '
                                          'not validate against our published schema', 400)
        actions = ('Expiration', 'Transitions', 'NoncurrentVersionExpiration',
                   'NoncurrentVersionTransitions', 'AbortIncompleteMultipartUpload')
        if not any(r.get(a) for a in actions):
            raise S3Error('InvalidRequest', 'At least one action needs to be specified in a '
                                            'rule', 400)
    if len(rules) > 1000:
        raise S3Error('InvalidRequest', 'Too many lifecycle rules', 400)
    c['Lifecycle'] = rules
    return {}


def get_bucket_lifecycle_configuration(ctx, p):
    b, c = _cfg(ctx, p['Bucket'])
    if not c.get('Lifecycle'):
        raise S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not '
                                                      'exist', 404, BucketName=b['Name'])
    return {'Rules': c['Lifecycle']}


def delete_bucket_lifecycle(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    c.pop('Lifecycle', None)
    return {'__status__': 204}


def put_bucket_ownership_controls(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    rules = p['OwnershipControls'].get('Rules') or []
    if len(rules) != 1 or rules[0].get('ObjectOwnership') not in (
            'BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'):
        raise S3Error('MalformedXML', 'The XML you provided was not well-formed or did not '
                                      'validate against our published schema', 400)
    c['Ownership'] = rules[0]['ObjectOwnership']
    return {}


def get_bucket_ownership_controls(ctx, p):
    b, c = _cfg(ctx, p['Bucket'])
    if not c.get('Ownership'):
        raise S3Error('OwnershipControlsNotFoundError', 'The bucket ownership controls were '
                                                        'not found', 404, BucketName=b['Name'])
    return {'OwnershipControls': {'Rules': [{'ObjectOwnership': c['Ownership']}]}}


def delete_bucket_ownership_controls(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    c['Ownership'] = None
    return {'__status__': 204}


def _public(doc):
    for st in doc.get('Statement') or []:
        if st.get('Effect') != 'Allow':
            continue
        pr = st.get('Principal')
        if pr == '*' or (isinstance(pr, dict) and '*' in (
                pr.get('AWS') if isinstance(pr.get('AWS'), list) else [pr.get('AWS')])):
            if not st.get('Condition'):
                return True
    return False


def put_bucket_policy(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    text = p['Policy']
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or not doc.get('Statement'):
            raise ValueError
    except ValueError:
        raise S3Error('MalformedPolicy', 'Policies must be valid JSON and the first byte must '
                                         'be \'{\'', 400)
    if (c.get('PublicAccessBlock') or {}).get('BlockPublicPolicy') and _public(doc):
        raise AwsError('AccessDenied', 'Access Denied', status=403)
    c['Policy'] = text
    return {'__status__': 204}


def get_bucket_policy(ctx, p):
    b, c = _cfg(ctx, p['Bucket'])
    if not c.get('Policy'):
        raise S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', 404,
                      BucketName=b['Name'])
    return {'Policy': c['Policy']}


def delete_bucket_policy(ctx, p):
    _, c = _cfg(ctx, p['Bucket'])
    c.pop('Policy', None)
    return {'__status__': 204}


EXTRA_HANDLERS = {
    'PutBucketEncryption': put_bucket_encryption, 'GetBucketEncryption': get_bucket_encryption,
    'DeleteBucketEncryption': delete_bucket_encryption,
    'PutPublicAccessBlock': put_public_access_block,
    'GetPublicAccessBlock': get_public_access_block,
    'DeletePublicAccessBlock': delete_public_access_block,
    'PutBucketLifecycleConfiguration': put_bucket_lifecycle_configuration,
    'GetBucketLifecycleConfiguration': get_bucket_lifecycle_configuration,
    'DeleteBucketLifecycle': delete_bucket_lifecycle,
    # the deprecated operations on the same URIs (the router may name either)
    'GetBucketLifecycle': get_bucket_lifecycle_configuration,
    'PutBucketLifecycle': put_bucket_lifecycle_configuration,
    'PutBucketOwnershipControls': put_bucket_ownership_controls,
    'GetBucketOwnershipControls': get_bucket_ownership_controls,
    'DeleteBucketOwnershipControls': delete_bucket_ownership_controls,
    'PutBucketPolicy': put_bucket_policy, 'GetBucketPolicy': get_bucket_policy,
    'DeleteBucketPolicy': delete_bucket_policy,
}
