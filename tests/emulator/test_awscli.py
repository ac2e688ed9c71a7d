"""Every operation of the CORE services (STS, IAM, Logs, Secrets Manager, S3)
driven through Debian's /usr/bin/aws: the CLI must accept every response.

The sweep runs in one process (awsbatch.py: the CLI's own entry point,
awscli.clidriver, one driver for all command lines); a few checks run the real
/usr/bin/aws executable end to end.
"""
import json

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})
DOC = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 'logs:*', 'Resource': '*'}]})
DOC2 = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 'logs:PutLogEvents', 'Resource': '*'}]})
EXEC = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'
POL = 'arn:aws:iam::123456789012:policy/cli-pol'
JWT = ('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSIsImF1ZCI6InN0cy5hbWF6b25hd3MuY29tIn0.'
       'c2lnbmF0dXJl')


def steps(tmp_path):
    body = tmp_path / 'body.txt'
    body.write_text('hello from the cli')
    out = tmp_path / 'out.txt'
    return [
        # --- STS
        (['sts', 'get-caller-identity'], lambda j: j['Account'] == '123456789012'),
        # --- IAM roles
        (['iam', 'create-role', '--role-name', 'cli-role', '--assume-role-policy-document',
          TRUST, '--tags', 'Key=a,Value=b'], lambda j: j['Role']['RoleName'] == 'cli-role'),
        (['iam', 'get-role', '--role-name', 'cli-role'],
         lambda j: j['Role']['AssumeRolePolicyDocument']['Statement'][0]['Effect'] == 'Allow'),
        (['iam', 'list-roles'], lambda j: [r['RoleName'] for r in j['Roles']] == ['cli-role']),
        (['iam', 'update-role', '--role-name', 'cli-role', '--description', 'x'], None),
        (['iam', 'update-role-description', '--role-name', 'cli-role', '--description', 'y'],
         lambda j: j['Role']['Description'] == 'y'),
        (['iam', 'update-assume-role-policy', '--role-name', 'cli-role', '--policy-document',
          TRUST], None),
        (['iam', 'tag-role', '--role-name', 'cli-role', '--tags', 'Key=c,Value=d'], None),
        (['iam', 'untag-role', '--role-name', 'cli-role', '--tag-keys', 'a'], None),
        (['iam', 'list-role-tags', '--role-name', 'cli-role'],
         lambda j: j['Tags'] == [{'Key': 'c', 'Value': 'd'}]),
        (['sts', 'assume-role', '--role-arn', 'arn:aws:iam::123456789012:role/cli-role',
          '--role-session-name', 'cli'],
         lambda j: j['Credentials']['AccessKeyId'].startswith('ASIA')),
        (['sts', 'assume-role-with-web-identity', '--role-arn',
          'arn:aws:iam::123456789012:role/cli-role', '--role-session-name', 'web',
          '--web-identity-token', JWT],
         lambda j: j['SubjectFromWebIdentityToken'] == 'ci'),
        # --- inline policies
        (['iam', 'put-role-policy', '--role-name', 'cli-role', '--policy-name', 'in',
          '--policy-document', DOC], None),
        (['iam', 'get-role-policy', '--role-name', 'cli-role', '--policy-name', 'in'],
         lambda j: j['PolicyDocument']['Statement'][0]['Action'] == 'logs:*'),
        (['iam', 'list-role-policies', '--role-name', 'cli-role'],
         lambda j: j['PolicyNames'] == ['in']),
        (['iam', 'delete-role-policy', '--role-name', 'cli-role', '--policy-name', 'in'], None),
        # --- managed policies and versions
        (['iam', 'create-policy', '--policy-name', 'cli-pol', '--policy-document', DOC,
          '--description', 'd'], lambda j: j['Policy']['Arn'] == POL),
        (['iam', 'get-policy', '--policy-arn', POL], lambda j: j['Policy']['DefaultVersionId'] == 'v1'),
        (['iam', 'list-policies', '--scope', 'Local'], lambda j: len(j['Policies']) == 1),
        (['iam', 'create-policy-version', '--policy-arn', POL, '--policy-document', DOC2,
          '--set-as-default'], lambda j: j['PolicyVersion']['VersionId'] == 'v2'),
        (['iam', 'get-policy-version', '--policy-arn', POL, '--version-id', 'v2'],
         lambda j: j['PolicyVersion']['IsDefaultVersion'] is True),
        (['iam', 'list-policy-versions', '--policy-arn', POL], lambda j: len(j['Versions']) == 2),
        (['iam', 'set-default-policy-version', '--policy-arn', POL, '--version-id', 'v1'], None),
        (['iam', 'delete-policy-version', '--policy-arn', POL, '--version-id', 'v2'], None),
        (['iam', 'tag-policy', '--policy-arn', POL, '--tags', 'Key=t,Value=1'], None),
        (['iam', 'list-policy-tags', '--policy-arn', POL], lambda j: j['Tags'][0]['Key'] == 't'),
        (['iam', 'untag-policy', '--policy-arn', POL, '--tag-keys', 't'], None),
        (['iam', 'create-policy', '--policy-name', 'boundary', '--policy-document', DOC], None),
        (['iam', 'put-role-permissions-boundary', '--role-name', 'cli-role',
          '--permissions-boundary', 'arn:aws:iam::123456789012:policy/boundary'], None),
        (['iam', 'delete-role-permissions-boundary', '--role-name', 'cli-role'], None),
        (['iam', 'delete-policy', '--policy-arn', 'arn:aws:iam::123456789012:policy/boundary'],
         None),
        # --- attachments
        (['iam', 'attach-role-policy', '--role-name', 'cli-role', '--policy-arn', POL], None),
        (['iam', 'attach-role-policy', '--role-name', 'cli-role', '--policy-arn', EXEC], None),
        (['iam', 'list-attached-role-policies', '--role-name', 'cli-role'],
         lambda j: len(j['AttachedPolicies']) == 2),
        (['iam', 'list-entities-for-policy', '--policy-arn', EXEC],
         lambda j: j['PolicyRoles'][0]['RoleName'] == 'cli-role'),
        (['iam', 'detach-role-policy', '--role-name', 'cli-role', '--policy-arn', POL], None),
        (['iam', 'detach-role-policy', '--role-name', 'cli-role', '--policy-arn', EXEC], None),
        # --- users and groups holding a managed policy
        (['iam', 'create-user', '--user-name', 'cli-user'],
         lambda j: j['User']['UserName'] == 'cli-user'),
        (['iam', 'create-group', '--group-name', 'cli-group'],
         lambda j: j['Group']['GroupName'] == 'cli-group'),
        (['iam', 'attach-user-policy', '--user-name', 'cli-user', '--policy-arn', POL], None),
        (['iam', 'attach-group-policy', '--group-name', 'cli-group', '--policy-arn', POL],
         None),
        (['iam', 'list-entities-for-policy', '--policy-arn', POL],
         lambda j: j['PolicyUsers'][0]['UserName'] == 'cli-user' and
         j['PolicyGroups'][0]['GroupName'] == 'cli-group'),
        (['iam', 'detach-user-policy', '--user-name', 'cli-user', '--policy-arn', POL], None),
        (['iam', 'detach-group-policy', '--group-name', 'cli-group', '--policy-arn', POL],
         None),
        (['iam', 'delete-user', '--user-name', 'cli-user'], None),
        (['iam', 'delete-group', '--group-name', 'cli-group'], None),
        (['iam', 'delete-policy', '--policy-arn', POL], None),
        # --- instance profiles
        (['iam', 'create-instance-profile', '--instance-profile-name', 'cli-ip'],
         lambda j: j['InstanceProfile']['InstanceProfileName'] == 'cli-ip'),
        (['iam', 'tag-instance-profile', '--instance-profile-name', 'cli-ip', '--tags',
          'Key=k,Value=v'], None),
        (['iam', 'untag-instance-profile', '--instance-profile-name', 'cli-ip', '--tag-keys',
          'k'], None),
        (['iam', 'add-role-to-instance-profile', '--instance-profile-name', 'cli-ip',
          '--role-name', 'cli-role'], None),
        (['iam', 'get-instance-profile', '--instance-profile-name', 'cli-ip'],
         lambda j: j['InstanceProfile']['Roles'][0]['RoleName'] == 'cli-role'),
        (['iam', 'list-instance-profiles'], lambda j: len(j['InstanceProfiles']) == 1),
        (['iam', 'list-instance-profiles-for-role', '--role-name', 'cli-role'],
         lambda j: len(j['InstanceProfiles']) == 1),
        (['iam', 'remove-role-from-instance-profile', '--instance-profile-name', 'cli-ip',
          '--role-name', 'cli-role'], None),
        (['iam', 'delete-instance-profile', '--instance-profile-name', 'cli-ip'], None),
        (['iam', 'delete-role', '--role-name', 'cli-role'], None),
        (['iam', 'create-service-linked-role', '--aws-service-name', 'ecs.amazonaws.com'],
         lambda j: j['Role']['Path'] == '/aws-service-role/ecs.amazonaws.com/'),
        (['iam', 'delete-service-linked-role', '--role-name', 'AWSServiceRoleForECS'],
         lambda j: j['DeletionTaskId'].startswith('task/aws-service-role/')),
        (['iam', 'get-service-linked-role-deletion-status', '--deletion-task-id',
          'task/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS/1'],
         lambda j: j['Status'] == 'SUCCEEDED'),
        # --- CloudWatch Logs
        (['logs', 'create-log-group', '--log-group-name', '/cli/g', '--tags', 'a=b'], None),
        (['logs', 'describe-log-groups', '--log-group-name-prefix', '/cli/'],
         lambda j: j['logGroups'][0]['logGroupName'] == '/cli/g'),
        (['logs', 'put-retention-policy', '--log-group-name', '/cli/g',
          '--retention-in-days', '30'], None),
        (['logs', 'delete-retention-policy', '--log-group-name', '/cli/g'], None),
        (['logs', 'tag-resource', '--resource-arn',
          'arn:aws:logs:us-east-1:123456789012:log-group:/cli/g', '--tags', 'c=d'], None),
        (['logs', 'untag-resource', '--resource-arn',
          'arn:aws:logs:us-east-1:123456789012:log-group:/cli/g', '--tag-keys', 'a'], None),
        (['logs', 'list-tags-for-resource', '--resource-arn',
          'arn:aws:logs:us-east-1:123456789012:log-group:/cli/g'],
         lambda j: j['tags'] == {'c': 'd'}),
        (['logs', 'tag-log-group', '--log-group-name', '/cli/g', '--tags', 'e=f'], None),
        (['logs', 'untag-log-group', '--log-group-name', '/cli/g', '--tags', 'e'], None),
        (['logs', 'list-tags-log-group', '--log-group-name', '/cli/g'],
         lambda j: j['tags'] == {'c': 'd'}),
        (['logs', 'create-log-stream', '--log-group-name', '/cli/g', '--log-stream-name', 's'],
         None),
        (['logs', 'put-log-events', '--log-group-name', '/cli/g', '--log-stream-name', 's',
          '--log-events', 'timestamp=1700000000000,message=hi'], None),
        (['logs', 'get-log-events', '--log-group-name', '/cli/g', '--log-stream-name', 's'],
         lambda j: j['events'][0]['message'] == 'hi'),
        (['logs', 'describe-log-streams', '--log-group-name', '/cli/g'],
         lambda j: j['logStreams'][0]['logStreamName'] == 's'),
        (['logs', 'delete-log-stream', '--log-group-name', '/cli/g', '--log-stream-name', 's'],
         None),
        (['logs', 'delete-log-group', '--log-group-name', '/cli/g'], None),
        # --- Secrets Manager
        (['secretsmanager', 'create-secret', '--name', 'cli/s', '--secret-string', 'one'],
         lambda j: j['Name'] == 'cli/s'),
        (['secretsmanager', 'get-secret-value', '--secret-id', 'cli/s'],
         lambda j: j['SecretString'] == 'one'),
        (['secretsmanager', 'put-secret-value', '--secret-id', 'cli/s', '--secret-string', 'two'],
         lambda j: j['VersionStages'] == ['AWSCURRENT']),
        (['secretsmanager', 'update-secret', '--secret-id', 'cli/s', '--description', 'd'], None),
        (['secretsmanager', 'describe-secret', '--secret-id', 'cli/s'],
         lambda j: j['Description'] == 'd' and len(j['VersionIdsToStages']) == 2),
        (['secretsmanager', 'list-secret-version-ids', '--secret-id', 'cli/s'],
         lambda j: len(j['Versions']) == 2),
        (['secretsmanager', 'tag-resource', '--secret-id', 'cli/s', '--tags',
          'Key=k,Value=v'], None),
        (['secretsmanager', 'untag-resource', '--secret-id', 'cli/s', '--tag-keys', 'k'], None),
        (['secretsmanager', 'list-secrets'], lambda j: j['SecretList'][0]['Name'] == 'cli/s'),
        (['secretsmanager', 'get-random-password', '--password-length', '20'],
         lambda j: len(j['RandomPassword']) == 20),
        (['secretsmanager', 'delete-secret', '--secret-id', 'cli/s',
          '--recovery-window-in-days', '7'], lambda j: 'DeletionDate' in j),
        (['secretsmanager', 'restore-secret', '--secret-id', 'cli/s'], None),
        (['secretsmanager', 'delete-secret', '--secret-id', 'cli/s',
          '--force-delete-without-recovery'], None),
        # --- S3
        (['s3api', 'create-bucket', '--bucket', 'cli-bucket'], None),
        (['s3api', 'head-bucket', '--bucket', 'cli-bucket'], None),
        (['s3api', 'list-buckets'], lambda j: j['Buckets'][0]['Name'] == 'cli-bucket'),
        (['s3api', 'get-bucket-location', '--bucket', 'cli-bucket'], None),
        (['s3api', 'put-bucket-versioning', '--bucket', 'cli-bucket',
          '--versioning-configuration', 'Status=Enabled'], None),
        (['s3api', 'get-bucket-versioning', '--bucket', 'cli-bucket'],
         lambda j: j['Status'] == 'Enabled'),
        (['s3api', 'put-bucket-tagging', '--bucket', 'cli-bucket', '--tagging',
          'TagSet=[{Key=a,Value=b}]'], None),
        (['s3api', 'get-bucket-tagging', '--bucket', 'cli-bucket'],
         lambda j: j['TagSet'] == [{'Key': 'a', 'Value': 'b'}]),
        (['s3api', 'delete-bucket-tagging', '--bucket', 'cli-bucket'], None),
        (['s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'dir/k.txt', '--body',
          str(body)], lambda j: j['ETag'].startswith('"')),
        (['s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'dir/k.txt'],
         lambda j: j['ContentLength'] == 18),
        (['s3api', 'get-object', '--bucket', 'cli-bucket', '--key', 'dir/k.txt', str(out)],
         lambda j: j['ContentLength'] == 18),
        (['s3api', 'copy-object', '--bucket', 'cli-bucket', '--key', 'dir/copy.txt',
          '--copy-source', 'cli-bucket/dir/k.txt'], None),
        (['s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'dir/'],
         lambda j: [o['Key'] for o in j['Contents']] == ['dir/copy.txt', 'dir/k.txt']),
        (['s3api', 'list-objects', '--bucket', 'cli-bucket'], lambda j: len(j['Contents']) == 2),
        (['s3api', 'list-object-versions', '--bucket', 'cli-bucket', '--prefix', 'dir/k'],
         lambda j: [v['Key'] for v in j['Versions']] == ['dir/k.txt']),
        (['s3api', 'delete-objects', '--bucket', 'cli-bucket', '--delete',
          'Objects=[{Key=dir/copy.txt}]'], None),
        (['s3api', 'delete-object', '--bucket', 'cli-bucket', '--key', 'dir/k.txt'], None),
        (['s3api', 'delete-bucket', '--bucket', 'cli-bucket'], None),
    ]


def test_every_operation_through_aws_cli(emulator, aws_batch, tmp_path):
    plan = steps(tmp_path)
    results = aws_batch([args for args, _ in plan])
    failures = []
    for (args, check), r in zip(plan, results):
        if r['rc'] != 0:
            failures.append(f'aws {" ".join(args[:2])}: rc={r["rc"]} {r["stderr"].strip()}')
        elif check is not None and (r['json'] is None or not check(r['json'])):
            failures.append(f'aws {" ".join(args[:2])}: unexpected output {r["stdout"][:300]}')
    assert not failures, '\n'.join(failures)
    assert (tmp_path / 'out.txt').read_text() == 'hello from the cli'
    assert emulator.control('inventory') == []      # the sweep cleaned up after itself


def test_cli_sweep_covers_every_core_handler(tmp_path):
    """Each handler of the CORE services appears in the CLI sweep."""
    from emu.services import iam, logs, s3, secretsmanager, sts
    names = {' '.join(args[:2]) for args, _ in steps(tmp_path)}

    def cli_name(op):
        import re
        return re.sub(r'(?<!^)(?=[A-Z])', '-', op).lower()
    # handlers added later with their own botocore tests (test_iam_oidc.py,
    # test_iam.py, test_s3_config.py) rather than steps of this sweep
    elsewhere = {op for op in iam.HANDLERS if 'OpenIDConnect' in op} | {
        'GetAccountAuthorizationDetails'} | {
        op for op in s3.HANDLERS if any(w in op for w in (
            'Encryption', 'PublicAccessBlock', 'Lifecycle', 'Policy', 'Ownership',
            'Cors', 'Logging', 'Website', 'Notification', 'Replication', 'Acl',
            'Accelerate', 'RequestPayment', 'ObjectLock', 'Inventory', 'Analytics',
            'Metrics', 'IntelligentTiering'))}
    missing = []
    for mod, svc in ((sts, 'sts'), (iam, 'iam'), (logs, 'logs'),
                     (secretsmanager, 'secretsmanager'), (s3, 's3api')):
        for op in mod.HANDLERS:
            if op in elsewhere:
                continue
            if f'{svc} {cli_name(op)}' not in names:
                missing.append(f'{svc} {cli_name(op)}')
    assert not missing, missing


def test_cli_errors_are_reported(aws_batch):
    r = aws_batch([['iam', 'get-role', '--role-name', 'ghost'],
                   ['logs', 'delete-log-group', '--log-group-name', 'ghost'],
                   ['ec2', 'describe-vpcs', '--vpc-ids', 'vpc-0123456789abcdef0']])
    assert r[0]['rc'] == 254 and 'NoSuchEntity' in r[0]['stderr']
    assert 'GetRole' in r[0]['stderr']
    assert r[1]['rc'] == 254 and 'ResourceNotFoundException' in r[1]['stderr']
    assert r[2]['rc'] == 254 and 'InvalidVpcID.NotFound' in r[2]['stderr']


def test_real_cli_process(aws):
    """The /usr/bin/aws executable itself, one process per command."""
    assert aws('sts', 'get-caller-identity').json['Arn'] == 'arn:aws:iam::123456789012:root'
    aws('logs', 'create-log-group', '--log-group-name', 'real')


def test_cli_high_level_s3_commands(aws_batch, tmp_path):
    f = tmp_path / 'f.txt'
    f.write_text('x' * 10)
    res = aws_batch([['s3', 'mb', 's3://hl-bucket'],
                     ['s3', 'cp', str(f), 's3://hl-bucket/a/f.txt'],
                     ['s3', 'ls', 's3://hl-bucket/a/'],
                     ['s3', 'rm', 's3://hl-bucket/a/f.txt'],
                     ['s3', 'rb', 's3://hl-bucket']])
    assert [r['rc'] for r in res] == [0] * 5, res
    assert 'f.txt' in res[2]['stdout']
