"""The data model. Every table is created and changed only through migrations."""
from sampling.models.regions import Region, RegionLevel, Site
from sampling.models.rounds import Round, RoundStatus
from sampling.models.users import ApiToken, Role, User, user_sites

__all__ = [
    "ApiToken", "Region", "RegionLevel", "Role", "Round", "RoundStatus", "Site", "User", "user_sites",
]
