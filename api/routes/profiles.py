"""A profile's current address and its status (the banner), and the email change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from adapters.addresses import normalize_address
from api.deps import Operator, Svc, Viewer
from api.schemas import EmailChange, Profile
from api.services import Services
from domain.errors import ProfileNotFound

router = APIRouter(prefix="/v1", tags=["profiles"])
ProfileId = Annotated[str, Path(min_length=1, max_length=200)]


def _profile(services: Services, profile_id: str) -> dict[str, Any]:
    profile = services.reader.profile(profile_id)
    if profile is None:
        raise ProfileNotFound(f"no profile {profile_id!r} has been recorded")
    return {**profile, "status": services.reader.status(profile["address"])}


@router.get("/profiles/{profile_id:path}", response_model=Profile)
def get_profile(profile_id: ProfileId, services: Svc, _: Viewer) -> dict[str, Any]:
    return _profile(services, profile_id)


@router.put("/profiles/{profile_id:path}/email", response_model=Profile)
def change_email(profile_id: ProfileId, body: EmailChange, services: Svc,
                 who: Operator) -> dict[str, Any]:
    new_address = normalize_address(body.email)
    current = services.reader.profile(profile_id)
    services.ledger.change_email(
        profile_id, old_address=current["address"] if current else None,
        new_address=new_address, actor=who.name, occurred_at=datetime.now(UTC), source="api",
    )
    return _profile(services, profile_id)
