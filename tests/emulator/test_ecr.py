"""ECR (repositories, images, lifecycle policies) through botocore and the aws CLI."""
import hashlib
import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = '123456789012'
MANIFEST = json.dumps({'schemaVersion': 2, 'mediaType':
                       'application/vnd.docker.distribution.manifest.v2+json',
                       'config': {'digest': 'sha256:' + 'a' * 64, 'size': 1}, 'layers': []})
POLICY = json.dumps({'rules': [
    {'rulePriority': 1, 'description': 'keep 10 release images',
     'selection': {'tagStatus': 'tagged', 'tagPrefixList': ['v'],
                   'countType': 'imageCountMoreThan', 'countNumber': 10},
     'action': {'type': 'expire'}},
    {'rulePriority': 2, 'selection': {'tagStatus': 'any', 'countType': 'sinceImagePushed',
                                      'countUnit': 'days', 'countNumber': 30},
     'action': {'type': 'expire'}}]})


@pytest.fixture
def ecr(emulator):
    return emulator.client('ecr')


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as e:
        fn(*a, **kw)
    return e.value.response['Error']['Code'], e.value.response['Error']['Message']


def test_repository_life_cycle(ecr, emulator):
    out = ecr.create_repository(repositoryName='team/app', tags=[{'Key': 'env', 'Value': 'dev'}],
                                imageScanningConfiguration={'scanOnPush': True})['repository']
    arn = f'arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app'
    assert out['repositoryArn'] == arn and out['registryId'] == ACCOUNT
    assert out['repositoryUri'] == f'{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/app'
    assert out['imageTagMutability'] == 'MUTABLE'
    assert out['imageScanningConfiguration'] == {'scanOnPush': True}
    assert out['encryptionConfiguration'] == {'encryptionType': 'AES256'}
    assert err(ecr.create_repository,
               repositoryName='team/app')[0] == 'RepositoryAlreadyExistsException'
    assert err(ecr.create_repository, repositoryName='Bad_Name')[0] == 'InvalidParameterException'
    d = ecr.describe_repositories(repositoryNames=['team/app'])['repositories']
    assert [r['repositoryArn'] for r in d] == [arn]
    code, msg = err(ecr.describe_repositories, repositoryNames=['nope'])
    assert code == 'RepositoryNotFoundException' and 'nope' in msg
    assert ecr.list_tags_for_resource(resourceArn=arn)['tags'] == [{'Key': 'env', 'Value': 'dev'}]
    ecr.tag_resource(resourceArn=arn, tags=[{'Key': 'team', 'Value': 'x'}])
    ecr.untag_resource(resourceArn=arn, tagKeys=['env'])
    assert ecr.list_tags_for_resource(resourceArn=arn)['tags'] == [{'Key': 'team', 'Value': 'x'}]
    assert err(ecr.tag_resource, resourceArn=arn,
               tags=[{'Key': 'aws:x', 'Value': 'y'}])[0] == 'InvalidTagParameterException'
    out = ecr.put_image_tag_mutability(repositoryName='team/app', imageTagMutability='IMMUTABLE')
    assert out['imageTagMutability'] == 'IMMUTABLE'
    out = ecr.put_image_scanning_configuration(repositoryName='team/app',
                                               imageScanningConfiguration={'scanOnPush': False})
    assert out['imageScanningConfiguration'] == {'scanOnPush': False}
    d = ecr.describe_repositories()['repositories'][0]
    assert d['imageTagMutability'] == 'IMMUTABLE'
    assert d['imageScanningConfiguration'] == {'scanOnPush': False}
    assert [x['id'] for x in emulator.control('inventory') if x['service'] == 'ecr'] == [arn]
    assert ecr.delete_repository(repositoryName='team/app')['repository']['repositoryArn'] == arn
    assert err(ecr.delete_repository, repositoryName='team/app')[0] == 'RepositoryNotFoundException'
    assert [x for x in emulator.control('inventory') if x['service'] == 'ecr'] == []


def test_images_block_delete_unless_force(ecr):
    ecr.create_repository(repositoryName='app')
    img = ecr.put_image(repositoryName='app', imageManifest=MANIFEST, imageTag='v1')['image']
    digest = 'sha256:' + hashlib.sha256(MANIFEST.encode()).hexdigest()
    assert img['imageId'] == {'imageDigest': digest, 'imageTag': 'v1'}
    assert err(ecr.put_image, repositoryName='app', imageManifest=MANIFEST,
               imageTag='v1')[0] == 'ImageAlreadyExistsException'
    ecr.put_image(repositoryName='app', imageManifest=MANIFEST, imageTag='latest')
    ids = ecr.list_images(repositoryName='app')['imageIds']
    assert sorted(i['imageTag'] for i in ids) == ['latest', 'v1']
    det = ecr.describe_images(repositoryName='app')['imageDetails']
    assert len(det) == 1 and sorted(det[0]['imageTags']) == ['latest', 'v1']
    code, msg = err(ecr.delete_repository, repositoryName='app')
    assert code == 'RepositoryNotEmptyException'
    ecr.delete_repository(repositoryName='app', force=True)
    assert ecr.describe_repositories()['repositories'] == []


