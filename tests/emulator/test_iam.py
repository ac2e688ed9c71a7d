"""IAM through botocore: roles, inline and managed policies, versions,
attachments, instance profiles, pagination and AWS's deletion rules."""
import json
import re
from urllib.parse import unquote

import botocore.exceptions
import pytest

TRUST = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]}
DOC = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 'logs:PutLogEvents', 'Resource': '*'}]}
EXEC_ARN = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'


@pytest.fixture
def iam(emulator):
    return emulator.client('iam')


def err(excinfo):
    return excinfo.value.response['Error']['Code'], \
        excinfo.value.response['ResponseMetadata']['HTTPStatusCode']


def mkrole(iam, name='app', **kw):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST),
                           **kw)['Role']


def test_create_role_formats(iam):
    r = mkrole(iam, 'svc', Path='/service/', Description='d', Tags=[{'Key': 'k', 'Value': 'v'}])
    assert r['Arn'] == 'arn:aws:iam::123456789012:role/service/svc'
    assert re.match(r'^AROA[A-Z0-9]{17}$', r['RoleId'])
    assert r['Path'] == '/service/' and r['MaxSessionDuration'] == 3600
    got = iam.get_role(RoleName='svc')['Role']
    assert got['AssumeRolePolicyDocument'] == TRUST     # botocore URL-decodes it
    assert got['Description'] == 'd' and got['Tags'] == [{'Key': 'k', 'Value': 'v'}]


def test_assume_role_policy_is_url_encoded_on_the_wire(emulator, iam):
    mkrole(iam, 'enc')
    st, _, body = emulator.raw('iam', params={'Action': 'GetRole', 'Version': '2010-05-08',
                                              'RoleName': 'enc'})
    assert st == 200
    raw = re.search(rb'<AssumeRolePolicyDocument>(.*)</AssumeRolePolicyDocument>',
                    body).group(1).decode()
    assert '%7B%22Version%22' in raw                     # RFC 3986 encoded JSON
    assert json.loads(unquote(raw)) == TRUST


def test_role_errors(iam):
    mkrole(iam, 'dup')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        mkrole(iam, 'dup')
    assert err(e) == ('EntityAlreadyExists', 409)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        mkrole(iam, 'DUP')                               # names are case-insensitive
    assert err(e) == ('EntityAlreadyExists', 409)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName='ghost')
    assert err(e) == ('NoSuchEntity', 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='bad', AssumeRolePolicyDocument='{not json')
    assert err(e) == ('MalformedPolicyDocument', 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='bad name!', AssumeRolePolicyDocument=json.dumps(TRUST))
    assert err(e) == ('ValidationError', 400)


def test_update_role_and_trust(iam):
    mkrole(iam, 'u')
    iam.update_role(RoleName='u', Description='new', MaxSessionDuration=7200)
    new_trust = dict(TRUST, Statement=[dict(TRUST['Statement'][0],
                                            Principal={'Service': 'ec2.amazonaws.com'})])
    iam.update_assume_role_policy(RoleName='u', PolicyDocument=json.dumps(new_trust))
    r = iam.get_role(RoleName='u')['Role']
    assert r['Description'] == 'new' and r['MaxSessionDuration'] == 7200
    assert r['AssumeRolePolicyDocument'] == new_trust


def test_role_tags(iam):
    mkrole(iam, 't')
    iam.tag_role(RoleName='t', Tags=[{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}])
    iam.tag_role(RoleName='t', Tags=[{'Key': 'a', 'Value': '3'}])
    iam.untag_role(RoleName='t', TagKeys=['b'])
    assert iam.list_role_tags(RoleName='t')['Tags'] == [{'Key': 'a', 'Value': '3'}]


def test_inline_policies(iam):
    mkrole(iam, 'i')
    iam.put_role_policy(RoleName='i', PolicyName='logs', PolicyDocument=json.dumps(DOC))
    assert iam.get_role_policy(RoleName='i', PolicyName='logs')['PolicyDocument'] == DOC
    assert iam.list_role_policies(RoleName='i')['PolicyNames'] == ['logs']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName='i')
    assert err(e) == ('DeleteConflict', 409)
    iam.delete_role_policy(RoleName='i', PolicyName='logs')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role_policy(RoleName='i', PolicyName='logs')
    assert err(e) == ('NoSuchEntity', 404)
    iam.delete_role(RoleName='i')


