"""IAM OpenID Connect providers through botocore."""
import botocore.exceptions
import pytest

URL = 'https://token.actions.githubusercontent.com'


def test_oidc_provider(emulator):
    emulator.reset()
    iam = emulator.client('iam')
    arn = iam.create_open_id_connect_provider(
        Url=URL, ClientIDList=['sts.amazonaws.com'], ThumbprintList=['a' * 40],
        Tags=[{'Key': 'k', 'Value': 'v'}])['OpenIDConnectProviderArn']
    assert arn == 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_open_id_connect_provider(Url=URL, ClientIDList=['x'], ThumbprintList=['b' * 40])
    assert e.value.response['Error']['Code'] == 'EntityAlreadyExists'
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got['Url'] == 'token.actions.githubusercontent.com'
    assert got['ClientIDList'] == ['sts.amazonaws.com'] and got['Tags'][0]['Key'] == 'k'
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID='c2')
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=['k'])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got['ClientIDList'] == ['sts.amazonaws.com', 'c2'] and 'Tags' not in got
    assert [p['Arn'] for p in iam.list_open_id_connect_providers()
            ['OpenIDConnectProviderList']] == [arn]
    assert ('oidc-provider', arn) in [(x['type'], x['id']) for x in emulator.control('inventory')]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert e.value.response['Error']['Code'] == 'NoSuchEntity'
