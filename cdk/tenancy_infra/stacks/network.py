"""IsolatedNetwork: where the functions of `Network.ISOLATED` run (the card executor), so that code a
tenant's user wrote can reach nothing at all.

- A VPC with isolated subnets only (two AZs): no NAT gateway, no internet gateway, no VPC endpoint.
  Nothing in it has a route out of it: not the internet, not the AWS APIs (no endpoint, no NAT).
- A security group without a single rule: no ingress, and no egress (CDK writes its placeholder
  rule, ICMP type 252 code 86 to 255.255.255.255/32, which matches no traffic, so that
  CloudFormation does not add its default allow-all egress). The function's ENIs cannot even reach
  each other or the VPC's DNS resolver through it.
- Flow logs of rejected traffic (one month): a card trying to connect anywhere shows up there.
- The VPC's default security group is not restricted (`restrict_default_security_group=False`):
  restricting it needs a custom-resource Lambda in the stack, and nothing uses that group.

The function's role gets only what Lambda needs to attach the function's ENIs to these subnets
(ec2 network-interface actions, which Lambda calls with the role) and denies them to the function's
own code (`lambda:SourceFunctionArn`): see Functions._isolate.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .concern import Concern
from .naming import Naming

FLOW_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class IsolatedNetwork(Concern):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self.stack,
            "IsolatedVpc",
            vpc_name=naming.resource("isolated"),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            restrict_default_security_group=False,
        )
        self.flow_log_group = logs.LogGroup(
            self.stack,
            "IsolatedVpcFlowLogs",
            retention=FLOW_LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "RejectedTraffic",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.security_group = ec2.SecurityGroup(
            self.stack,
            "NoEgressSecurityGroup",
            vpc=self.vpc,
            description="No ingress, no egress: the card executor reaches nothing",
            allow_all_outbound=False,
            allow_all_ipv6_outbound=False,
        )