def test_inline_policy_with_principal_is_malformed(iam):
    mkrole(iam, 'm')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.put_role_policy(RoleName='m', PolicyName='p', PolicyDocument=json.dumps(TRUST))
    assert err(e) == ('MalformedPolicyDocument', 400)


def test_aws_managed_execution_policy_exists(iam):
    p = iam.get_policy(PolicyArn=EXEC_ARN)['Policy']
    assert p['PolicyName'] == 'AmazonECSTaskExecutionRolePolicy' and p['Path'] == '/service-role/'
    v = iam.get_policy_version(PolicyArn=EXEC_ARN, VersionId=p['DefaultVersionId'])
    doc = v['PolicyVersion']['Document']
    assert 'ecr:GetAuthorizationToken' in doc['Statement'][0]['Action']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=EXEC_ARN)
    assert err(e)[0] == 'UnmodifiableEntity'


def test_attach_detach_and_delete_rules(iam):
    mkrole(iam, 'a')
    pol = iam.create_policy(PolicyName='cust', PolicyDocument=json.dumps(DOC))['Policy']
    assert pol['Arn'] == 'arn:aws:iam::123456789012:policy/cust'
    assert re.match(r'^ANPA[A-Z0-9]{17}$', pol['PolicyId']) and pol['DefaultVersionId'] == 'v1'
    iam.attach_role_policy(RoleName='a', PolicyArn=pol['Arn'])
    iam.attach_role_policy(RoleName='a', PolicyArn=EXEC_ARN)
    iam.attach_role_policy(RoleName='a', PolicyArn=EXEC_ARN)          # idempotent
    att = iam.list_attached_role_policies(RoleName='a')['AttachedPolicies']
    assert sorted(x['PolicyArn'] for x in att) == sorted([pol['Arn'], EXEC_ARN])
    assert iam.get_policy(PolicyArn=pol['Arn'])['Policy']['AttachmentCount'] == 1
    ents = iam.list_entities_for_policy(PolicyArn=EXEC_ARN)
    assert [r['RoleName'] for r in ents['PolicyRoles']] == ['a']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName='a')
    assert err(e) == ('DeleteConflict', 409)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=pol['Arn'])
    assert err(e) == ('DeleteConflict', 409)
    iam.detach_role_policy(RoleName='a', PolicyArn=pol['Arn'])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.detach_role_policy(RoleName='a', PolicyArn=pol['Arn'])
    assert err(e) == ('NoSuchEntity', 404)
    iam.delete_policy(PolicyArn=pol['Arn'])
    iam.detach_role_policy(RoleName='a', PolicyArn=EXEC_ARN)
    iam.delete_role(RoleName='a')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_role_policy(RoleName='ghost', PolicyArn=EXEC_ARN)
    assert err(e) == ('NoSuchEntity', 404)
    mkrole(iam, 'b')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_role_policy(RoleName='b',
                               PolicyArn='arn:aws:iam::123456789012:policy/none')
    assert err(e) == ('NoSuchEntity', 404)


