"""ECS container instances: EC2 instances that join a cluster, and where the
tasks of EC2-launch-type services are placed (ecs.py calls in here).

What AWS does (ECS Developer Guide, "Amazon ECS container instances",
"Bootstrapping container instances with user data", "Container instance
memory management"; API reference of DeregisterContainerInstance):
- the ECS agent of an instance reads ECS_CLUSTER from /etc/ecs/ecs.config,
  which user data usually writes (`echo ECS_CLUSTER=x >> /etc/ecs/ecs.config`,
  a here-document, `tee -a`, cloud-config write_files), and registers the
  instance with that cluster shortly after boot, using the instance
  profile's role (ecs:RegisterContainerInstance, which the managed policy
  AmazonEC2ContainerServiceforEC2Role grants). A cluster that does not exist
  is not joined;
- registeredResources: CPU (1024 units a vCPU), MEMORY (MiB the instance
  reports, less what the OS keeps and ECS_RESERVED_MEMORY), the reserved
  PORTS; remainingResources: what the placed tasks leave;
- a stopped instance's agent is disconnected (its tasks stop) and
  reconnects with the same container instance ARN when it starts again;
- a terminated instance is deregistered (INACTIVE) by ECS; a container
  instance deregistered by hand never comes back (the agent's checkpoint
  names an INACTIVE instance);
- DAEMON services run one task on each ACTIVE container instance with an
  agent connected and room for the task; REPLICA services with the EC2
  launch type place tasks where CPU, memory and host ports remain, else the
  service says it "was unable to place a task because no container instance
  met all of its requirements" (with the closest instance's shortfall);
- DeleteCluster fails with ClusterContainsContainerInstancesException while
  container instances are ACTIVE or DRAINING.

Emulator simplifications (README divergences): the agent is present on the
ECS-optimized AMIs (their public SSM parameter is under /aws/service/ecs/)
and on others whose user data installs ecs-init; without ECS_CLUSTER only an
existing `default` cluster is joined (the agent would create it); the role
check reads the Allow statements of the role's inline and attached policies
for ecs:RegisterContainerInstance (wildcards honoured, Deny, NotAction and
conditions ignored); awsvpc tasks on EC2 get no ENI; placement is first-fit
in registration order, without placement strategies or constraints.

Life cycle is derived from timestamps when read (sync()): registration
config['async']['ecs_agent_register'] seconds (default 2) after the
instance reaches running (and after its cluster exists); deregistration
config['async']['ecs_instance_deregister'] seconds (default 1) after it is
terminated. Records: ecs region store r['container_instances'][id].
"""
import base64
import fnmatch
import gzip
import json
import re

from emu.core import AwsError

from . import ec2_instances as EI
from . import ecs as S

# vCPUs and MiB of the instance types the EC2 module knows
TYPE_SIZES = {
    't2.nano': (1, 512), 't2.micro': (1, 1024), 't2.small': (1, 2048),
    't2.medium': (2, 4096), 't2.large': (2, 8192), 't3.nano': (2, 512),
    't3.micro': (2, 1024), 't3.small': (2, 2048), 't3.medium': (2, 4096),
    't3.large': (2, 8192), 't3.xlarge': (4, 16384), 't3a.small': (2, 2048),
    't3a.medium': (2, 4096), 'm5.large': (2, 8192), 'm5.xlarge': (4, 16384),
    'm6i.large': (2, 8192), 'c5.large': (2, 4096), 't4g.small': (2, 2048),
    't4g.medium': (2, 4096),
}
RESERVED_PORTS = ['22', '2375', '2376', '51678', '51679']
AGENT = {'agentVersion': '1.89.2', 'agentHash': '5e0a1cdb', 'dockerVersion': 'DockerVersion: 25.0.8'}
REGISTER_ACTION = 'ecs:registercontainerinstance'

CLUSTER_RE = re.compile(r'''(?<![A-Za-z0-9_])ECS_CLUSTER\s*=\s*["']?([A-Za-z0-9_:/.-]{1,400})''')
RESERVED_MEM_RE = re.compile(r'''(?<![A-Za-z0-9_])ECS_RESERVED_MEMORY\s*=\s*["']?(\d+)''')


# ------------------------------------------------------------------ user data

def _user_text(ud):
    if not ud:
        return ''
    try:
        raw = base64.b64decode(ud)
    except ValueError:
        return ''
    if raw[:2] == b'\x1f\x8b':      # cloud-init takes gzip-compressed user data
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ''
    return raw.decode('utf-8', 'replace')


