"""Shared set-up of the ledger tests: a station, volunteers, and hours put straight into the ledger."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.ledger import service as ledger
from bot.requests import service as requests
from storage.models import Request, Service, User
from tests.helpers import Station

TEAM = "综合志愿服务队"


async def station(fake, start_app, lang: str):
    admin = fake.user("王站长", language_code=lang, username="wang")
    vol = fake.user("李明", language_code=lang, username="liming")
    vol2 = fake.user("张华", language_code=lang, username="zhanghua")
    res = fake.user("赵阿姨", language_code=lang)
    group = fake.group("综合志愿服务队群", members=[admin, vol, vol2])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", TEAM if lang != "en" else "receives", chat=group)
    en = lang == "en"
    extra = dict(done="Done", prompt_name="name") if en else {}
    await st.register(vol, "李明", "13800138000", [TEAM], **extra)
    await st.register(vol2, "张华", "13800138001", [TEAM], **extra)
    fake.mark_private("13800138000", "13800138001")
    await st.say(res, "/start", "/")
    return app, st, admin, vol, vol2, res, group


async def seed_hours(app, volunteer_id: int, minutes: int, *, days_ago: int = 0, approved_by: int = 1) -> int:
    async with app.db.tx() as s:
        entry = ledger.add_service(
            s,
            volunteer_id=volunteer_id,
            minutes=minutes,
            points_per_hour=10,
            request_id=None,
            approved_by=approved_by,
            now=app.clock.now() - timedelta(days=days_ago),
        )
        await s.flush()
        return entry.id


_seq = [9000]


async def confirmed_request(app, resident_id: int, volunteer_id: int, minutes: int) -> str:
    """A request the volunteer reported done and the resident rated: the coordinators get the approve buttons."""
    now = app.clock.now()
    _seq[0] += 1
    number = f"{now.year}-{_seq[0]}"
    async with app.db.tx() as s:
        service = (await s.execute(select(Service).order_by(Service.id))).scalars().first()
        req = Request(
            number=number,
            resident_id=resident_id,
            service_id=service.id,
            team_id=service.team_id,
            description="陪同就医",
            area="幸福小区",
            window_start=now - timedelta(hours=5),
            window_end=now - timedelta(hours=3),
            status=requests.DONE,
            claimer_id=volunteer_id,
            claimed_at=now - timedelta(days=1),
            reported_minutes=minutes,
            reported_at=now,
            created_at=now - timedelta(days=1),
            updated_at=now,
        )
        s.add(req)
        await s.flush()
        await requests.confirm(
            s, app.notices.requests, request_id=req.id, user=await s.get(User, resident_id), rating=5, now=now
        )
    return number
