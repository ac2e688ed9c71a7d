"""ECS for the emulator: clusters, task definitions (families, revisions),
services, tags.

State: ctx.store('ecs')['regions'][<region>] = {'clusters': {name: rec},
'families': {family: {'revisions': {'<n>': taskdef}, 'tags': {...}}},
'services': {cluster name: [service records, oldest first]}}. A cluster name
can hold several services of the same name over time: at most one is ACTIVE
or DRAINING, the older ones are INACTIVE and still describable.

Life cycles are derived from timestamps when read (no threads):
* a service's runningCount reaches its desiredCount config['async']
  ['ecs_tasks_start'] seconds (default 0.5) after the change; until then the
  old deployment is still listed, so ServicesStable waits as on AWS;
  EC2-launch-type services run their tasks on the cluster's container
  instances (EC2 instances that joined it through their user data, see
  ecs_container.py): DAEMON services one on each, REPLICA ones where CPU,
  memory and ports remain, else their events say they are unable to place
  a task;
* DeleteService: DRAINING, then INACTIVE config['async']['ecs_service_drain']
  seconds later.

IAM (what ECS really does): a role named in executionRoleArn / taskRoleArn
that does not exist in the emulator's IAM, or that was created less than
config['iam_propagation_seconds'] ago, makes RegisterTaskDefinition fail with
ClientException "Role is not valid". CreateService / UpdateService accept a
task definition whose roles are not yet assumable, but its tasks do not launch
until they are: runningCount stays behind and the events say "failed to
launch a task with (error ECS was unable to assume the role '...' that was
provided for this task ...)" (pulumi-awsx #927). A young or missing service
`role` makes CreateService fail with InvalidParameterException "Unable to
assume role and validate the specified targetGroupArn ...". Roles of other
accounts are not checked.

CreateService also checks the subnets and security groups of an awsvpc
network configuration against the emulator's EC2 state, as ECS does. Running
Fargate tasks own ENIs in those subnets (task_enis(), which the EC2 module
lists in DescribeNetworkInterfaces and counts as dependencies of subnets,
security groups and, with assignPublicIp ENABLED, of the IGW detach); they
linger config['async']['ecs_task_eni_linger'] seconds (default 1) after the
tasks stop, so a teardown must retry DependencyViolation as on AWS.

inventory(): ACTIVE clusters, ACTIVE task definition revisions, ACTIVE and
DRAINING services (DRAINING still exists; INACTIVE is gone).
"""
import base64
import hashlib
import re
import time

from emu import tags as emu_tags
from emu.core import AwsError

SERVICE = 'ecs'
NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,255}$')

FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: [1024 * i for i in range(1, 5)],
    1024: [1024 * i for i in range(2, 9)],
    2048: [1024 * i for i in range(4, 17)],
    4096: [1024 * i for i in range(8, 31)],
    8192: [1024 * i for i in range(16, 61, 4)],
    16384: [1024 * i for i in range(32, 121, 8)],
}


def _region(ctx):
    st = ctx.store(SERVICE)
    regions = st.setdefault('regions', {})
    r = regions.get(ctx.region)
    if r is None:
        r = regions[ctx.region] = {'clusters': {}, 'families': {}, 'services': {}}
    return r


def _async(ctx, key, default):
    try:
        return float((ctx.config.get('async') or {}).get(key, default))
    except (TypeError, ValueError):
        return default


def _invalid(msg):
    return AwsError('InvalidParameterException', msg)


def _client(msg):
    return AwsError('ClientException', msg)


def _tags_in(tags):
    emu_tags.check([(t.get('key'), t.get('value')) for t in tags or []])
    out = []
    for t in tags or []:
        k, v = t.get('key'), t.get('value', '')
        if not k:
            raise _invalid('Tag keys must not be empty')
        if k.lower().startswith('aws:'):
            raise _invalid("Tag keys starting with 'aws:' are reserved")
        if len(k) > 128 or len(v or '') > 256:
            raise _invalid(f"Tag '{k}' is too long")
        out = [o for o in out if o['key'] != k] + [{'key': k, 'value': v or ''}]
    return out


def _merge_tags(old, new):
    out = [dict(t) for t in old]
    for t in _tags_in(new):
        out = [o for o in out if o['key'] != t['key']] + [t]
    if len(out) > 50:
        raise _invalid('Too many tags: a resource can have at most 50')
    return out


def _page(ctx, items, params, key):
    mr = params.get('maxResults')
    tok = params.get('nextToken')
    start = 0
    if tok:
        try:
            k, s = base64.urlsafe_b64decode(tok.encode()).decode().rsplit(':', 1)
            start = int(s)
            if k != key or start < 0:
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            raise _invalid('Invalid token')
    if mr is not None and not 1 <= mr <= 100:
        raise _invalid('maxResults must be between 1 and 100')
    n = ctx.page_size(mr, 100)
    page = items[start:start + n]
    nxt = None
    if start + n < len(items):
        nxt = base64.urlsafe_b64encode(f'{key}:{start + n}'.encode()).decode()
    return page, nxt


# --------------------------------------------------------------------------
# clusters

def _cluster_name(ctx, ref):
    ref = ref or 'default'
    m = re.match(r'^arn:aws:ecs:([^:]+):(\d{12}):cluster/(.+)$', ref)
    if m:
        return m.group(3)
    if ref.startswith('arn:'):
        raise _invalid(f'Invalid cluster identifier: {ref}')
    return ref


def _cluster(ctx, ref, active=True):
    r = _region(ctx)
    c = r['clusters'].get(_cluster_name(ctx, ref))
    if c is None or (active and c['status'] != 'ACTIVE'):
        raise AwsError('ClusterNotFoundException', 'Cluster not found.')
    return c


def _cluster_out(ctx, c, include=()):
    r = _region(ctx)
    svcs = [_svc_view(ctx, s) for s in r['services'].get(c['clusterName'], [])]
    out = {
        'clusterArn': c['clusterArn'], 'clusterName': c['clusterName'],
        'status': c['status'],
        'registeredContainerInstancesCount': ecs_container.registered_count(
            ctx, c['clusterName']) if c['status'] == 'ACTIVE' else 0,
        'runningTasksCount': sum(s['runningCount'] for s in svcs
                                 if s['status'] != 'INACTIVE'),
        'pendingTasksCount': sum(s['pendingCount'] for s in svcs
                                 if s['status'] != 'INACTIVE'),
        'activeServicesCount': sum(1 for s in svcs if s['status'] == 'ACTIVE'),
        'statistics': [], 'capacityProviders': list(c['capacityProviders']),
        'defaultCapacityProviderStrategy': [dict(x) for x in c['defaultCapacityProviderStrategy']],
        'attachments': [],
    }
    if 'SETTINGS' in include:
        out['settings'] = [dict(x) for x in c['settings']]
    if 'CONFIGURATIONS' in include and c.get('configuration') is not None:
        out['configuration'] = c['configuration']
    if 'TAGS' in include:
        out['tags'] = [dict(t) for t in c['tags']]
    if 'STATISTICS' in include:
        out['statistics'] = [
            {'name': 'runningFargateTasksCount', 'value': str(out['runningTasksCount'])},
            {'name': 'activeFargateServiceCount', 'value': str(out['activeServicesCount'])}]
    if c.get('serviceConnectDefaults'):
        out['serviceConnectDefaults'] = c['serviceConnectDefaults']
    return out


