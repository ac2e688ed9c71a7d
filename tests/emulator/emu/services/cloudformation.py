"""CloudFormation registry: DescribeType of a resource type, from the same
schema bundle the Cloud Control service uses (what `cairn schema update`
reads). Config `registry_overrides` {type: {"Schema": text,
"ProvisioningType": ...}} lets a test publish a newer schema."""
import json

from ..core import AwsError
from .cloudcontrol import bundle


def describe_type(ctx, p):
    name = p.get('TypeName')
    if p.get('Type', 'RESOURCE') != 'RESOURCE' or not name:
        raise AwsError('ValidationError', 'Type RESOURCE and TypeName are required')
    over = (ctx.config.get('registry_overrides') or {}).get(name)
    b = bundle()
    if over is None and name not in b.index:
        raise AwsError('TypeNotFoundException', f'The type {name} cannot be found.',
                       status=404)
    if over is not None:
        schema, prov = over['Schema'], over.get('ProvisioningType', 'FULLY_MUTABLE')
    else:
        schema = json.dumps(b.schema(name), separators=(',', ':'))
        prov = 'FULLY_MUTABLE' if b.provisionable(name) else 'NON_PROVISIONABLE'
    return {'Arn': ctx.arn('cloudformation', f'type/resource/{name.replace("::", "-")}',
                           account=''),
            'Type': 'RESOURCE', 'TypeName': name, 'Schema': schema,
            'ProvisioningType': prov, 'Visibility': 'PUBLIC', 'IsDefaultVersion': True,
            'DeprecatedStatus': 'LIVE'}


HANDLERS = {'DescribeType': describe_type}
