"""The views the application API answers with, by the name its routes document them under."""

from __future__ import annotations

from pydantic import BaseModel

from tenancy.application.agents.models import Agent
from tenancy.application.analytics.models import CardResult, DashboardRender
from tenancy.application.audit.models import AuditEntry
from tenancy.application.cards.models import Card
from tenancy.application.configuration.models import Config
from tenancy.application.dashboards.models import Dashboard, DashboardSummary, FilterView
from tenancy.application.datasets.models import Dataset, DatasetWithUpload, Preview, Upload
from tenancy.application.executions.models import Execution
from tenancy.application.groups.models import Group, Membership
from tenancy.application.secrets.models import Secret
from tenancy.application.sharing.models import Share, SharedDashboard
from tenancy.application.users.models import Me, User, UserDetail
from tenancy.contracts.usage import UsageReport

VIEWS: dict[str, type[BaseModel]] = {
    "User": User,
    "Me": Me,
    "UserDetail": UserDetail,
    "Agent": Agent,
    "Execution": Execution,
    "AuditEntry": AuditEntry,
    "UsageReport": UsageReport,
    "Config": Config,
    "Secret": Secret,
    "Group": Group,
    "Membership": Membership,
    "Dashboard": Dashboard,
    "DashboardSummary": DashboardSummary,
    "FilterView": FilterView,
    "Share": Share,
    "SharedDashboard": SharedDashboard,
    "Card": Card,
    "CardResult": CardResult,
    "DashboardRender": DashboardRender,
    "Dataset": Dataset,
    "DatasetWithUpload": DatasetWithUpload,
    "Upload": Upload,
    "Preview": Preview,
}
