"""PlatformParameters: where the shared resources are, published in SSM under
`/<app>/<stage>/platform/` (topology.PLATFORM_PARAMETERS names them; the local cloud creates the
same names with its own values) for the tools and services that find the platform by name."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from tenancy.common.names import platform_parameter

from ..topology import PLATFORM_PARAMETERS
from .concern import Concern, camel
from .naming import Naming


class PlatformParameters(Concern):
    def __init__(
        self, scope: Construct, construct_id: str, *, naming: Naming, values: Mapping[str, str]
    ) -> None:
        super().__init__(scope, construct_id)
        if set(values) != set(PLATFORM_PARAMETERS):
            missing = sorted(set(PLATFORM_PARAMETERS) - set(values))
            unknown = sorted(set(values) - set(PLATFORM_PARAMETERS))
            raise ValueError(f"platform parameters: missing {missing}, unknown {unknown}")
        self.parameters: dict[str, ssm.StringParameter] = {
            name: ssm.StringParameter(
                self.stack,
                f"Platform{camel(name.replace('/', '-'))}Parameter",
                parameter_name=platform_parameter(naming.app_name, naming.stage, name),
                string_value=values[name],
                description=f"Tenancy platform: {name}",
            )
            for name in PLATFORM_PARAMETERS
        }