def ecs_config(ud):
    """(agent config found, cluster or None, reserved MiB) from base64 user
    data: the ECS_CLUSTER / ECS_RESERVED_MEMORY settings that reach
    /etc/ecs/ecs.config (the last assignment wins, commented lines do not
    count; a file that never mentions ecs.config configures nothing)."""
    text = _user_text(ud)
    if '/etc/ecs/ecs.config' not in text and 'ecs.config' not in text:
        return bool(text and 'ecs-init' in text), None, 0
    cluster, reserved = None, 0
    for line in text.splitlines():
        if line.lstrip().startswith('#') and not line.lstrip().startswith('#!'):
            continue
        for m in CLUSTER_RE.finditer(line):
            cluster = m.group(1)
        for m in RESERVED_MEM_RE.finditer(line):
            reserved = int(m.group(1))
    return True, cluster, reserved


def _has_agent(inst, config_found):
    from .ssm import PUBLIC_AMIS
    for name, ami in PUBLIC_AMIS.items():
        if ami == inst.get('ImageId') and '/aws/service/ecs/' in name:
            return True
    return config_found and 'ecs-init' in _user_text(inst.get('UserData'))


# ------------------------------------------------------------------ IAM

def _docs(ctx, role):
    from . import iam
    for doc in (role.get('InlinePolicies') or {}).values():
        yield doc
    customer = ctx.store('iam').get('policies') or {}
    for arn in role.get('AttachedPolicies') or []:
        pol = iam.AWS_MANAGED.get(arn) or customer.get(arn)
        if pol:
            v = (pol.get('Versions') or {}).get(pol.get('DefaultVersionId')) or {}
            yield v.get('Document')


def role_can_register(ctx, profile):
    """Whether the role of instance profile {Arn, Id} may call
    ecs:RegisterContainerInstance (Allow statements only)."""
    if not profile:
        return False
    st = ctx.store('iam')
    pr = next((p for p in (st.get('profiles') or {}).values()
               if p.get('Arn') == profile.get('Arn')), None)
    if pr is None or not pr.get('Roles'):
        return False
    role = (st.get('roles') or {}).get(pr['Roles'][0])
    if role is None:
        return False
    for doc in _docs(ctx, role):
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                continue
        stmts = (doc or {}).get('Statement') or []
        for s in stmts if isinstance(stmts, list) else [stmts]:
            if not isinstance(s, dict) or s.get('Effect') != 'Allow':
                continue
            acts = s.get('Action') or []
            for a in acts if isinstance(acts, list) else [acts]:
                if isinstance(a, str) and fnmatch.fnmatchcase(REGISTER_ACTION, a.lower()):
                    return True
    return False


# ------------------------------------------------------------------ records

def _recs(ctx):
    return S._region(ctx).setdefault('container_instances', {})


def _ec2_region(ctx):
    return ((ctx.store('ec2').get('regions') or {}).get(ctx.region) or {})


def _running_since(now, inst):
    """When the instance last reached running, or None if it is not running."""
    if EI._state(now, inst) != 'running':
        return None
    return inst.get('until') or inst.get('LaunchTime') or 0


def sync(ctx):
    """Registers the instances whose agent has come up since the last call
    and deregisters the terminated ones (see the module docstring)."""
    now = ctx.now()
    r = S._region(ctx)
    recs = _recs(ctx)
    by_instance = {}
    for ci in recs.values():
        by_instance.setdefault(ci['ec2InstanceId'], []).append(ci)
    instances = _ec2_region(ctx).get('instances') or {}
    reg_delay = S._async(ctx, 'ecs_agent_register', 2.0)
    dereg_delay = S._async(ctx, 'ecs_instance_deregister', 1.0)
    for iid, inst in instances.items():
        st = EI._state(now, inst)
        mine = by_instance.get(iid) or []
        live = [ci for ci in mine if ci['status'] != 'INACTIVE']
        if st in ('shutting-down', 'terminated'):
            gone_at = inst.get('until', now) + (dereg_delay if st == 'terminated' else 0)
            if st == 'terminated' and now >= gone_at:
                for ci in live:
                    _deregister(ci, gone_at)
            continue
        if live or mine:
            continue        # registered already, or deregistered for good
        since = _running_since(now, inst)
        if since is None:
            continue
        found, cluster, reserved = ecs_config(inst.get('UserData'))
        if not _has_agent(inst, found):
            continue
        name = S._cluster_name(ctx, cluster or 'default')
        c = r['clusters'].get(name)
        if c is None or c['status'] != 'ACTIVE':
            continue
        at = max(since + reg_delay, c.get('createdAt') or 0)
        if now < at or not role_can_register(ctx, inst.get('IamInstanceProfile')):
            continue
        cid = ctx.rand_hex(32)
        recs[cid] = {'id': cid, 'cluster': name, 'ec2InstanceId': iid,
                     'containerInstanceArn': ctx.arn('ecs', f'container-instance/{name}/{cid}'),
                     'status': 'ACTIVE', 'registeredAt': at, 'reserved': reserved,
                     'version': 1, 'tags': []}
    # instances that no longer exist at all
    for ci in recs.values():
        if ci['status'] != 'INACTIVE' and ci['ec2InstanceId'] not in instances:
            _deregister(ci, now)


