"""Tenant users: the one Cognito user pool (from topology.USER_POOL) and its app client.

Users are created only by the platform (AdminCreateUser, Username = a generated userId, attributes
email, email_verified, custom:tenantId, custom:role) and sign in with their email (an alias of the
username). `custom:tenantId` is immutable; neither custom attribute, nor the email, is writable
through the app client, so a user cannot move themselves to another tenant or raise their role
with their own access token (UpdateUserAttributes): only the platform's admin APIs change them.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from ..topology import UserPoolSpec
from .cfn import cfn
from .concern import Concern
from .nag import acknowledge

PASSWORD_MIN_LENGTH = 12
PASSWORD_HISTORY_SIZE = 5
TEMPORARY_PASSWORD_VALIDITY = Duration.days(3)
CUSTOM_ATTRIBUTE_MAX_LENGTH = 64  # tenant ids are at most 64 characters (silo.TENANT_ID_PATTERN)
ID_TOKEN_VALIDITY = Duration.hours(1)
ACCESS_TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.days(1)
AUTH_SESSION_VALIDITY = Duration.minutes(3)


class Identity(Concern):
    """The user pool (`user_pool`), its app client (`client`) and its risk configuration."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: UserPoolSpec, pool_name: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = _user_pool(self.stack, spec, pool_name)
        self.client = _app_client(self.user_pool, spec, pool_name)
        self.risk_configuration = _risk_configuration(self.stack, self.user_pool)


def _user_pool(scope: Construct, spec: UserPoolSpec, pool_name: str) -> cognito.UserPool:
    user_pool = cognito.UserPool(
        scope,
        "UserPool",
        user_pool_name=pool_name,
        # Username = the generated userId; users sign in with their (verified) email as an alias.
        sign_in_aliases=cognito.SignInAliases(username=True, email=True),
        sign_in_case_sensitive=False,
        self_sign_up_enabled=False,  # tenants' admins (and onboarding) create users
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        keep_original=cognito.KeepOriginalAttrs(email=True),  # an email change counts once verified
        standard_attributes=cognito.StandardAttributes(
            email=cognito.StandardAttribute(required=True, mutable=True)
        ),
        custom_attributes={
            name: cognito.StringAttribute(min_len=1, max_len=CUSTOM_ATTRIBUTE_MAX_LENGTH, mutable=mutable)
            for name, mutable in spec.custom_attributes
        },
        password_policy=cognito.PasswordPolicy(
            min_length=PASSWORD_MIN_LENGTH,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            password_history_size=PASSWORD_HISTORY_SIZE,
            temp_password_validity=TEMPORARY_PASSWORD_VALIDITY,
        ),
        mfa=cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False, email=False),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        # Plus feature plan: threat protection (adaptive authentication, compromised credentials)
        # enforced, configured by the risk configuration below.
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        cfn(user_pool),
        "AwsSolutions-COG2",
        "MFA is OPTIONAL with TOTP: tenant users are created by their tenant's admin "
        "(AdminCreateUser) and must be able to sign in before they enrol a second factor; enforced "
        "threat protection requires MFA on high-risk sign-ins and blocks compromised credentials.",
    )
    return user_pool


def _app_client(user_pool: cognito.UserPool, spec: UserPoolSpec, pool_name: str) -> cognito.UserPoolClient:
    custom = [f"custom:{name}" for name, _ in spec.custom_attributes]
    return user_pool.add_client(
        "AppClient",
        user_pool_client_name=f"{pool_name}-app",
        generate_secret=False,  # a public client (browser / CLI) cannot keep a secret
        auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
        disable_o_auth=True,  # no hosted UI, no implicit grant, no placeholder callback URLs
        id_token_validity=ID_TOKEN_VALIDITY,
        access_token_validity=ACCESS_TOKEN_VALIDITY,
        refresh_token_validity=REFRESH_TOKEN_VALIDITY,
        auth_session_validity=AUTH_SESSION_VALIDITY,
        enable_token_revocation=True,
        prevent_user_existence_errors=True,
        # The ID token carries what the authorizer needs: the tenant and the role.
        read_attributes=cognito.ClientAttributes()
        .with_standard_attributes(email=True, email_verified=True, locale=True, timezone=True)
        .with_custom_attributes(*custom),
        # Users may change only their display preferences themselves; tenant, role and email are
        # changed by the platform (admin APIs), which keeps the app's USER#/EMAIL# items in step.
        write_attributes=cognito.ClientAttributes().with_standard_attributes(locale=True, timezone=True),
    )


def _risk_configuration(
    scope: Construct, user_pool: cognito.UserPool
) -> cognito.CfnUserPoolRiskConfigurationAttachment:
    """Adaptive authentication and compromised-credentials detection, for every app client."""
    return cognito.CfnUserPoolRiskConfigurationAttachment(
        scope,
        "UserPoolRiskConfiguration",
        user_pool_id=user_pool.user_pool_id,
        client_id="ALL",
        account_takeover_risk_configuration=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverRiskConfigurationTypeProperty(
            actions=cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionsTypeProperty(
                low_action=_takeover_action("NO_ACTION"),
                medium_action=_takeover_action("MFA_IF_CONFIGURED"),
                high_action=_takeover_action("MFA_REQUIRED"),
            )
        ),
        compromised_credentials_risk_configuration=cognito.CfnUserPoolRiskConfigurationAttachment.CompromisedCredentialsRiskConfigurationTypeProperty(
            actions=cognito.CfnUserPoolRiskConfigurationAttachment.CompromisedCredentialsActionsTypeProperty(
                event_action="BLOCK"
            ),
            event_filter=["SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"],
        ),
    )


def _takeover_action(
    action: str,
) -> cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty:
    # No notification e-mails: they need an SES identity this stack does not own.
    return cognito.CfnUserPoolRiskConfigurationAttachment.AccountTakeoverActionTypeProperty(
        event_action=action, notify=False
    )