def test_policy_versions_max_five(iam):
    arn = iam.create_policy(PolicyName='ver', PolicyDocument=json.dumps(DOC))['Policy']['Arn']
    for i in range(2, 6):
        d = dict(DOC, Statement=[dict(DOC['Statement'][0], Resource=f'arn:aws:logs:::{i}')])
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(d),
                                      SetAsDefault=True)['PolicyVersion']
        assert v['VersionId'] == f'v{i}' and v['IsDefaultVersion']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC))
    assert err(e) == ('LimitExceeded', 409)
    assert iam.get_policy(PolicyArn=arn)['Policy']['DefaultVersionId'] == 'v5'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId='v5')
    assert err(e) == ('DeleteConflict', 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId='v1')
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC))
    assert v6['PolicyVersion']['VersionId'] == 'v6'
    assert not v6['PolicyVersion']['IsDefaultVersion']
    iam.set_default_policy_version(PolicyArn=arn, VersionId='v6')
    got = iam.get_policy_version(PolicyArn=arn, VersionId='v6')['PolicyVersion']
    assert got['Document'] == DOC and got['IsDefaultVersion']
    ids = [v['VersionId'] for v in iam.list_policy_versions(PolicyArn=arn)['Versions']]
    assert sorted(ids) == ['v2', 'v3', 'v4', 'v5', 'v6']
    # a policy with non-default versions cannot be deleted
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert err(e) == ('DeleteConflict', 409)
    for vid in ('v2', 'v3', 'v4', 'v5'):
        iam.delete_policy_version(PolicyArn=arn, VersionId=vid)
    iam.delete_policy(PolicyArn=arn)


def test_policy_tags_and_duplicates(iam):
    arn = iam.create_policy(PolicyName='tg', PolicyDocument=json.dumps(DOC),
                            Tags=[{'Key': 'x', 'Value': '1'}])['Policy']['Arn']
    iam.tag_policy(PolicyArn=arn, Tags=[{'Key': 'y', 'Value': '2'}])
    iam.untag_policy(PolicyArn=arn, TagKeys=['x'])
    assert iam.list_policy_tags(PolicyArn=arn)['Tags'] == [{'Key': 'y', 'Value': '2'}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='tg', PolicyDocument=json.dumps(DOC))
    assert err(e) == ('EntityAlreadyExists', 409)
    local = iam.list_policies(Scope='Local')['Policies']
    assert [p['PolicyName'] for p in local] == ['tg']
    aws = [p for page in iam.get_paginator('list_policies').paginate(Scope='AWS')
           for p in page['Policies']]
    assert EXEC_ARN in [p['Arn'] for p in aws]


def test_marker_pagination(iam):
    arns = []
    for i in range(7):
        arns.append(iam.create_policy(PolicyName=f'p{i}',
                                      PolicyDocument=json.dumps(DOC))['Policy']['Arn'])
    mkrole(iam, 'many')
    for a in arns:
        iam.attach_role_policy(RoleName='many', PolicyArn=a)
    seen, marker, pages = [], None, 0
    while True:
        kw = {'Marker': marker} if marker else {}
        page = iam.list_attached_role_policies(RoleName='many', MaxItems=3, **kw)
        pages += 1
        seen += [p['PolicyArn'] for p in page['AttachedPolicies']]
        if not page['IsTruncated']:
            assert 'Marker' not in page
            break
        marker = page['Marker']
    assert pages == 3 and sorted(seen) == sorted(arns)
    # botocore's paginator agrees
    pg = iam.get_paginator('list_attached_role_policies')
    got = [p['PolicyArn'] for page in pg.paginate(RoleName='many',
                                                  PaginationConfig={'PageSize': 2})
           for p in page['AttachedPolicies']]
    assert sorted(got) == sorted(arns)
    for i in range(5):
        iam.put_role_policy(RoleName='many', PolicyName=f'in{i}', PolicyDocument=json.dumps(DOC))
    first = iam.list_role_policies(RoleName='many', MaxItems=2)
    assert first['PolicyNames'] == ['in0', 'in1'] and first['IsTruncated']
    rest = iam.list_role_policies(RoleName='many', Marker=first['Marker'])
    assert rest['PolicyNames'] == ['in2', 'in3', 'in4'] and not rest['IsTruncated']
    ents = iam.list_entities_for_policy(PolicyArn=arns[0], MaxItems=1)
    assert [r['RoleName'] for r in ents['PolicyRoles']] == ['many']
    for i in range(3):
        mkrole(iam, f'r{i}')
    roles = [r['RoleName'] for page in iam.get_paginator('list_roles').paginate(
        PaginationConfig={'PageSize': 2}) for r in page['Roles']]
    assert roles == ['many', 'r0', 'r1', 'r2']


