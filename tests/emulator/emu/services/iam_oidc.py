"""IAM OpenID Connect identity providers, kept apart from iam.py (which merges
EXTRA_HANDLERS into its HANDLERS and lists them in its inventory). Records in
iam's store: oidc[arn] = {Url (without https://), ClientIDList, ThumbprintList,
Tags, CreateDate}.

AWS behaviour followed (IAM API reference, CreateOpenIDConnectProvider):
- the ARN is arn:aws:iam::<account>:oidc-provider/<url without https://>;
- one provider per URL (EntityAlreadyExists);
- the URL must start with https://; at most 100 client ids, 5 thumbprints of
  40 hex characters each (thumbprints are optional since 2024: IAM trusts the
  provider's root CA for well-known providers such as GitHub);
- Get/Delete of an unknown ARN is NoSuchEntity.
"""
import re

from ..core import AwsError

_THUMB = re.compile(r'^[0-9a-fA-F]{40}$')


def _st(ctx):
    return ctx.store('iam').setdefault('oidc', {})


def _get(ctx, arn):
    p = _st(ctx).get(arn)
    if p is None:
        raise AwsError('NoSuchEntity', f'OpenIDConnect Provider not found for arn {arn}',
                       status=404)
    return p


def _check_thumbs(thumbs):
    if len(thumbs) > 5:
        raise AwsError('LimitExceeded', 'Thumbprint list must contain at most 5 entries.',
                       status=409)
    for t in thumbs:
        if not _THUMB.match(t):
            raise AwsError('ValidationError', f"1 validation error detected: Value '{t}' "
                                              f"at 'thumbprintList' failed to satisfy "
                                              f"constraint: Member must have length 40")


def create_open_id_connect_provider(ctx, p):
    url = p['Url']
    if not url.startswith('https://'):
        raise AwsError('ValidationError', 'The URL must begin with https://', status=400)
    host = url[len('https://'):].rstrip('/')
    arn = f'arn:aws:iam::{ctx.account}:oidc-provider/{host}'
    if arn in _st(ctx):
        raise AwsError('EntityAlreadyExists', f'Provider with url {url} already exists.',
                       status=409)
    clients = list(p.get('ClientIDList') or [])
    if len(clients) > 100:
        raise AwsError('LimitExceeded', 'Too many client ids.', status=409)
    thumbs = list(p.get('ThumbprintList') or [])
    _check_thumbs(thumbs)
    _st(ctx)[arn] = {'Url': host, 'ClientIDList': clients, 'ThumbprintList': thumbs,
                     'Tags': list(p.get('Tags') or []), 'CreateDate': ctx.now()}
    out = {'OpenIDConnectProviderArn': arn}
    if p.get('Tags'):
        out['Tags'] = list(p['Tags'])
    return out


def get_open_id_connect_provider(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    out = {'Url': o['Url'], 'ClientIDList': o['ClientIDList'],
           'ThumbprintList': o['ThumbprintList'], 'CreateDate': o['CreateDate']}
    if o['Tags']:
        out['Tags'] = o['Tags']
    return out


def delete_open_id_connect_provider(ctx, p):
    _get(ctx, p['OpenIDConnectProviderArn'])
    del _st(ctx)[p['OpenIDConnectProviderArn']]
    return {}


def list_open_id_connect_providers(ctx, p):
    return {'OpenIDConnectProviderList': [{'Arn': a} for a in sorted(_st(ctx))]}


def add_client_id_to_open_id_connect_provider(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    if p['ClientID'] not in o['ClientIDList']:
        o['ClientIDList'].append(p['ClientID'])
    return {}


def remove_client_id_from_open_id_connect_provider(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    o['ClientIDList'] = [c for c in o['ClientIDList'] if c != p['ClientID']]
    return {}


def update_open_id_connect_provider_thumbprint(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    _check_thumbs(p['ThumbprintList'])
    o['ThumbprintList'] = list(p['ThumbprintList'])
    return {}


def tag_open_id_connect_provider(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    cur = {t['Key']: t.get('Value', '') for t in o['Tags']}
    cur.update({t['Key']: t.get('Value', '') for t in p['Tags']})
    if len(cur) > 50:
        raise AwsError('LimitExceeded', 'Too many tags.', status=409)
    o['Tags'] = [{'Key': k, 'Value': v} for k, v in cur.items()]
    return {}


def untag_open_id_connect_provider(ctx, p):
    o = _get(ctx, p['OpenIDConnectProviderArn'])
    o['Tags'] = [t for t in o['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


def list_open_id_connect_provider_tags(ctx, p):
    return {'Tags': list(_get(ctx, p['OpenIDConnectProviderArn'])['Tags']),
            'IsTruncated': False}


EXTRA_HANDLERS = {
    'CreateOpenIDConnectProvider': create_open_id_connect_provider,
    'GetOpenIDConnectProvider': get_open_id_connect_provider,
    'DeleteOpenIDConnectProvider': delete_open_id_connect_provider,
    'ListOpenIDConnectProviders': list_open_id_connect_providers,
    'AddClientIDToOpenIDConnectProvider': add_client_id_to_open_id_connect_provider,
    'RemoveClientIDFromOpenIDConnectProvider': remove_client_id_from_open_id_connect_provider,
    'UpdateOpenIDConnectProviderThumbprint': update_open_id_connect_provider_thumbprint,
    'TagOpenIDConnectProvider': tag_open_id_connect_provider,
    'UntagOpenIDConnectProvider': untag_open_id_connect_provider,
    'ListOpenIDConnectProviderTags': list_open_id_connect_provider_tags,
}


def inventory_of(store):
    return [{'service': 'iam', 'type': 'oidc-provider', 'id': arn}
            for arn in sorted(store.get('oidc', {}))]