def _settings(settings, old=None):
    out = [dict(x) for x in (old or [{'name': 'containerInsights', 'value': 'disabled'}])]
    for s in settings or []:
        if s.get('name') != 'containerInsights':
            raise _invalid(f"Invalid setting name: {s.get('name')}")
        if s.get('value') not in ('enabled', 'disabled'):
            raise _invalid(f"Invalid value for containerInsights: {s.get('value')}")
        out = [x for x in out if x['name'] != s['name']] + [{'name': s['name'],
                                                             'value': s['value']}]
    return out


def _capacity(cps, strategy):
    for cp in cps or []:
        if cp not in ('FARGATE', 'FARGATE_SPOT'):
            raise _invalid(f'The specified capacity provider {cp} is not in an ACTIVE state.')
    for item in strategy or []:
        if item.get('capacityProvider') not in (cps or []):
            raise _invalid('The specified capacity provider strategy cannot contain a '
                           'capacity provider that is not associated with the cluster.')
    return list(cps or []), [dict(x) for x in strategy or []]


def _service_linked_role(ctx):
    """ECS creates AWSServiceRoleForECS on an account's first cluster or service
    (ECS Developer Guide, "Using service-linked roles for Amazon ECS"). Until it
    has propagated, CreateCluster/CreateService answer InvalidParameterException
    "Unable to assume the service linked role" (config ecs_slr_error_seconds;
    the role only appears when that knob or the seed is on, so that tests
    comparing inventories see nothing new otherwise)."""
    window = float(ctx.config.get('ecs_slr_error_seconds') or 0)
    if window <= 0 and not ctx.config.get('seed_account'):
        return
    from emu.services import iam
    role = iam.service_linked_role(ctx, 'ecs.amazonaws.com')
    if window > 0 and ctx.now() - role['CreateDate'] < window:
        raise _invalid('Unable to assume the service linked role. Please verify that the '
                       'ECS service linked role exists.')


def create_cluster(ctx, params):
    r = _region(ctx)
    name = params.get('clusterName') or 'default'
    if not NAME_RE.match(name):
        raise _invalid('Cluster name can only contain letters, numbers, hyphens and '
                       'underscores (up to 255)')
    _service_linked_role(ctx)
    tags = _merge_tags([], params.get('tags'))
    cps, strat = _capacity(params.get('capacityProviders'),
                           params.get('defaultCapacityProviderStrategy'))
    settings = _settings(params.get('settings'))
    c = r['clusters'].get(name)
    if c is not None and c['status'] == 'ACTIVE':
        # CreateCluster is idempotent on the name
        return {'cluster': _cluster_out(ctx, c, ('SETTINGS', 'CONFIGURATIONS', 'TAGS'))}
    c = {'clusterName': name, 'clusterArn': ctx.arn('ecs', f'cluster/{name}'),
         'status': 'ACTIVE', 'tags': tags, 'settings': settings,
         'configuration': params.get('configuration'), 'capacityProviders': cps,
         'defaultCapacityProviderStrategy': strat, 'createdAt': ctx.now(),
         'serviceConnectDefaults': params.get('serviceConnectDefaults')}
    r['clusters'][name] = c
    return {'cluster': _cluster_out(ctx, c, ('SETTINGS', 'CONFIGURATIONS', 'TAGS'))}


def describe_clusters(ctx, params):
    r = _region(ctx)
    include = params.get('include') or []
    out, failures = [], []
    for ref in params.get('clusters') or ['default']:
        name = _cluster_name(ctx, ref)
        c = r['clusters'].get(name)
        if c is None:
            failures.append({'arn': ctx.arn('ecs', f'cluster/{name}'), 'reason': 'MISSING'})
        else:
            out.append(_cluster_out(ctx, c, include))
    return {'clusters': out, 'failures': failures}


