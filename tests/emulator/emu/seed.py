"""The seed: what a real AWS account holds before anyone runs cairn in it.

With config['seed_account'] (run --seed, or POST /_emulator/seed):
* EC2, in every region on its first use: the default VPC 172.31.0.0/16 with its
  default security group, main route table and network ACL, one default
  subnet (/20, public IPs on launch) per availability zone, an internet gateway
  attached to it and the 0.0.0.0/0 route to it in the main route table
  (EC2 User Guide, "Default VPCs": "Components of a default VPC").
* IAM: the service-linked roles every account has (AWSServiceRoleForSupport,
  AWSServiceRoleForTrustedAdvisor), the console's ecsTaskExecutionRole
  (AmazonECSTaskExecutionRolePolicy attached); AWSServiceRoleForECS appears on
  the first ECS CreateCluster/CreateService (emu/services/ecs.py), as on AWS.
  AWS managed policies exist with or without the seed (emu/services/iam.py).
* CloudWatch Logs: /ecs/first-run-task-definition, the group the ECS console's
  first-run wizard leaves behind.
Seeded resources are dated a year back, so visibility delays never hide them.
They are listed by /_emulator/inventory like anything else; tests compare
against the inventory taken right after a reset (the seed baseline).
"""
import contextlib
import json
import random

from .core import Ctx

YEAR = 365 * 86400.0
ECS_TASKS_TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Sid': '', 'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
     'Action': 'sts:AssumeRole'}]})
SEED_LOG_GROUPS = ('/ecs/first-run-task-definition',)
SEED_REGIONS = ('us-east-1',)


def _ctx(state, service, region='us-east-1'):
    accounts = [c.get('account') for c in (state.config.get('credentials') or {}).values()]
    ctx = Ctx(state, service, region=region,
              account=accounts[0] if accounts and accounts[0] else '123456789012')
    return ctx


@contextlib.contextmanager
def _fixed_ids(state, what):
    """Seeded resources get the same ids every time (after a reset too), as an
    account's default VPC keeps its id; the request rng is left untouched."""
    saved = state.rng
    state.rng = random.Random(f'seed-account:{what}')
    try:
        yield
    finally:
        state.rng = saved


def seed_ec2_region(ctx, r):
    """Fills region record `r` (just created by ec2._region) with the default VPC."""
    with _fixed_ids(ctx._state, f'ec2:{ctx.region}'):
        _seed_ec2_region(ctx, r)


def _seed_ec2_region(ctx, r):
    from .services import ec2
    born = ctx.now() - YEAR

    def age():      # date everything back at once: visibility delays must not apply
        for coll in ec2.COLLECTIONS:
            for rec in r[coll].values():
                for k in ('created', 'CreateTime', 'CreationTimestamp'):
                    if isinstance(rec.get(k), (int, float)):
                        rec[k] = born
                rec['seeded'] = True

    v = ec2.create_vpc(ctx, {'CidrBlock': '172.31.0.0/16'})['Vpc']
    age()
    vpc = r['vpcs'][v['VpcId']]
    vpc['IsDefault'] = True
    vpc['EnableDnsHostnames'] = True
    for i, (zone, _zid) in enumerate(ec2._zones(ctx.region)):
        s = ec2.create_subnet(ctx, {'VpcId': vpc['VpcId'], 'AvailabilityZone': zone,
                                    'CidrBlock': f'172.31.{16 * i}.0/20'})['Subnet']
        rec = r['subnets'][s['SubnetId']]
        rec['DefaultForAz'] = True
        rec['MapPublicIpOnLaunch'] = True
    g = ec2.create_internet_gateway(ctx, {})['InternetGateway']
    age()
    ec2.attach_internet_gateway(ctx, {'InternetGatewayId': g['InternetGatewayId'],
                                      'VpcId': vpc['VpcId']})
    ec2.create_route(ctx, {'RouteTableId': vpc['MainRouteTableId'],
                           'DestinationCidrBlock': '0.0.0.0/0',
                           'GatewayId': g['InternetGatewayId']})
    age()


def seed_all(state):
    """Seeds every service now (idempotent: what exists is kept)."""
    from .services import ec2, iam, logs
    with state.lock, _fixed_ids(state, 'global'):
        for region in SEED_REGIONS:
            ec2._region(_ctx(state, 'ec2', region))
        ctx = _ctx(state, 'iam')
        born = ctx.now() - YEAR
        for principal in ('support.amazonaws.com', 'trustedadvisor.amazonaws.com'):
            iam.service_linked_role(ctx, principal, created=born)
        iam.ensure_role(ctx, 'ecsTaskExecutionRole', '/', ECS_TASKS_TRUST, None,
                        ['arn:aws:iam::aws:policy/service-role/'
                         'AmazonECSTaskExecutionRolePolicy'], created=born)
        lctx = _ctx(state, 'logs')
        groups = logs._st(lctx)
        for name in SEED_LOG_GROUPS:
            if name not in groups:
                logs.create_log_group(lctx, {'logGroupName': name})
                groups[name]['creationTime'] = int(born * 1000)
        state.dirty = True
