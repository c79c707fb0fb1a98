"""The profile page (the owner's banner and the email change) and the senders pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.addresses import normalize_address
from api.console.chart import Line, bar_chart
from api.console.deps import PostUser, User, render, require
from api.console.session import ConsoleError, ConsoleUser
from api.console.wording import percent
from api.deps import Svc
from api.services import Services
from domain.errors import LedgerError
from domain.sender import SenderPolicy

router = APIRouter(prefix="/console", include_in_schema=False)
ProfileId = Annotated[str, Path(min_length=1, max_length=200)]
THRESHOLDS = SenderPolicy()


@router.get("/profiles/{profile_id:path}", response_class=HTMLResponse)
def profile_page(request: Request, profile_id: ProfileId, user: User, services: Svc,
                 done: str = "") -> Response:
    return _profile_page(request, services, user, profile_id, done=done)


def _profile_page(request: Request, services: Services, user: ConsoleUser, profile_id: str,
                  done: str = "", error: str = "", status_code: int = 200) -> Response:
    profile = services.reader.profile(profile_id)
    if profile is None:
        raise ConsoleError(404, "No such profile",
                           f"No profile “{profile_id}” has been recorded. Profiles appear when "
                           "a send names them or their email is set.")
    status = services.reader.status(profile["address"])
    return render(request, "profile.html", user, status_code, profile=profile, status=status,
                  done=done, error=error, quote=quote)


@router.post("/profiles/{profile_id:path}/email")
def change_email(request: Request, profile_id: ProfileId, user: PostUser, services: Svc,
                 email: Annotated[str, Form(max_length=320)] = "") -> Response:
    require(user, "operator", "Changing a profile's email")
    current = services.reader.profile(profile_id)
    if current is None:
        raise ConsoleError(404, "No such profile", f"No profile “{profile_id}” has been recorded.")
    try:
        services.ledger.change_email(
            profile_id, old_address=current["address"], new_address=normalize_address(email),
            actor=user.name, occurred_at=datetime.now(UTC), source="console")
    except LedgerError as refused:
        return _profile_page(request, services, user, profile_id, error=refused.message,
                             status_code=422)
    return RedirectResponse(f"/console/profiles/{quote(profile_id, safe='')}?done=email", 303)


@router.get("/senders", response_class=HTMLResponse)
def senders_page(request: Request, user: User, services: Svc) -> Response:
    now = datetime.now(UTC)
    reports = [services.senders.report(name, now.date(), now)
               for name in services.senders.names()]
    return render(request, "senders.html", user, reports=reports, t=THRESHOLDS, quote=quote,
                  percent=percent)


@router.get("/senders/{sender:path}", response_class=HTMLResponse)
def sender_page(request: Request, sender: Annotated[str, Path(max_length=200)], user: User,
                services: Svc, done: str = "") -> Response:
    return _sender_page(request, services, user, sender, done=done)


def _sender_page(request: Request, services: Services, user: ConsoleUser, sender: str,
                 done: str = "") -> Response:
    if sender not in services.senders.names():
        raise ConsoleError(404, "No such sender", f"No sender “{sender}” has been seen.")
    now = datetime.now(UTC)
    today = now.date()
    report = services.senders.report(sender, today, now)
    return render(request, "sender.html", user, r=report, t=THRESHOLDS, percent=percent,
                  charts=_charts(report["daily"], today), done=done, quote=quote)


def _charts(daily: list[dict[str, Any]], today: date) -> list[tuple[str, str]]:
    by_day = {row["day"]: row for row in daily}
    days = [date.fromordinal(today.toordinal() - 29 + i).isoformat() for i in range(30)]
    rows = [by_day.get(d, {}) for d in days]
    sent = [float(r.get("sent", 0)) for r in rows]
    bounce = [r.get("hard_bounces", 0) / r["sent"] if r.get("sent") else 0.0 for r in rows]
    warn, pause = percent(THRESHOLDS.bounce_warn), percent(THRESHOLDS.bounce_pause)
    rate_title = "Hard-bounce rate per day, last 30 days"
    return [
        ("Messages sent per day, last 30 days",
         bar_chart("Messages sent per day, last 30 days", days, sent)),
        (f"{rate_title}; dashed lines: warn at {warn} (amber), pause at {pause} (red)",
         bar_chart(rate_title, days, bounce,
                   [Line(THRESHOLDS.bounce_warn, f"warn {warn}", "warn"),
                    Line(THRESHOLDS.bounce_pause, f"pause {pause}", "pause")], unit="%")),
        ("Sender-side rejections per day (refusals of the sender, not of the recipients)",
         bar_chart("Sender-side rejections per day, last 30 days", days,
                   [float(r.get("sender_rejections", 0)) for r in rows])),
    ]


@router.post("/senders/{sender:path}/resume")
def resume_sender(sender: Annotated[str, Path(max_length=200)], user: PostUser,
                  services: Svc, reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    require(user, "admin", "Resuming a sender")
    if sender not in services.senders.names():
        raise ConsoleError(404, "No such sender", f"No sender “{sender}” has been seen.")
    services.ledger.resume_sender(sender, actor=user.name, reason=reason,
                                  occurred_at=datetime.now(UTC), source="console")
    return RedirectResponse(f"/console/senders/{quote(sender, safe='')}?done=resume", 303)
