"""The data model. Every table is created and changed only through migrations."""
from sampling.models.regions import Region, RegionLevel, Site
from sampling.models.residents import IdType, Resident, ResidentSource
from sampling.models.rounds import Round, RoundStatus
from sampling.models.sampling import ClientOperation, Sample, Tube, TubeStatus
from sampling.models.users import ApiToken, Role, User, user_sites

__all__ = [
    "ApiToken", "ClientOperation", "IdType", "Region", "RegionLevel", "Resident", "ResidentSource", "Role", "Round",
    "RoundStatus",
    "Sample", "Site", "Tube", "TubeStatus", "User", "user_sites",
]
