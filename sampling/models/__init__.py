"""The data model. Every table is created and changed only through migrations."""
from sampling.models.audit import AuditEvent
from sampling.models.field import ClientOperation, Round, RoundStatus, Sample, Tube, TubeStatus
from sampling.models.lab import RESULTS, Box, BoxStatus, TubeAction, TubeEvent
from sampling.models.regions import Region, RegionLevel, Site
from sampling.models.residents import CodeSheet, CodeSheetCard, IdType, Resident, ResidentSource
from sampling.models.rosters import (
    Collision,
    CollisionCategory,
    CollisionRow,
    CollisionSource,
    Roster,
    RosterEntry,
    RosterStatus,
    TaskRun,
)
from sampling.models.stats import StatsCommunity, StatsPerson, StatsSamplerHour, StatsSite, StatsSiteHour
from sampling.models.users import ApiToken, Role, User, UserSession, user_sites

__all__ = [
    "ApiToken", "AuditEvent", "Box", "BoxStatus", "ClientOperation", "CodeSheet", "CodeSheetCard", "Collision",
    "CollisionCategory", "CollisionRow", "CollisionSource", "IdType", "Region", "RegionLevel", "Resident",
    "ResidentSource", "RESULTS", "Role", "Roster", "RosterEntry", "RosterStatus", "Round", "RoundStatus", "Sample",
    "Site", "StatsCommunity", "StatsPerson", "StatsSamplerHour", "StatsSite", "StatsSiteHour", "TaskRun", "Tube",
    "TubeAction", "TubeEvent", "TubeStatus", "User", "UserSession", "user_sites",
]