def test_immutable_tags(ecr):
    ecr.create_repository(repositoryName='imm', imageTagMutability='IMMUTABLE')
    ecr.put_image(repositoryName='imm', imageManifest=MANIFEST, imageTag='v1')
    other = MANIFEST.replace('"layers": []', '"layers": [{"size": 2}]')
    assert err(ecr.put_image, repositoryName='imm', imageManifest=other,
               imageTag='v1')[0] == 'ImageTagAlreadyExistsException'
    res = ecr.batch_delete_image(repositoryName='imm', imageIds=[{'imageTag': 'v1'},
                                                                 {'imageTag': 'nope'}])
    assert [i['imageTag'] for i in res['imageIds']] == ['v1']
    assert res['failures'][0]['failureCode'] == 'ImageNotFound'
    ecr.delete_repository(repositoryName='imm')


def test_lifecycle_policy(ecr):
    ecr.create_repository(repositoryName='lp')
    assert err(ecr.get_lifecycle_policy,
               repositoryName='lp')[0] == 'LifecyclePolicyNotFoundException'
    out = ecr.put_lifecycle_policy(repositoryName='lp', lifecyclePolicyText=POLICY)
    assert out['repositoryName'] == 'lp' and out['registryId'] == ACCOUNT
    got = ecr.get_lifecycle_policy(repositoryName='lp')
    assert json.loads(got['lifecyclePolicyText']) == json.loads(POLICY)
    # ECR normalises: rules come back ordered by rulePriority, whatever order was put
    doc = json.loads(POLICY)
    doc['rules'].reverse()
    ecr.put_lifecycle_policy(repositoryName='lp', lifecyclePolicyText=json.dumps(doc, indent=2))
    got = json.loads(ecr.get_lifecycle_policy(repositoryName='lp')['lifecyclePolicyText'])
    assert [r['rulePriority'] for r in got['rules']] == [1, 2]
    assert got == json.loads(POLICY)
    ecr.delete_lifecycle_policy(repositoryName='lp')
    assert err(ecr.delete_lifecycle_policy,
               repositoryName='lp')[0] == 'LifecyclePolicyNotFoundException'
    assert err(ecr.put_lifecycle_policy, repositoryName='nope',
               lifecyclePolicyText=POLICY)[0] == 'RepositoryNotFoundException'


def rule(prio, **sel):
    base = {'tagStatus': 'untagged', 'countType': 'imageCountMoreThan', 'countNumber': 1}
    base.update(sel)
    return {'rulePriority': prio, 'selection': base, 'action': {'type': 'expire'}}


@pytest.mark.parametrize('doc', [
    'not json at all, but long enough to pass the length limit of the model ' * 2,
    {'rules': []},
    {'rules': [rule(1), rule(1)]},                                   # duplicate priority
    {'rules': [rule(1, tagStatus='tagged')]},                        # tagged needs a prefix list
    {'rules': [rule(1, tagStatus='any'), rule(2)]},                  # any must be last
    {'rules': [rule(1, countType='sinceImagePushed')]},              # needs countUnit days
    {'rules': [rule(1, countNumber=0)]},
    {'rules': [dict(rule(1), action={'type': 'delete'})]},
    {'rules': [rule(1, tagStatus='untagged', tagPrefixList=['v'])]},
])
def test_lifecycle_policy_validation(ecr, doc):
    ecr.create_repository(repositoryName='val')
    text = doc if isinstance(doc, str) else json.dumps(doc)
    text = text + ' ' * max(0, 100 - len(text))
    assert err(ecr.put_lifecycle_policy, repositoryName='val',
               lifecyclePolicyText=text)[0] == 'InvalidParameterException'


def test_repository_policy_and_pagination(ecr):
    for i in range(5):
        ecr.create_repository(repositoryName=f'r{i}')
    page = ecr.describe_repositories(maxResults=2)
    assert len(page['repositories']) == 2 and page['nextToken']
    names = [r['repositoryName'] for p in ecr.get_paginator('describe_repositories').paginate(
        PaginationConfig={'PageSize': 2}) for r in p['repositories']]
    assert names == [f'r{i}' for i in range(5)]
    assert err(ecr.get_repository_policy,
               repositoryName='r0')[0] == 'RepositoryPolicyNotFoundException'
    pol = json.dumps({'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Principal': '*', 'Action': 'ecr:BatchGetImage'}]})
    ecr.set_repository_policy(repositoryName='r0', policyText=pol)
    assert json.loads(ecr.get_repository_policy(repositoryName='r0')['policyText']) == json.loads(pol)
    ecr.delete_repository_policy(repositoryName='r0')
    assert err(ecr.delete_repository_policy,
               repositoryName='r0')[0] == 'RepositoryPolicyNotFoundException'
    assert err(ecr.set_repository_policy, repositoryName='r0',
               policyText='{"no": "statement"}')[0] == 'InvalidParameterException'


def test_aws_cli_sample(aws):
    out = aws('ecr', 'create-repository', '--repository-name', 'cli',
              '--tags', 'Key=a,Value=b').json
    assert out['repository']['repositoryName'] == 'cli'
    p = aws('ecr', 'describe-repositories', '--repository-names', 'nope', check=False)
    assert p.returncode != 0 and 'RepositoryNotFoundException' in p.stderr
