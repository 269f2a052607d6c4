"""Storage: the shared tenant bucket (pooled tenants under tenants/<tenantId>/) and its access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .cfn import cfn
from .concern import Concern

# S3 sends the bucket's events to EventBridge (the account's default bus), where the
# ObjectCreatedTrigger rules pick theirs (the dataset uploads). Set on the CloudFormation property,
# not with Bucket(event_bridge_enabled=True), which goes through a custom-resource Lambda.
EVENT_BRIDGE_PROPERTY = "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"


def send_events_to_event_bridge(bucket: s3.Bucket) -> None:
    cfn(bucket).add_property_override(EVENT_BRIDGE_PROPERTY, True)


class Storage(Concern):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs_bucket = s3.Bucket(
            self.stack,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access log targets cannot use SSE-KMS
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Pooled tenants share this bucket under tenants/<tenantId>/ (no explicit name: global namespace).
        self.tenant_bucket = s3.Bucket(
            self.stack,
            "PoolBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="tenant-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        send_events_to_event_bridge(self.tenant_bucket)
