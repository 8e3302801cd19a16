import pytest

from salt_autoscale_gate.policy import check_cert_url, check_message
from salt_autoscale_gate.reasons import Rejected


def envelope(region, url):
    return {"TopicArn": "arn:aws:sns:%s:123456789012:asg" % region, "SigningCertURL": url, "Type": "Notification"}


@pytest.mark.parametrize("region, url", [
    ("us-east-1", "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"),
    ("cn-north-1", "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"),
    ("us-gov-west-1", "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem"),
])
def test_each_region_s_certificate_url_in_its_own_partition_passes(region, url):
    assert check_cert_url(envelope(region, url)) == url


@pytest.mark.parametrize("region, url", [
    # amazonaws.com.cn serves the China regions only, and they are served from nowhere else
    ("us-east-1", "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"),
    ("cn-north-1", "https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-abc.pem"),
])
def test_a_certificate_url_outside_its_region_s_partition_is_refused(region, url):
    with pytest.raises(Rejected) as caught:
        check_cert_url(envelope(region, url))
    assert caught.value.reason == "cert_url_invalid"


def test_a_subscribe_url_outside_its_region_s_partition_is_refused():
    class Settings(object):
        groups = {}
    message = dict(envelope("us-east-1", ""), Type="SubscriptionConfirmation",
                   SubscribeURL="https://sns.us-east-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=x")
    with pytest.raises(Rejected) as caught:
        check_message(message, Settings(), None)
    assert caught.value.reason == "subscribe_url_invalid"