def test_attached_policy_quota(iam):
    mkrole(iam, 'q')
    for i in range(10):
        arn = iam.create_policy(PolicyName=f'q{i}', PolicyDocument=json.dumps(DOC))['Policy']['Arn']
        iam.attach_role_policy(RoleName='q', PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_role_policy(RoleName='q', PolicyArn=EXEC_ARN)
    assert err(e) == ('LimitExceeded', 409)


def test_instance_profiles(iam):
    mkrole(iam, 'ec2role')
    ip = iam.create_instance_profile(InstanceProfileName='prof')['InstanceProfile']
    assert ip['Arn'] == 'arn:aws:iam::123456789012:instance-profile/prof'
    iam.add_role_to_instance_profile(InstanceProfileName='prof', RoleName='ec2role')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName='prof', RoleName='ec2role')
    assert err(e) == ('LimitExceeded', 409)
    got = iam.get_instance_profile(InstanceProfileName='prof')['InstanceProfile']
    assert [r['RoleName'] for r in got['Roles']] == ['ec2role']
    assert [p['InstanceProfileName'] for p in
            iam.list_instance_profiles_for_role(RoleName='ec2role')['InstanceProfiles']] == ['prof']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName='ec2role')
    assert err(e) == ('DeleteConflict', 409)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName='prof')
    assert err(e) == ('DeleteConflict', 409)
    iam.remove_role_from_instance_profile(InstanceProfileName='prof', RoleName='ec2role')
    iam.delete_instance_profile(InstanceProfileName='prof')
    iam.delete_role(RoleName='ec2role')


def test_inventory_tracks_iam(emulator, iam):
    mkrole(iam, 'inv')
    iam.put_role_policy(RoleName='inv', PolicyName='p', PolicyDocument=json.dumps(DOC))
    iam.attach_role_policy(RoleName='inv', PolicyArn=EXEC_ARN)
    inv = [(x['type'], x['id']) for x in emulator.control('inventory') if x['service'] == 'iam']
    assert ('role', 'inv') in inv and ('role-policy', 'inv/p') in inv
    assert ('role-policy-attachment', f'inv|{EXEC_ARN}') in inv
    iam.detach_role_policy(RoleName='inv', PolicyArn=EXEC_ARN)
    iam.delete_role_policy(RoleName='inv', PolicyName='p')
    iam.delete_role(RoleName='inv')
    assert [x for x in emulator.control('inventory') if x['service'] == 'iam'] == []


def test_remaining_operations(iam):
    """Operations not exercised above, through botocore."""
    mkrole(iam, 'rest')
    assert iam.update_role_description(RoleName='rest', Description='z')['Role']['Description'] == 'z'
    b = iam.create_policy(PolicyName='bound', PolicyDocument=json.dumps(DOC))['Policy']['Arn']
    iam.put_role_permissions_boundary(RoleName='rest', PermissionsBoundary=b)
    got = iam.get_role(RoleName='rest')['Role']['PermissionsBoundary']
    assert got == {'PermissionsBoundaryType': 'Policy', 'PermissionsBoundaryArn': b}
    assert iam.get_policy(PolicyArn=b)['Policy']['PermissionsBoundaryUsageCount'] == 1
    iam.delete_role_permissions_boundary(RoleName='rest')
    assert 'PermissionsBoundary' not in iam.get_role(RoleName='rest')['Role']
    iam.create_instance_profile(InstanceProfileName='ip', Path='/p/')
    iam.tag_instance_profile(InstanceProfileName='ip', Tags=[{'Key': 'k', 'Value': 'v'}])
    got = iam.list_instance_profiles(PathPrefix='/p/')['InstanceProfiles']
    assert [p['InstanceProfileName'] for p in got] == ['ip'] and got[0]['Tags'][0]['Key'] == 'k'
    iam.untag_instance_profile(InstanceProfileName='ip', TagKeys=['k'])
    assert 'Tags' not in iam.get_instance_profile(InstanceProfileName='ip')['InstanceProfile']
    assert iam.list_instance_profiles(PathPrefix='/other/')['InstanceProfiles'] == []


