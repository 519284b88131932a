"""The manager's database schema: every table registers itself on `metadata`.

The schema at the head of `alembic/versions/` must equal these tables (a test checks it with
Alembic's autogenerate comparison).
"""

from .agent import AgentStatus, agents
from .base import NAMING_CONVENTION, metadata
from .domain import domains
from .endpoint import EndpointLifecycle, RouteStatus, endpoints, routings
from .group import ProjectType, association_groups_users, groups
from .image import ContainerRegistryType, ImageType, container_registries, images
from .kernel import KernelStatus, kernels
from .keypair import keypairs
from .resource_policy import (
    DefaultForUnspecified,
    keypair_resource_policies,
    project_resource_policies,
    user_resource_policies,
)
from .scaling_group import (
    scaling_groups,
    sgroups_for_domains,
    sgroups_for_groups,
    sgroups_for_keypairs,
)
from .session import SessionResult, SessionStatus, SessionTypes, session_dependencies, sessions
from .user import UserRole, UserStatus, users
from .vfolder import (
    VFolderOperationStatus,
    VFolderOwnershipType,
    VFolderPermission,
    VFolderUsageMode,
    vfolder_invitations,
    vfolder_permissions,
    vfolders,
)

__all__ = [
    "NAMING_CONVENTION",
    "AgentStatus",
    "ContainerRegistryType",
    "DefaultForUnspecified",
    "EndpointLifecycle",
    "ImageType",
    "KernelStatus",
    "ProjectType",
    "RouteStatus",
    "SessionResult",
    "SessionStatus",
    "SessionTypes",
    "UserRole",
    "UserStatus",
    "VFolderOperationStatus",
    "VFolderOwnershipType",
    "VFolderPermission",
    "VFolderUsageMode",
    "agents",
    "association_groups_users",
    "container_registries",
    "domains",
    "endpoints",
    "groups",
    "images",
    "kernels",
    "keypair_resource_policies",
    "keypairs",
    "metadata",
    "project_resource_policies",
    "routings",
    "scaling_groups",
    "session_dependencies",
    "sessions",
    "sgroups_for_domains",
    "sgroups_for_groups",
    "sgroups_for_keypairs",
    "user_resource_policies",
    "users",
    "vfolder_invitations",
    "vfolder_permissions",
    "vfolders",
]