def list_clusters(ctx, params):
    r = _region(ctx)
    arns = [c['clusterArn'] for c in r['clusters'].values() if c['status'] == 'ACTIVE']
    page, nxt = _page(ctx, arns, params, 'clusters')
    out = {'clusterArns': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def update_cluster(ctx, params):
    c = _cluster(ctx, params.get('cluster'))
    c['settings'] = _settings(params.get('settings'), c['settings'])
    if params.get('configuration') is not None:
        c['configuration'] = params['configuration']
    if params.get('serviceConnectDefaults') is not None:
        c['serviceConnectDefaults'] = params['serviceConnectDefaults']
    return {'cluster': _cluster_out(ctx, c, ('SETTINGS', 'CONFIGURATIONS'))}


def update_cluster_settings(ctx, params):
    c = _cluster(ctx, params.get('cluster'))
    c['settings'] = _settings(params.get('settings'), c['settings'])
    return {'cluster': _cluster_out(ctx, c, ('SETTINGS',))}


def put_cluster_capacity_providers(ctx, params):
    c = _cluster(ctx, params.get('cluster'))
    c['capacityProviders'], c['defaultCapacityProviderStrategy'] = _capacity(
        params.get('capacityProviders'), params.get('defaultCapacityProviderStrategy'))
    return {'cluster': _cluster_out(ctx, c, ('SETTINGS',))}


def delete_cluster(ctx, params):
    r = _region(ctx)
    c = _cluster(ctx, params.get('cluster'))
    live = [s for s in r['services'].get(c['clusterName'], [])
            if _svc_status(ctx, s) in ('ACTIVE', 'DRAINING')]
    if live:
        raise AwsError('ClusterContainsServicesException',
                       'The Cluster cannot be deleted while Services are active.')
    ecs_container.check_cluster_delete(ctx, c['clusterName'])
    c['status'] = 'INACTIVE'
    return {'cluster': _cluster_out(ctx, c)}


# --------------------------------------------------------------------------
# IAM propagation

ROLE_RE = re.compile(r'^arn:aws:iam::(\d{12}):role/(?:[^/]+/)*([^/]+)$')
NEVER = 1e18    # "not before the end of time" that JSON can store


def _role_usable_at(ctx, arn, names_ok=False):
    """When ECS can first assume role `arn`: 0 (now), a time, NEVER (no such
    role) or None (not a role ARN). names_ok: a bare role name is taken too
    (taskRoleArn and CreateService's role are "the short name or full ARN
    of the IAM role"; executionRoleArn is an ARN only)."""
    m = ROLE_RE.match(arn or '')
    if not m and names_ok and arn and re.fullmatch(r'[\w+=,.@-]{1,64}', arn):
        name = arn
    elif not m:
        return None
    elif m.group(1) != ctx.account:
        return 0
    else:
        name = m.group(2)
    roles = ctx.store('iam').get('roles') or {}
    role = roles.get(name)
    if role is None:
        return NEVER
    window = float(ctx.config.get('iam_propagation_seconds') or 0)
    created = role.get('CreateDate')
    if window > 0 and isinstance(created, (int, float)):
        return created + window
    return 0


def _role_check(ctx, arn, make_error, names_ok=False):
    if not arn:
        return
    at = _role_usable_at(ctx, arn, names_ok)
    if at is None or at > ctx.now():
        raise make_error(arn)


def _td_roles_ready(ctx, td):
    """(time when every role of `td` can be assumed or None if now, the
    blocking role ARN)."""
    ready, blocker = None, None
    for arn, names_ok in ((td.get('executionRoleArn'), False),
                          (td.get('taskRoleArn'), True)):
        at = _role_usable_at(ctx, arn, names_ok) if arn else None
        if at and at > ctx.now() and (ready is None or at > ready):
            ready, blocker = at, arn
    return ready, blocker


def _td_role_error(arn):
    return _client('Role is not valid')


def _svc_role_error(arn):
    # the service role (load balancer integration) is checked by CreateService itself
    return _invalid('Unable to assume role and validate the specified targetGroupArn. '
                    'Please verify that the ECS service role being passed has the proper '
                    'permissions.')


def _launch_blocked(ctx, s, td):
    """Tasks cannot launch before ECS can assume the task definition's roles:
    the service exists but runs nothing yet and says why in its events."""
    ready, blocker = _td_roles_ready(ctx, td)
    s['roles_ready_at'] = ready
    if ready is not None:
        _event(ctx, s, f"failed to launch a task with (error ECS was unable to assume the "
                       f"role '{blocker}' that was provided for this task. Please verify "
                       f"that the role being passed has the proper trust relationship and "
                       f"permissions and that your IAM user has permissions to pass this "
                       f"role.).")


# --------------------------------------------------------------------------
# task definitions

def _size(value, what):
    if value is None:
        return None
    s = str(value).strip()
    m = re.match(r'^(\d+(?:\.\d+)?)\s*(vcpu|gb)?$', s, re.I)
    if not m:
        raise _client(f'Invalid {what} value: {value}')
    n = float(m.group(1))
    if m.group(2):
        n *= 1024
    return str(int(n))


def _container(cd, network_mode):
    if not cd.get('name'):
        raise _client('Container.name should not be null or empty.')
    if not re.match(r'^[A-Za-z0-9_-]{1,255}$', cd['name']):
        raise _client(f"Container.name '{cd['name']}' is invalid")
    if not cd.get('image'):
        raise _client('Container.image should not be null or empty.')
    out = dict(cd)
    out.setdefault('cpu', 0)
    out.setdefault('essential', True)
    pms = []
    for pm in cd.get('portMappings') or []:
        pm = dict(pm)
        if pm.get('containerPort') is None:
            raise _client('Container.portMappings.containerPort should not be null')
        pm.setdefault('protocol', 'tcp')
        if network_mode == 'awsvpc':
            if pm.get('hostPort') not in (None, pm['containerPort']):
                raise _client('When networkMode=awsvpc, the host ports and container '
                              'ports in port mappings must match.')
            pm['hostPort'] = pm['containerPort']
        pms.append(pm)
    out['portMappings'] = pms
    for k in ('environment', 'mountPoints', 'volumesFrom'):
        out.setdefault(k, [])
    for s in cd.get('secrets') or []:
        if not s.get('name') or not s.get('valueFrom'):
            raise _client('Container.secrets requires name and valueFrom')
    lc = cd.get('logConfiguration')
    if lc is not None and not lc.get('logDriver'):
        raise _client('Container.logConfiguration.logDriver should not be null or empty.')
    return out


def _family(r, name):
    return r['families'].get(name)


def _td_ref(ctx, ref):
    """(family, revision or None) from 'family', 'family:rev' or an ARN."""
    if not ref:
        raise _client('Task definition must be specified')
    m = re.match(r'^arn:aws:ecs:[^:]+:\d{12}:task-definition/([^:]+):(\d+)$', ref)
    if m:
        return m.group(1), int(m.group(2))
    if ref.startswith('arn:'):
        raise _client('Invalid revision number. Number: ' + ref)
    if ':' in ref:
        fam, rev = ref.rsplit(':', 1)
        if not rev.isdigit():
            raise _client(f'Invalid revision number. Number: {rev}')
        return fam, int(rev)
    return ref, None


def _resolve_td(ctx, ref, active_only=False):
    r = _region(ctx)
    fam, rev = _td_ref(ctx, ref)
    f = _family(r, fam)
    if f is None:
        return None
    if rev is None:
        active = [td for td in f['revisions'].values() if td['status'] == 'ACTIVE']
        return max(active, key=lambda td: td['revision']) if active else None
    td = f['revisions'].get(str(rev))
    if td is not None and active_only and td['status'] != 'ACTIVE':
        return None
    return td


# A Docker image reference: [registry[:port]/]path[:tag][@digest]
IMAGE_RE = re.compile(
    r'^(?:[a-zA-Z0-9][a-zA-Z0-9.-]*(?::\d+)?/)?'
    r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*'
    r'(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$')
ECR_IMAGE_RE = re.compile(r'^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/')
FARGATE_LOG_DRIVERS = ('awslogs', 'splunk', 'awsfirelens')


def _container_rules(cds, compat, task_mem, exec_role):
    """What RegisterTaskDefinition refuses with ClientException (ECS Developer
    Guide: "Amazon ECS task execution IAM role" — needed on Fargate for private
    ECR images, the awslogs driver and secrets; "Fargate task definition
    considerations" — log drivers awslogs, splunk, awsfirelens only, no
    privileged containers; container memory within the task's)."""
    fargate = 'FARGATE' in compat
    for cd in cds:
        name = cd.get('name')
        image = cd.get('image')
        if not image:
            raise _client('Container.image should not be null or empty.')
        if len(image) > 255 or not IMAGE_RE.match(image):
            raise _client(f"Invalid image name '{image}' in container '{name}'.")
        if task_mem is not None and cd.get('memory') is not None and \
                int(cd['memory']) > int(task_mem):
            raise _client(f"Invalid setting for container '{name}'. The container memory "
                          f"({cd['memory']}) must not be greater than the task memory "
                          f"({task_mem}).")
        log = (cd.get('logConfiguration') or {}).get('logDriver')
        if cd.get('secrets') and not exec_role:
            raise _client('When secrets are specified, an execution role is required: '
                          'the task definition must have an executionRoleArn.')
        if not fargate:
            continue
        if log is not None and log not in FARGATE_LOG_DRIVERS:
            raise _client(f"Log driver {log} is not supported on Fargate. Supported log "
                          f"drivers: {', '.join(FARGATE_LOG_DRIVERS)}.")
        if cd.get('privileged'):
            raise _client('Privileged containers are not supported on Fargate.')
        if not exec_role:
            if log == 'awslogs':
                raise _client('Fargate requires task definition to have execution role ARN '
                              'to support log driver awslogs.')
            if ECR_IMAGE_RE.match(image):
                raise _client('Fargate requires task definition to have execution role ARN '
                              'to support ECR images.')


def register_task_definition(ctx, params):
    r = _region(ctx)
    fam = params.get('family')
    if not fam or not NAME_RE.match(fam):
        raise _client('Family contains invalid characters or is too long: '
                      'up to 255 letters, numbers, hyphens and underscores')
    cds = params.get('containerDefinitions') or []
    if not cds:
        raise _client('Container list cannot be empty.')
    mode = params.get('networkMode') or 'bridge'
    compat = params.get('requiresCompatibilities') or []
    cpu = _size(params.get('cpu'), 'cpu')
    mem = _size(params.get('memory'), 'memory')
    names = [cd.get('name') for cd in cds]
    if len(set(names)) != len(names):
        raise _client('Container names must be unique within a task definition')
    containers = [_container(cd, mode) for cd in cds]
    if 'FARGATE' in compat:
        if mode != 'awsvpc':
            raise _client("Fargate only supports network mode 'awsvpc'.")
        if cpu is None:
            raise _client("Fargate requires that 'cpu' be defined at the task level.")
        if mem is None:
            raise _client("Fargate requires that 'memory' be defined at the task level.")
        if int(mem) not in FARGATE_SIZES.get(int(cpu), []):
            raise _client('No Fargate configuration exists for given values: '
                          f'{cpu} CPU, {mem} memory. See the Amazon ECS documentation for '
                          'the valid values.')
    if mem is None and any(cd.get('memory') is None and cd.get('memoryReservation') is None
                           for cd in cds):
        raise _client('Invalid setting for container. At least one of \'memory\' or '
                      '\'memoryReservation\' must be specified.')
    if 'EC2' not in compat and 'FARGATE' not in compat and compat:
        if any(c not in ('EC2', 'FARGATE', 'EXTERNAL') for c in compat):
            raise _client(f'Invalid compatibility: {compat}')
    _container_rules(cds, compat, mem, params.get('executionRoleArn'))
    _role_check(ctx, params.get('executionRoleArn'), _td_role_error)
    _role_check(ctx, params.get('taskRoleArn'), _td_role_error, names_ok=True)
    vol_names = set()
    for v in params.get('volumes') or []:
        if not v.get('name'):
            raise _client('Volume name should not be null or empty.')
        vol_names.add(v['name'])
    for cd in containers:
        for mp in cd['mountPoints']:
            if mp.get('sourceVolume') not in vol_names:
                raise _client(f"Unknown volume '{mp.get('sourceVolume')}'.")
    tags = _merge_tags([], params.get('tags'))
    f = r['families'].setdefault(fam, {'revisions': {}, 'next': 1})
    rev = f['next']
    f['next'] += 1
    td = {
        'taskDefinitionArn': ctx.arn('ecs', f'task-definition/{fam}:{rev}'),
        'containerDefinitions': containers, 'family': fam, 'networkMode': mode,
        'revision': rev, 'volumes': list(params.get('volumes') or []), 'status': 'ACTIVE',
        'requiresAttributes': [], 'placementConstraints':
            list(params.get('placementConstraints') or []),
        'compatibilities': ['EC2', 'FARGATE'] if mode == 'awsvpc' else ['EC2'],
        'requiresCompatibilities': list(compat), 'registeredAt': ctx.now(),
        'registeredBy': f'arn:aws:iam::{ctx.account}:root', 'tags': tags,
    }
    for k in ('taskRoleArn', 'executionRoleArn', 'runtimePlatform', 'pidMode', 'ipcMode',
              'proxyConfiguration', 'ephemeralStorage', 'inferenceAccelerators'):
        if params.get(k) is not None:
            td[k] = params[k]
    if cpu is not None:
        td['cpu'] = cpu
    if mem is not None:
        td['memory'] = mem
    f['revisions'][str(rev)] = td
    return {'taskDefinition': _td_out(td), 'tags': [dict(t) for t in tags]}


def _td_out(td):
    return {k: v for k, v in td.items() if k != 'tags'}


def describe_task_definition(ctx, params):
    td = _resolve_td(ctx, params.get('taskDefinition'))
    if td is None:
        raise _client('Unable to describe task definition.')
    out = {'taskDefinition': _td_out(td)}
    if 'TAGS' in (params.get('include') or []):
        out['tags'] = [dict(t) for t in td['tags']]
    return out


def deregister_task_definition(ctx, params):
    fam, rev = _td_ref(ctx, params.get('taskDefinition'))
    if rev is None:
        raise _client('Invalid revision number. Number: ' + str(params.get('taskDefinition')))
    td = _resolve_td(ctx, params.get('taskDefinition'))
    if td is None:
        raise _client('The specified task definition does not exist.')
    if td['status'] == 'ACTIVE':
        td['status'] = 'INACTIVE'
        td['deregisteredAt'] = ctx.now()
    return {'taskDefinition': _td_out(td)}


def list_task_definitions(ctx, params):
    r = _region(ctx)
    status = params.get('status') or 'ACTIVE'
    fam = params.get('familyPrefix')
    tds = [td for name, f in r['families'].items() if fam is None or name == fam
           for td in f['revisions'].values() if td['status'] == status]
    tds.sort(key=lambda td: (td['family'], td['revision']),
             reverse=(params.get('sort') == 'DESC'))
    page, nxt = _page(ctx, [td['taskDefinitionArn'] for td in tds], params, 'tds')
    out = {'taskDefinitionArns': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def list_task_definition_families(ctx, params):
    r = _region(ctx)
    status = params.get('status') or 'ACTIVE'
    pre = params.get('familyPrefix') or ''
    fams = []
    for name in sorted(r['families']):
        if not name.startswith(pre):
            continue
        active = any(td['status'] == 'ACTIVE'
                     for td in r['families'][name]['revisions'].values())
        if status == 'ALL' or (status == 'ACTIVE') == active:
            fams.append(name)
    page, nxt = _page(ctx, fams, params, 'families')
    out = {'families': page}
    if nxt:
        out['nextToken'] = nxt
    return out


# --------------------------------------------------------------------------
# services

ECR_REF_RE = re.compile(r'^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/'
                        r'([^:@]+)(?::([^@]+))?(?:@(sha256:[a-f0-9]{64}))?$')


# Fargate platform versions (ECS Developer Guide, "Fargate Linux platform
# versions": 1.4.0, 1.3.0 (deprecated); Windows 1.0.0; LATEST)
PLATFORM_VERSIONS = ('LATEST', '1.4.0', '1.3.0', '1.0.0')


def _platform_version(v):
    v = v or 'LATEST'
    if v not in PLATFORM_VERSIONS:
        raise _invalid(f'The specified platform version ({v}) does not exist.')
    return v


def _launch_error(ctx, s):
    """Why the service's Fargate tasks cannot start, or None: the task pulls a
    private ECR image that is not there, writes to an awslogs group that does
    not exist (without awslogs-create-group), or reads a Secrets Manager secret
    that does not exist. AWS stops such tasks with ResourceInitializationError /
    CannotPullContainerError and the service keeps retrying (ECS Developer
    Guide, "Stopped tasks error codes")."""
    td = _resolve_td(ctx, s['taskDefinition'])
    if td is None:
        return None
    stores = ctx._state.stores
    for cd in td['containerDefinitions']:
        m = ECR_REF_RE.match(cd.get('image') or '')
        if m and m.group(1) == ctx.account:
            repo = ((stores.get('ecr') or {}).get('regions') or {}).get(m.group(2), {}) \
                .get('repos', {}).get(m.group(3))
            tag, digest = m.group(4) or 'latest', m.group(5)
            if repo is None or not any(
                    (digest and i['imageDigest'] == digest) or
                    (not digest and tag in i['imageTags']) for i in repo['images']):
                return (f"CannotPullContainerError: pull image manifest has been retried "
                        f"5 time(s): failed to resolve ref {cd['image']}: not found")
        log = cd.get('logConfiguration') or {}
        opts = log.get('options') or {}
        groups = ((stores.get('logs') or {}).get('regions') or {}).get(
            opts.get('awslogs-region') or ctx.region, {})
        if log.get('logDriver') == 'awslogs' and opts.get('awslogs-group') and \
                str(opts.get('awslogs-create-group', '')).lower() != 'true' and \
                opts['awslogs-group'] not in groups:
            return (f"ResourceInitializationError: failed to validate logger args: "
                    f"create stream has been retried 1 times: failed to create Cloudwatch "
                    f"log stream: ResourceNotFoundException: The specified log group does "
                    f"not exist.")
        for sec in cd.get('secrets') or []:
            ref = sec.get('valueFrom') or ''
            if ':secretsmanager:' not in ref:
                continue
            arn = ref.split(':secret:', 1)
            region = ref.split(':')[3] if ref.startswith('arn:') else ctx.region
            secrets = ((stores.get('secretsmanager') or {}).get('regions') or {}).get(region) \
                or {}
            name_part = arn[1] if len(arn) == 2 else ref
            # valueFrom may carry :json-key:version-stage:version-id after the ARN
            base = ':'.join(name_part.split(':')[:1])
            if not any(x['ARN'].split(':secret:', 1)[1] in (base,) or x['Name'] == base or
                       x['ARN'].split(':secret:', 1)[1][:-7] == base
                       for x in secrets.values() if not x.get('DeletedDate')):
                return (f"ResourceInitializationError: unable to pull secrets or registry "
                        f"auth: retrieve secret from {ref}: ResourceNotFoundException: "
                        f"Secrets Manager can't find the specified secret.")
    return None


def _svc_status(ctx, s):
    """ACTIVE, DRAINING or INACTIVE, from the delete timestamps."""
    if s.get('drain_at') is None:
        return 'ACTIVE'
    return 'INACTIVE' if ctx.now() >= s['inactive_at'] else 'DRAINING'


def _svc_view(ctx, s):
    """The service record with its time-derived fields filled in."""
    now = ctx.now()
    status = _svc_status(ctx, s)
    if s['launchType'] == 'EC2':
        return _ec2_view(ctx, s, status)
    desired = 0 if status != 'ACTIVE' else s['desiredCount']
    settled = now >= max(s['changed_at'] + s['start_delay'], s.get('roles_ready_at') or 0)
    running = desired if settled else s['prev_running']
    failing = _launch_error(ctx, s) if status == 'ACTIVE' and desired else None
    if failing:
        running, settled = 0, False
    if status == 'INACTIVE':
        running = 0
    elif status == 'DRAINING':
        running = 0 if settled else s['prev_running']
    return {'status': status, 'desiredCount': desired, 'runningCount': running,
            'pendingCount': max(0, desired - running) if status == 'ACTIVE' else 0,
            'settled': settled, 'launch_error': failing}


def _ec2_view(ctx, s, status):
    """An EC2-launch-type service: its tasks are those placed on the
    cluster's container instances (ecs_container.placement); a DAEMON
    service wants one on each."""
    from . import ecs_container
    now = ctx.now()
    cluster = s['clusterArn'].split(':cluster/', 1)[-1]
    placed, _, _ = ecs_container.placement(ctx, cluster)
    p = placed.get(s['serviceArn']) or {'desired': 0, 'tasks': [], 'unplaced': 0,
                                         'closest': None}
    desired = p['desired'] if status == 'ACTIVE' else 0
    on_time = now >= max(s['changed_at'] + s['start_delay'], s.get('roles_ready_at') or 0)
    started = sum(1 for _, at in p['tasks'] if now >= at)
    running = started if on_time else s['prev_running']
    failing = _launch_error(ctx, s) if status == 'ACTIVE' and p['tasks'] else None
    if failing:
        running = 0
    if status == 'INACTIVE':
        running = 0
    elif status == 'DRAINING':
        running = 0 if on_time else s['prev_running']
    settled = on_time and not failing and running == desired and not p['unplaced']
    event = None
    if status == 'ACTIVE' and p['unplaced']:
        from .ecs_container import unplaced_event
        event = unplaced_event(s, p)
    return {'status': status, 'desiredCount': desired, 'runningCount': running,
            'pendingCount': max(0, len(p['tasks']) - running) if status == 'ACTIVE' else 0,
            'settled': settled, 'launch_error': failing, 'unplaced_event': event}


def _svc_out(ctx, s, include=()):
    v = _svc_view(ctx, s)
    deps = []
    primary = {'id': s['deployment_id'], 'status': 'PRIMARY',
               'taskDefinition': s['taskDefinition'], 'desiredCount': v['desiredCount'],
               'pendingCount': v['pendingCount'], 'runningCount': v['runningCount'],
               'failedTasks': 0, 'createdAt': s['changed_at'], 'updatedAt': s['changed_at'],
               'launchType': s['launchType'],
               'rolloutState': 'COMPLETED' if v['settled'] else 'IN_PROGRESS',
               'rolloutStateReason': 'ECS deployment completed.' if v['settled']
               else 'ECS deployment in progress.'}
    if s.get('networkConfiguration'):
        primary['networkConfiguration'] = s['networkConfiguration']
    if s.get('platformVersion'):
        primary['platformVersion'] = s['platformVersion']
    if v['status'] != 'INACTIVE':
        deps.append(primary)
        if not v['settled'] and s.get('old_deployment'):
            old = dict(s['old_deployment'])
            old['status'] = 'ACTIVE'
            old['runningCount'] = s['prev_running']
            deps.append(old)
    out = {
        'serviceArn': s['serviceArn'], 'serviceName': s['serviceName'],
        'clusterArn': s['clusterArn'], 'loadBalancers': s['loadBalancers'],
        'serviceRegistries': s['serviceRegistries'], 'status': v['status'],
        'desiredCount': v['desiredCount'], 'runningCount': v['runningCount'],
        'pendingCount': v['pendingCount'],
        'taskDefinition': s['taskDefinition'],
        'deploymentConfiguration': s['deploymentConfiguration'], 'deployments': deps,
        'events': ([{'id': f"{s['deployment_id']}-launch", 'createdAt': ctx.now(),
                     'message': f"(service {s['serviceName']}) failed to launch a task "
                                f"(stopped reason: {v['launch_error']})"}]
                   if v.get('launch_error') else []) +
        ([{'id': f"{s['deployment_id']}-place", 'createdAt': ctx.now(),
           'message': v['unplaced_event']}] if v.get('unplaced_event') else []) +
        list(reversed(s['events']))[:100], 'createdAt': s['createdAt'],
        'placementConstraints': s['placementConstraints'],
        'placementStrategy': s['placementStrategy'],
        'schedulingStrategy': s['schedulingStrategy'],
        'deploymentController': s['deploymentController'],
        'createdBy': f'arn:aws:iam::{s["account"]}:root',
        'enableECSManagedTags': s['enableECSManagedTags'],
        'propagateTags': s['propagateTags'],
        'enableExecuteCommand': s['enableExecuteCommand'],
    }
    for k in ('platformVersion', 'networkConfiguration', 'roleArn',
              'healthCheckGracePeriodSeconds', 'capacityProviderStrategy'):
        if s.get(k) is not None:
            out[k] = s[k]
    if not s.get('capacityProviderStrategy'):
        out['launchType'] = s['launchType']
    if s['launchType'] == 'FARGATE':
        out['platformFamily'] = 'Linux'
    if 'TAGS' in include:
        out['tags'] = [dict(t) for t in s['tags']]
    return out


def _svc_name(ctx, ref):
    m = re.match(r'^arn:aws:ecs:[^:]+:\d{12}:service/(?:([^/]+)/)?([^/]+)$', ref or '')
    if m:
        return m.group(2)
    if not ref:
        raise _invalid('Service must be specified')
    return ref


def _find_service(ctx, c, ref):
    r = _region(ctx)
    name = _svc_name(ctx, ref)
    for s in reversed(r['services'].get(c['clusterName'], [])):
        if s['serviceName'] == name:
            if ctx.reading() and ctx.too_new(s['createdAt'], 'service'):
                return None     # eventual consistency: not yet visible
            return s
    return None


def _check_network(ctx, td, netconf, launch):
    if td['networkMode'] == 'awsvpc':
        if not netconf or not netconf.get('awsvpcConfiguration'):
            raise _invalid("Network Configuration must be provided when networkMode "
                           "'awsvpc' is specified.")
    elif netconf:
        raise _invalid('Network Configuration is not valid for the given networkMode of '
                       'this task definition.')
    if not netconf:
        return None
    av = netconf.get('awsvpcConfiguration') or {}
    subnets = av.get('subnets') or []
    if not subnets:
        raise _invalid('subnets can not be empty.')
    if len(subnets) > 16 or len(av.get('securityGroups') or []) > 5:
        raise _invalid('At most 16 subnets and 5 security groups are allowed.')
    if av.get('assignPublicIp') == 'ENABLED' and launch != 'FARGATE':
        raise _invalid('Assign public IP is not supported for this launch type.')
    ec2 = (ctx.store('ec2').get('regions') or {}).get(ctx.region) or {}
    known_subnets = ec2.get('subnets') or {}
    vpcs = set()
    for sid in subnets:
        sn = known_subnets.get(sid)
        if sn is None:
            raise _invalid(f"Error retrieving subnet information for [{sid}]: The subnet "
                           f"ID '{sid}' does not exist (Service: AmazonEC2; Status Code: "
                           f"400; Error Code: InvalidSubnetID.NotFound)")
        vpcs.add(sn['VpcId'])
    if len(vpcs) > 1:
        raise _invalid('The subnets must all belong to the same VPC.')
    known_sgs = ec2.get('sgs') or {}
    for gid in av.get('securityGroups') or []:
        g = known_sgs.get(gid)
        if g is None:
            raise _invalid(f"Error retrieving security group information for [{gid}]: The "
                           f"security group '{gid}' does not exist (Service: AmazonEC2; "
                           f"Status Code: 400; Error Code: InvalidGroup.NotFound)")
        if g['VpcId'] not in vpcs:
            raise _invalid(f'Security group {gid} does not belong to the VPC of the subnets.')
    out = {'subnets': list(subnets), 'securityGroups': list(av.get('securityGroups') or []),
           'assignPublicIp': av.get('assignPublicIp') or 'DISABLED'}
    return {'awsvpcConfiguration': out}


def _td_for_service(ctx, ref, launch):
    td = _resolve_td(ctx, ref)
    if td is None:
        raise _client('TaskDefinition not found.')
    if td['status'] != 'ACTIVE':
        raise _client('TaskDefinition is inactive')
    if launch == 'FARGATE' and 'FARGATE' not in td['compatibilities']:
        raise _invalid('Task definition does not support launch_type FARGATE.')
    return td


def _event(ctx, s, msg):
    s['events'].append({'id': ctx.uuid() if hasattr(ctx, 'uuid') else str(len(s['events'])),
                        'createdAt': ctx.now(), 'message': f"(service {s['serviceName']}) {msg}"})


def _deployment_id(ctx):
    if hasattr(ctx, 'rand_hex'):
        n = int(ctx.rand_hex(16), 16)
    else:
        n = int(ctx.new_id('d').split('-', 1)[1][:16], 16)
    return f'ecs-svc/{n % 10 ** 19:019d}'


def _mark_change(ctx, s, new_td=None, new_net=None):
    v = _svc_view(ctx, s)
    s['old_deployment'] = {'id': s['deployment_id'], 'taskDefinition': s['taskDefinition'],
                           'desiredCount': v['desiredCount'], 'pendingCount': 0,
                           'runningCount': v['runningCount'], 'failedTasks': 0,
                           'createdAt': s['changed_at'], 'updatedAt': ctx.now(),
                           'launchType': s['launchType']} if (new_td or new_net) else None
    if new_td or new_net:
        s['deployment_id'] = _deployment_id(ctx)
    s['prev_running'] = v['runningCount']
    s['changed_at'] = ctx.now()
    s['start_delay'] = _async(ctx, 'ecs_tasks_start', 0.5)


def create_service(ctx, params):
    r = _region(ctx)
    c = _cluster(ctx, params.get('cluster'))
    name = params.get('serviceName')
    if not name or not NAME_RE.match(name):
        raise _invalid('Service name can only contain letters, numbers, hyphens and '
                       'underscores (up to 255)')
    _service_linked_role(ctx)
    token = params.get('clientToken')
    if token is not None and len(token) > 32:
        raise _invalid('clientToken must be at most 32 characters')
    strategy = params.get('schedulingStrategy') or 'REPLICA'
    desired = params.get('desiredCount')
    if strategy == 'REPLICA' and desired is None:
        raise _invalid('desiredCount is required for the REPLICA scheduling strategy.')
    if strategy == 'DAEMON':
        if params.get('launchType') == 'FARGATE':
            raise _invalid('The daemon scheduling strategy is not supported with FARGATE.')
        desired = 0
    if desired < 0:
        raise _invalid('desiredCount must be >= 0')
    launch = params.get('launchType')
    cps = params.get('capacityProviderStrategy')
    if launch and cps:
        raise _invalid('Specifying both a launch type and capacity provider strategy is '
                       'not supported.')
    if not launch:
        # a capacity provider strategy (given, or the cluster's default) means Fargate here
        launch = 'FARGATE' if (cps or c['defaultCapacityProviderStrategy']) else 'EC2'
        if not cps and c['defaultCapacityProviderStrategy']:
            cps = [dict(x) for x in c['defaultCapacityProviderStrategy']]
    existing = _find_service(ctx, c, name)
    if existing is not None and _svc_status(ctx, existing) != 'INACTIVE':
        if token and existing.get('clientToken') == token:
            return {'service': _svc_out(ctx, existing, ('TAGS',))}
        raise _invalid('Creation of service was not idempotent.')
    td = _td_for_service(ctx, params.get('taskDefinition'), launch)
    if params.get('role'):
        _role_check(ctx, params['role'], _svc_role_error, names_ok=True)
    net = _check_network(ctx, td, params.get('networkConfiguration'), launch)
    tags = _merge_tags([], params.get('tags'))
    dc = params.get('deploymentConfiguration') or {}
    dc = dict({'deploymentCircuitBreaker': {'enable': False, 'rollback': False},
               'maximumPercent': 200, 'minimumHealthyPercent': 100}, **dc)
    now = ctx.now()
    s = {
        'serviceArn': ctx.arn('ecs', f"service/{c['clusterName']}/{name}"),
        'serviceName': name, 'clusterArn': c['clusterArn'], 'account': ctx.account,
        'loadBalancers': list(params.get('loadBalancers') or []),
        'serviceRegistries': list(params.get('serviceRegistries') or []),
        'desiredCount': desired, 'launchType': launch,
        'taskDefinition': td['taskDefinitionArn'], 'deploymentConfiguration': dc,
        'createdAt': now, 'placementConstraints': list(params.get('placementConstraints') or []),
        'placementStrategy': list(params.get('placementStrategy') or []),
        'schedulingStrategy': strategy,
        'deploymentController': params.get('deploymentController') or {'type': 'ECS'},
        'enableECSManagedTags': bool(params.get('enableECSManagedTags')),
        'propagateTags': params.get('propagateTags') or 'NONE',
        'enableExecuteCommand': bool(params.get('enableExecuteCommand')),
        'networkConfiguration': net, 'tags': tags, 'clientToken': token,
        'platformVersion': _platform_version(params.get('platformVersion'))
        if launch == 'FARGATE' else None,
        'roleArn': params.get('role'),
        'healthCheckGracePeriodSeconds': params.get('healthCheckGracePeriodSeconds'),
        'capacityProviderStrategy': cps, 'events': [], 'prev_running': 0,
        'changed_at': now, 'start_delay': _async(ctx, 'ecs_tasks_start', 0.5),
        'deployment_id': _deployment_id(ctx), 'old_deployment': None,
        'drain_at': None, 'inactive_at': None,
    }
    _launch_blocked(ctx, s, td)
    r['services'].setdefault(c['clusterName'], []).append(s)
    return {'service': _svc_out(ctx, s, ('TAGS',))}


def describe_services(ctx, params):
    c = _cluster(ctx, params.get('cluster'), active=False)
    refs = params.get('services') or []
    if not refs:
        raise _invalid('Services cannot be empty.')
    if len(refs) > 10:
        raise _invalid('At most 10 services can be described at once.')
    include = params.get('include') or []
    out, failures = [], []
    for ref in refs:
        s = _find_service(ctx, c, ref)
        if s is None:
            arn = ref if ref.startswith('arn:') else \
                ctx.arn('ecs', f"service/{c['clusterName']}/{ref}")
            failures.append({'arn': arn, 'reason': 'MISSING'})
        else:
            out.append(_svc_out(ctx, s, include))
    return {'services': out, 'failures': failures}


def list_services(ctx, params):
    r = _region(ctx)
    c = _cluster(ctx, params.get('cluster'))
    arns = []
    for s in r['services'].get(c['clusterName'], []):
        if _svc_status(ctx, s) == 'INACTIVE':
            continue
        if params.get('launchType') and s['launchType'] != params['launchType']:
            continue
        if params.get('schedulingStrategy') and \
                s['schedulingStrategy'] != params['schedulingStrategy']:
            continue
        arns.append(s['serviceArn'])
    page, nxt = _page(ctx, arns, params, 'services')
    out = {'serviceArns': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def _active_service(ctx, params):
    c = _cluster(ctx, params.get('cluster'))
    s = _find_service(ctx, c, params.get('service'))
    if s is None:
        raise AwsError('ServiceNotFoundException', 'Service not found.')
    if _svc_status(ctx, s) != 'ACTIVE':
        raise AwsError('ServiceNotActiveException', 'Service was not ACTIVE.')
    return c, s


def update_service(ctx, params):
    c, s = _active_service(ctx, params)
    td = None
    if params.get('taskDefinition'):
        td = _td_for_service(ctx, params['taskDefinition'], s['launchType'])
    net = None
    if params.get('networkConfiguration') is not None:
        net = _check_network(ctx, td or _resolve_td(ctx, s['taskDefinition']),
                             params['networkConfiguration'], s['launchType'])
    desired = params.get('desiredCount')
    if desired is not None and desired < 0:
        raise _invalid('desiredCount must be >= 0')
    if desired is not None and s['schedulingStrategy'] == 'DAEMON':
        raise _invalid('The desiredCount cannot be set for a DAEMON service.')
    new_td = td is not None and td['taskDefinitionArn'] != s['taskDefinition']
    new_net = net is not None and net != s['networkConfiguration']
    forced = bool(params.get('forceNewDeployment'))
    if desired is not None or new_td or new_net or forced:
        _mark_change(ctx, s, new_td or forced, new_net)
    if desired is not None:
        s['desiredCount'] = desired
    if td is not None:
        s['taskDefinition'] = td['taskDefinitionArn']
        if new_td:
            _launch_blocked(ctx, s, td)
    if net is not None:
        s['networkConfiguration'] = net
    if params.get('deploymentConfiguration'):
        s['deploymentConfiguration'].update(params['deploymentConfiguration'])
    if params.get('platformVersion') is not None:
        _platform_version(params['platformVersion'])
    for k in ('platformVersion', 'healthCheckGracePeriodSeconds', 'capacityProviderStrategy',
              'loadBalancers', 'serviceRegistries', 'propagateTags', 'placementConstraints',
              'placementStrategy'):
        if params.get(k) is not None:
            s[k] = params[k]
    for k in ('enableExecuteCommand', 'enableECSManagedTags'):
        if params.get(k) is not None:
            s[k] = bool(params[k])
    return {'service': _svc_out(ctx, s)}


def delete_service(ctx, params):
    c = _cluster(ctx, params.get('cluster'))
    s = _find_service(ctx, c, params.get('service'))
    if s is None:
        raise AwsError('ServiceNotFoundException', 'Service not found.')
    v = _svc_view(ctx, s)
    if v['status'] != 'ACTIVE':
        raise AwsError('ServiceNotActiveException', 'Service was not ACTIVE.')
    if s['schedulingStrategy'] == 'REPLICA' and s['desiredCount'] > 0 and \
            not params.get('force'):
        raise _invalid('The service cannot be stopped while it is scaled above 0.')
    _mark_change(ctx, s)
    now = ctx.now()
    s['desiredCount'] = 0
    s['drain_at'] = now
    s['inactive_at'] = now + _async(ctx, 'ecs_service_drain', 1.0)
    return {'service': _svc_out(ctx, s)}


# --------------------------------------------------------------------------
# task network interfaces (read by the EC2 module)

def task_enis(ctx):
    """The ENIs of the awsvpc tasks of every service in ctx's region, as
    [{'NetworkInterfaceId', 'SubnetId', 'Groups', 'PublicIp' (or None),
    'service' (ARN), 'attachment'}]. A running task has one ENI; when tasks
    stop (scale-in, DeleteService) their ENIs linger for
    config['async']['ecs_task_eni_linger'] seconds (default 1), as Fargate's do."""
    st = ctx.store(SERVICE)
    r = (st.get('regions') or {}).get(ctx.region)
    if not r:
        return []
    now = ctx.now()
    linger = _async(ctx, 'ecs_task_eni_linger', 1.0)
    out = []
    for lst in r['services'].values():
        for s in lst:
            av = (s.get('networkConfiguration') or {}).get('awsvpcConfiguration')
            if not av or s['launchType'] == 'EC2' or not av.get('subnets'):
                continue
            view = _svc_view(ctx, s)
            # a Fargate task holds its ENI from provisioning on (PENDING), not
            # only once RUNNING (ECS Developer Guide, "Fargate task networking")
            n = max(view['runningCount'],
                    view['desiredCount'] if view['status'] == 'ACTIVE' else 0)
            if now < s['changed_at'] + s['start_delay'] + linger:
                n = max(n, s['prev_running'])
            for i in range(n):
                h = hashlib.sha256(f"{s['serviceArn']}|{s['createdAt']}|{i}".encode()).hexdigest()
                public = None
                if av.get('assignPublicIp') == 'ENABLED':
                    v = int(h[16:24], 16)
                    public = f'3.{208 + (v >> 16) % 32}.{(v >> 8) % 256}.{v % 256}'
                out.append({'NetworkInterfaceId': f'eni-0{h[:16]}',
                            'SubnetId': av['subnets'][i % len(av['subnets'])],
                            'Groups': list(av.get('securityGroups') or []),
                            'PublicIp': public, 'service': s['serviceArn'],
                            'attachment': f'{h[24:32]}-{h[32:36]}-{h[36:40]}-{h[40:44]}-{h[44:56]}'})
    return out


# --------------------------------------------------------------------------
# tags

def _tag_target(ctx, arn):
    r = _region(ctx)
    m = re.match(r'^arn:aws:ecs:([^:]+):(\d{12}):([a-z-]+)/(.+)$', arn or '')
    if not m:
        raise _invalid(f'The ARN {arn} is not valid.')
    kind, rest = m.group(3), m.group(4)
    if kind == 'cluster':
        c = r['clusters'].get(rest)
        if c is None or c['status'] != 'ACTIVE':
            raise AwsError('ClusterNotFoundException', 'Cluster not found.')
        return c
    if kind == 'service':
        parts = rest.split('/')
        if len(parts) == 2:
            for s in reversed(r['services'].get(parts[0], [])):
                if s['serviceName'] == parts[1]:
                    return s
        raise AwsError('ResourceNotFoundException', 'The specified resource is not found.')
    if kind == 'task-definition':
        td = _resolve_td(ctx, arn) if ':' in rest else None
        if td is None:
            raise AwsError('ResourceNotFoundException', 'The specified resource is not found.')
        return td
    raise _invalid(f'The ARN {arn} is not valid.')


def tag_resource(ctx, params):
    rec = _tag_target(ctx, params.get('resourceArn'))
    rec['tags'] = _merge_tags(rec['tags'], params.get('tags'))
    return {}


def untag_resource(ctx, params):
    rec = _tag_target(ctx, params.get('resourceArn'))
    keys = set(params.get('tagKeys') or [])
    rec['tags'] = [t for t in rec['tags'] if t['key'] not in keys]
    return {}


def list_tags_for_resource(ctx, params):
    rec = _tag_target(ctx, params.get('resourceArn'))
    return {'tags': [dict(t) for t in rec['tags']]}


HANDLERS = {
    'CreateCluster': create_cluster, 'DescribeClusters': describe_clusters,
    'ListClusters': list_clusters, 'UpdateCluster': update_cluster,
    'UpdateClusterSettings': update_cluster_settings,
    'PutClusterCapacityProviders': put_cluster_capacity_providers,
    'DeleteCluster': delete_cluster,
    'RegisterTaskDefinition': register_task_definition,
    'DescribeTaskDefinition': describe_task_definition,
    'DeregisterTaskDefinition': deregister_task_definition,
    'ListTaskDefinitions': list_task_definitions,
    'ListTaskDefinitionFamilies': list_task_definition_families,
    'CreateService': create_service, 'DescribeServices': describe_services,
    'ListServices': list_services, 'UpdateService': update_service,
    'DeleteService': delete_service,
    'TagResource': tag_resource, 'UntagResource': untag_resource,
    'ListTagsForResource': list_tags_for_resource,
}

# container instances and the placement of EC2-launch-type tasks
from emu.services import ecs_container  # noqa: E402
HANDLERS.update(ecs_container.HANDLERS)


def inventory(store):
    now = time.time()
    out = []
    for region, r in sorted((store.get('regions') or {}).items()):
        for c in r['clusters'].values():
            if c['status'] == 'ACTIVE':
                out.append({'service': SERVICE, 'type': 'cluster', 'id': c['clusterArn'],
                            'region': region})
        for f in r['families'].values():
            for td in f['revisions'].values():
                if td['status'] == 'ACTIVE':
                    out.append({'service': SERVICE, 'type': 'task-definition',
                                'id': td['taskDefinitionArn'], 'region': region})
        for lst in r['services'].values():
            for s in lst:
                if s.get('drain_at') is None or now < s['inactive_at']:
                    out.append({'service': SERVICE, 'type': 'service', 'id': s['serviceArn'],
                                'region': region})
    return out