def _deregister(ci, at):
    ci['status'] = 'INACTIVE'
    ci['deregisteredAt'] = at
    ci['version'] += 1


def connected_at(ctx, ci):
    """When the agent of ACTIVE/DRAINING ci (re)connected for the instance's
    current run, or None while it is disconnected."""
    if ci['status'] == 'INACTIVE':
        return None
    inst = (_ec2_region(ctx).get('instances') or {}).get(ci['ec2InstanceId'])
    if inst is None:
        return None
    now = ctx.now()
    since = _running_since(now, inst)
    if since is None:
        return None
    at = max(since + S._async(ctx, 'ecs_agent_register', 2.0), ci['registeredAt'])
    return at if now >= at else None


def _instance(ctx, ci):
    return (_ec2_region(ctx).get('instances') or {}).get(ci['ec2InstanceId']) or {}


def registered(ctx, ci):
    """{'CPU': units, 'MEMORY': MiB} the instance registers (its type now)."""
    vcpu, mib = TYPE_SIZES.get(_instance(ctx, ci).get('InstanceType'), (1, 1024))
    # the kernel and the agent keep a little of the memory the type has
    mem = mib - max(64, mib * 4 // 100) - ci.get('reserved', 0)
    return {'CPU': vcpu * 1024, 'MEMORY': max(0, mem)}


def cluster_instances(ctx, name, statuses=('ACTIVE', 'DRAINING')):
    sync(ctx)
    return sorted((ci for ci in _recs(ctx).values()
                   if ci['cluster'] == name and ci['status'] in statuses),
                  key=lambda ci: (ci['registeredAt'], ci['id']))


# ------------------------------------------------------------------ placement

def task_needs(td):
    """(cpu units, MiB, host ports) one task of td reserves on an instance."""
    cds = td.get('containerDefinitions') or []
    cpu = int(td['cpu']) if td.get('cpu') else sum(int(c.get('cpu') or 0) for c in cds)
    if td.get('memory'):
        mem = int(td['memory'])
    else:
        mem = sum(int(c.get('memory') or c.get('memoryReservation') or 0) for c in cds)
    ports = set()
    for c in cds:
        for pm in c.get('portMappings') or []:
            hp = pm.get('hostPort')
            if td.get('networkMode') == 'host':
                hp = pm.get('containerPort')
            if hp:
                ports.add(str(hp))
    return cpu, mem, ports


def placement(ctx, cluster):
    """Where the tasks of the cluster's EC2-launch-type services are:
    {service ARN: {'desired': n (DAEMON: the connected instances), 'tasks':
    [(container instance id, start time)], 'unplaced': n, 'closest': (ci, what)
    or None}}, placed first-fit in service creation order; and
    {ci id: {'CPU', 'MEMORY', 'PORTS', 'tasks'}} what each instance has left."""
    cis = [ci for ci in cluster_instances(ctx, cluster, ('ACTIVE',))
           if connected_at(ctx, ci) is not None]
    left = {}
    for ci in cis:
        reg = registered(ctx, ci)
        left[ci['id']] = {'CPU': reg['CPU'], 'MEMORY': reg['MEMORY'], 'PORTS': set(),
                          'tasks': 0}
    out = {}
    for s in S._region(ctx)['services'].get(cluster, []):
        if s['launchType'] != 'EC2':
            continue
        status = S._svc_status(ctx, s)
        if status != 'ACTIVE':
            out[s['serviceArn']] = {'desired': 0, 'tasks': [], 'unplaced': 0, 'closest': None}
            continue
        td = S._resolve_td(ctx, s['taskDefinition']) or {}
        cpu, mem, ports = task_needs(td)
        daemon = s['schedulingStrategy'] == 'DAEMON'
        want = len(cis) if daemon else s['desiredCount']
        tasks, closest = [], None
        targets = [[ci] for ci in cis] if daemon else [cis] * want
        for choices in targets:
            best = None
            # spread: the instance with the fewest tasks that fits
            for ci in sorted(choices, key=lambda c: left[c['id']]['tasks']):
                room = left[ci['id']]
                short = ('CPU units' if room['CPU'] < cpu else
                         'memory' if room['MEMORY'] < mem else
                         'ports' if room['PORTS'] & ports else None)
                if short is None:
                    best = ci
                    break
                if closest is None:
                    closest = (ci, short)
            if best is None:
                continue
            room = left[best['id']]
            room['CPU'] -= cpu
            room['MEMORY'] -= mem
            room['PORTS'] |= ports
            room['tasks'] += 1
            start = max(connected_at(ctx, best), s['changed_at']) + s['start_delay']
            tasks.append((best['id'], max(start, s.get('roles_ready_at') or 0)))
        out[s['serviceArn']] = {'desired': want, 'tasks': tasks,
                                'unplaced': want - len(tasks), 'closest': closest}
    return out, left, cis


def unplaced_event(s, p):
    """AWS's service event for tasks that found no instance."""
    if p['closest'] is None:
        why = ('Reason: No Container Instances were found in your cluster.')
    else:
        ci, short = p['closest']
        why = (f"The closest matching (container-instance {ci['id']}) has insufficient "
               f"{short} available." if short != 'ports' else
               f"The closest matching (container-instance {ci['id']}) is already using a "
               f"port required by your task.")
    return (f"(service {s['serviceName']}) was unable to place a task because no container "
            f"instance met all of its requirements. {why} For more information, see the "
            f"Troubleshooting section of the Amazon ECS Developer Guide.")


# ------------------------------------------------------------------ API

def _resources(ctx, ci, left=None):
    reg = registered(ctx, ci)
    cpu, mem, ports = reg['CPU'], reg['MEMORY'], set()
    if left is not None:
        cpu, mem, ports = left['CPU'], left['MEMORY'], left['PORTS']

    def num(name, v):
        return {'name': name, 'type': 'INTEGER', 'doubleValue': 0.0, 'longValue': 0,
                'integerValue': int(v)}
    return [num('CPU', cpu), num('MEMORY', mem),
            {'name': 'PORTS', 'type': 'STRINGSET', 'doubleValue': 0.0, 'longValue': 0,
             'integerValue': 0, 'stringSetValue': sorted(set(RESERVED_PORTS) | ports, key=int)},
            {'name': 'PORTS_UDP', 'type': 'STRINGSET', 'doubleValue': 0.0, 'longValue': 0,
             'integerValue': 0, 'stringSetValue': []}]


def _attributes(ctx, ci):
    inst = _instance(ctx, ci)
    arch = inst.get('Architecture') or 'x86_64'
    attrs = [('ecs.ami-id', inst.get('ImageId')), ('ecs.instance-type', inst.get('InstanceType')),
             ('ecs.availability-zone', inst.get('AvailabilityZone')),
             ('ecs.vpc-id', inst.get('VpcId')), ('ecs.subnet-id', inst.get('SubnetId')),
             ('ecs.os-type', 'linux'), ('ecs.os-family', 'LINUX'),
             ('ecs.cpu-architecture', 'arm64' if arch == 'arm64' else 'x86_64'),
             ('com.amazonaws.ecs.capability.task-iam-role', None),
             ('com.amazonaws.ecs.capability.logging-driver.awslogs', None),
             ('ecs.capability.execution-role-awslogs', None),
             ('ecs.capability.task-eni', None)]
    return [dict({'name': n}, **({'value': v} if v is not None else {})) for n, v in attrs]


def _ci_out(ctx, ci, include=(), placed=None):
    if placed is None:
        _, left, _ = placement(ctx, ci['cluster'])
    else:
        left = placed
    room = left.get(ci['id'])
    out = {'containerInstanceArn': ci['containerInstanceArn'],
           'ec2InstanceId': ci['ec2InstanceId'], 'version': ci['version'],
           'versionInfo': dict(AGENT), 'status': ci['status'],
           'agentConnected': connected_at(ctx, ci) is not None,
           'registeredResources': _resources(ctx, ci),
           'remainingResources': _resources(ctx, ci, room) if room else
           _resources(ctx, ci),
           'runningTasksCount': 0, 'pendingTasksCount': 0,
           'attributes': _attributes(ctx, ci), 'registeredAt': ci['registeredAt'],
           'attachments': []}
    if room is not None:
        out['runningTasksCount'] = room.get('running', 0)
        out['pendingTasksCount'] = room['tasks'] - room.get('running', 0)
    if 'TAGS' in include:
        out['tags'] = [dict(t) for t in ci['tags']]
    if 'CONTAINER_INSTANCE_HEALTH' in include:
        out['healthStatus'] = {'overallStatus': 'OK' if out['agentConnected'] else
                               'INSUFFICIENT_DATA', 'details': []}
    return out


def _left_with_running(ctx, cluster):
    placed, left, _ = placement(ctx, cluster)
    now = ctx.now()
    for p in placed.values():
        for cid, start in p['tasks']:
            if now >= start:
                left[cid]['running'] = left[cid].get('running', 0) + 1
    return left


def _find(ctx, cluster, ref):
    m = re.match(r'^arn:aws:ecs:[^:]+:\d{12}:container-instance/(?:([^/]+)/)?([0-9a-f]{32})$',
                 ref or '')
    cid = m.group(2) if m else ref
    ci = _recs(ctx).get(cid)
    if ci is None or ci['cluster'] != cluster:
        return None
    return ci


def list_container_instances(ctx, params):
    c = S._cluster(ctx, params.get('cluster'))
    status = params.get('status')
    cis = cluster_instances(ctx, c['clusterName'])
    if status:
        cis = [ci for ci in cis if ci['status'] == status]
    flt = (params.get('filter') or '').strip()
    if flt:
        m = re.match(r'^attribute:([\w.-]+)\s*==\s*(\S+)$', flt)
        if not m:
            raise S._invalid(f'The filter expression is not supported by the emulator: {flt}')
        cis = [ci for ci in cis if any(a['name'] == m.group(1) and a.get('value') == m.group(2)
                                       for a in _attributes(ctx, ci))]
    page, nxt = S._page(ctx, [ci['containerInstanceArn'] for ci in cis], params,
                        'container-instances')
    out = {'containerInstanceArns': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def describe_container_instances(ctx, params):
    c = S._cluster(ctx, params.get('cluster'))
    refs = params.get('containerInstances') or []
    if not refs:
        raise S._invalid('Container instances cannot be empty.')
    if len(refs) > 100:
        raise S._invalid('At most 100 container instances can be described at once.')
    sync(ctx)
    left = _left_with_running(ctx, c['clusterName'])
    out, failures = [], []
    for ref in refs:
        ci = _find(ctx, c['clusterName'], ref)
        if ci is None:
            arn = ref if ref.startswith('arn:') else \
                ctx.arn('ecs', f"container-instance/{c['clusterName']}/{ref}")
            failures.append({'arn': arn, 'reason': 'MISSING'})
        else:
            out.append(_ci_out(ctx, ci, params.get('include') or [], left))
    return {'containerInstances': out, 'failures': failures}


def deregister_container_instance(ctx, params):
    c = S._cluster(ctx, params.get('cluster'))
    sync(ctx)
    ref = params.get('containerInstance')
    ci = _find(ctx, c['clusterName'], ref)
    if ci is None or ci['status'] == 'INACTIVE':
        raise S._invalid(f'The referenced container instance {ref} was not found in '
                         f"cluster {c['clusterName']}.")
    left = _left_with_running(ctx, c['clusterName'])
    if left.get(ci['id'], {}).get('tasks') and not params.get('force'):
        raise S._invalid('Found running tasks on the instance. Stop them first or '
                         'deregister with force.')
    _deregister(ci, ctx.now())
    return {'containerInstance': _ci_out(ctx, ci, (), left)}


HANDLERS = {
    'ListContainerInstances': list_container_instances,
    'DescribeContainerInstances': describe_container_instances,
    'DeregisterContainerInstance': deregister_container_instance,
}


def registered_count(ctx, cluster):
    return len(cluster_instances(ctx, cluster))


def check_cluster_delete(ctx, cluster):
    if registered_count(ctx, cluster):
        raise AwsError('ClusterContainsContainerInstancesException',
                       'The Cluster cannot be deleted while Container Instances are active '
                       'or draining.')