def test_users_and_groups_hold_managed_policies(iam):
    """Enough of users and groups for a policy attached to them: listed by
    ListEntitiesForPolicy (paged with the roles), blocking DeletePolicy."""
    arn = iam.create_policy(PolicyName='ug', PolicyDocument=json.dumps(DOC))['Policy']['Arn']
    mkrole(iam, 'r1')
    iam.attach_role_policy(RoleName='r1', PolicyArn=arn)
    iam.create_user(UserName='u1')
    iam.create_group(GroupName='g1')
    iam.attach_user_policy(UserName='u1', PolicyArn=arn)
    iam.attach_group_policy(GroupName='g1', PolicyArn=arn)
    e = iam.list_entities_for_policy(PolicyArn=arn)
    assert [x['RoleName'] for x in e['PolicyRoles']] == ['r1']
    assert [x['UserName'] for x in e['PolicyUsers']] == ['u1']
    assert [x['GroupName'] for x in e['PolicyGroups']] == ['g1']
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter='User')['PolicyRoles'] == []
    pages = list(iam.get_paginator('list_entities_for_policy').paginate(
        PolicyArn=arn, PaginationConfig={'PageSize': 1}))
    assert len(pages) == 3
    iam.detach_role_policy(RoleName='r1', PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        iam.delete_policy(PolicyArn=arn)
    assert err(ei)[0] == 'DeleteConflict'
    iam.detach_user_policy(UserName='u1', PolicyArn=arn)
    iam.detach_group_policy(GroupName='g1', PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        iam.detach_user_policy(UserName='u1', PolicyArn=arn)
    assert err(ei)[0] == 'NoSuchEntity'
    iam.delete_user(UserName='u1')
    iam.delete_group(GroupName='g1')


def test_get_account_authorization_details_shape_and_paging(emulator):
    emulator.reset()
    iam = emulator.client('iam')
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
             '{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    pol = iam.create_policy(PolicyName='gaad-p', PolicyDocument=doc)['Policy']['Arn']
    iam.create_policy_version(PolicyArn=pol, PolicyDocument=doc.replace('s3:*', 'sqs:*'),
                              SetAsDefault=True)
    for i in range(5):
        iam.create_role(RoleName=f'gaad-{i}', AssumeRolePolicyDocument=trust,
                        Tags=[{'Key': 'k', 'Value': str(i)}])
        iam.put_role_policy(RoleName=f'gaad-{i}', PolicyName='inline', PolicyDocument=doc)
        iam.attach_role_policy(RoleName=f'gaad-{i}', PolicyArn=pol)
    roles, pols, pages, marker = [], [], 0, None
    while True:
        kw = {'Filter': ['Role', 'LocalManagedPolicy'], 'MaxItems': 2}
        if marker:
            kw['Marker'] = marker
        r = iam.get_account_authorization_details(**kw)
        pages += 1
        assert len(r['RoleDetailList']) + len(r['Policies']) <= 2
        roles += r['RoleDetailList']
        pols += r['Policies']
        if not r['IsTruncated']:
            break
        marker = r['Marker']
    assert pages == 3
    assert sorted(x['RoleName'] for x in roles) == [f'gaad-{i}' for i in range(5)]
    r0 = next(x for x in roles if x['RoleName'] == 'gaad-0')
    assert r0['RolePolicyList'][0]['PolicyName'] == 'inline'
    assert r0['RolePolicyList'][0]['PolicyDocument']['Statement'][0]['Action'] == 's3:*'
    assert r0['AttachedManagedPolicies'] == [{'PolicyName': 'gaad-p', 'PolicyArn': pol}]
    assert r0['Tags'] == [{'Key': 'k', 'Value': '0'}]
    assert r0['AssumeRolePolicyDocument']['Statement'][0]['Action'] == 'sts:AssumeRole'
    assert [p['Arn'] for p in pols] == [pol]
    versions = {v['VersionId']: v for v in pols[0]['PolicyVersionList']}
    assert versions['v2']['IsDefaultVersion'] and not versions['v1']['IsDefaultVersion']
    assert versions['v2']['Document']['Statement'][0]['Action'] == 'sqs:*'
    assert pols[0]['AttachmentCount'] == 5
