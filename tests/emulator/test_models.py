"""The emulator serves the vendored, current service models (models/, see
models/VERSION), not Debian's January 2023 botocore models (issue 9 item 7)."""
import json
import os

import botocore.session
import pytest

from emu import protocols

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, 'models')


def current_client(emulator, service):
    """A botocore client that also knows the current models (client-side
    validation of this botocore would refuse the newer members)."""
    s = botocore.session.get_session()
    s.get_component('data_loader').search_paths.insert(0, MODELS)
    return s.create_client(service, region_name='us-east-1', endpoint_url=emulator.url,
                           aws_access_key_id='test', aws_secret_access_key='test')


def test_models_are_vendored_with_their_source_and_licence():
    with open(os.path.join(MODELS, 'VERSION')) as f:
        assert f.read().startswith('source: ')
    assert os.path.exists(os.path.join(MODELS, 'LICENSE.txt'))
    for svc in ('ec2', 'iam', 'sts', 'logs', 'secretsmanager', 'ecs', 'ecr', 's3'):
        sm = protocols.service_model(svc)
        assert os.path.isdir(os.path.join(MODELS, svc, sm.api_version))


def test_create_service_with_deployment_alarms(emulator):
    # CDK synthesizes DeploymentConfiguration.Alarms (ECS added it in Nov 2022,
    # after Debian's model): the 2023 model answered Unrecognized field "alarms"
    ecs = current_client(emulator, 'ecs')
    ecs.create_cluster(clusterName='c')
    ecs.register_task_definition(family='f', containerDefinitions=[
        {'name': 'a', 'image': 'busybox', 'memory': 128}])
    out = ecs.create_service(
        cluster='c', serviceName='s', taskDefinition='f', desiredCount=0,
        deploymentConfiguration={
            'maximumPercent': 200, 'minimumHealthyPercent': 50,
            'deploymentCircuitBreaker': {'enable': True, 'rollback': True},
            'alarms': {'alarmNames': ['high-cpu'], 'enable': True, 'rollback': False}})
    assert out['service']['serviceName'] == 's'
    # a misspelt member is still refused
    with pytest.raises(ecs.exceptions.ClientError) as e:
        emulator_raw_json(emulator, 'CreateService', {
            'cluster': 'c', 'serviceName': 's2', 'taskDefinition': 'f', 'desiredCount': 0,
            'deploymentConfiguration': {'alarmz': {}}})
    assert 'SerializationException' in str(e.value)


def emulator_raw_json(emulator, op, body):
    status, _, out = emulator.raw(
        'ecs', path='/', body=json.dumps(body).encode(),
        headers={'X-Amz-Target': f'AmazonEC2ContainerServiceV20141113.{op}',
                 'Content-Type': 'application/x-amz-json-1.1'})
    if status != 200:
        import botocore.exceptions
        raise botocore.exceptions.ClientError(
            {'Error': {'Code': json.loads(out).get('__type', '?'), 'Message': out.decode()}},
            op)
    return json.loads(out)
