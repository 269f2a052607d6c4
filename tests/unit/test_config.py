import pytest
from pydantic import ValidationError

from tenancy.common.config import Settings


def test_resource_names_default_to_the_naming_convention() -> None:
    settings = Settings.from_environ({"APP_NAME": "acme", "STAGE": "prod"})
    assert settings.control_table_name == "acme-prod-control"
    assert settings.app_table_name == "acme-prod-app"
    assert settings.event_bus_name == "acme-prod-bus"
    assert settings.control_plane_source == "acme.control-plane"
    assert settings.application_plane_source == "acme.application-plane"


def test_explicit_environment_wins() -> None:
    settings = Settings.from_environ({"CONTROL_TABLE_NAME": "t", "PROVISIONER_POLL_SECONDS": "2.5"})
    assert settings.control_table_name == "t"
    assert settings.provisioner_poll_seconds == 2.5


def test_invalid_app_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="app_name"):
        Settings.from_environ({"APP_NAME": "Bad Name"})
