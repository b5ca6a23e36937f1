"""A known week of station work (Mon 2026-11-16 – Sun 2026-11-22, Shanghai) with every figure of its report
worked out by hand, for the report tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.models import Activity, LedgerEntry, Request, RequestEvent, Service, Team, User, Volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
COORD, R1, R2, PROXY = 501, 511, 512, 513
V1, V2, V3, V4 = 521, 522, 523, 524
VOLUNTEER_NAMES = {V1: "李明", V2: "张华", V3: "王芳", V4: "陈刚"}
PHONES = ("13800138001", "13800138002", "13800138003", "13800138004")


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


@dataclass
class Ids:
    team1: int = 0
    team2: int = 0
    escort: int = 0
    cleaning: int = 0
    activity: int = 0


# What the week's report must say (see the comments in seed()).
WEEK = dict(
    placed=9,
    claimed=5,
    done=4,
    cancelled=1,
    rejected=1,
    waiting=2,
    in_review=1,
    median_claim_minutes=30,
    minutes=450,
    points=75,
    entries=8,
    residents_served=4,
    services_delivered=4,
    volunteers_active=3,
    ratings={1: 0, 2: 0, 3: 1, 4: 1, 5: 1},
)


async def seed(db: Database) -> Ids:
    ids = Ids()
    made = at(1, month=10)
    async with db.tx() as s:
        t1 = Team(name="助老服务队", archived=False, created_at=made)
        t2 = Team(name="环保服务队", archived=False, created_at=made)
        s.add_all([t1, t2])
        await s.flush()
        escort = Service(name_zh="陪诊", name_en="Clinic escort", team_id=t1.id, active=True, position=90)
        cleaning = Service(name_zh="清扫", name_en="Cleaning", team_id=t2.id, active=True, position=91)
        s.add_all([escort, cleaning])
        for uid, name in (
            (COORD, "周站长"),
            (R1, "赵阿姨"),
            (R2, "钱大爷"),
            (PROXY, "孙帮办"),
            *VOLUNTEER_NAMES.items(),
        ):
            s.add(
                User(
                    id=uid,
                    full_name=name,
                    locale="zh_Hans",
                    is_admin=False,
                    is_coordinator=uid == COORD,
                    blocked_bot=False,
                    created_at=made,
                )
            )
        await s.flush()
        for (uid, name), phone in zip(VOLUNTEER_NAMES.items(), PHONES, strict=True):
            s.add(Volunteer(user_id=uid, name=name, phone=phone, registered_at=made))
        activity = Activity(
            number="A-0001",
            title="重阳敬老",
            place="活动室",
            starts_at=at(21, 9),
            ends_at=at(21, 12),
            capacity=10,
            team_id=t1.id,
            created_by=COORD,
            status="finished",
            checkin_code="1234",
            created_at=made,
            updated_at=made,
        )
        s.add(activity)
        await s.flush()
        ids = Ids(t1.id, t2.id, escort.id, cleaning.id, activity.id)

        n = 0

        def req(
            resident,
            service,
            status,
            created,
            *,
            claimer=None,
            claimed=None,
            reported=None,
            confirmed=None,
            rating=None,
            updated=None,
            proxy_for=None,
            team=None,
        ):
            nonlocal n
            n += 1
            r = Request(
                number=f"2026-{n:04d}",
                resident_id=resident,
                service_id=service.id,
                team_id=team or service.team_id,
                description="需求",
                area="幸福小区",
                address="3栋402",
                phone="13912345678",
                window_start=created + timedelta(days=1),
                window_end=created + timedelta(days=1, hours=2),
                status=status,
                claimer_id=claimer,
                claimed_at=claimed,
                reported_minutes=60 if reported else None,
                reported_at=reported,
                rating=rating,
                confirmed_at=confirmed,
                created_at=created,
                updated_at=updated or created,
                proxy_for=proxy_for,
            )
            s.add(r)
            return r

        # placed in the week: A C D E F G H J L (9); claimed in it: A B G H L (5), waits 30 60 10 20 60 → median 30
        a = req(
            R1,
            escort,
            "approved",
            at(16, 9),
            claimer=V1,
            claimed=at(16, 9, 30),
            reported=at(17, 10),
            confirmed=at(17, 12),
            rating=5,
        )
        b = req(
            R2,
            cleaning,
            "approved",
            at(15, 23, 30),
            claimer=V2,
            claimed=at(16, 0, 30),
            reported=at(16, 10),
            confirmed=at(17, 9),
            rating=4,
        )
        req(R1, escort, "rejected", at(17, 10), updated=at(17, 11))
        req(R2, cleaning, "open", at(18, 8))  # still waiting
        req(R1, escort, "review", at(18, 9))  # still in review
        req(R2, cleaning, "cancelled", at(19, 9), updated=at(19, 12))
        g = req(
            PROXY,
            escort,
            "done",
            at(19, 10),
            claimer=V1,
            claimed=at(19, 12, 10),
            reported=at(21, 11),
            proxy_for="孙奶奶",
        )  # dispatched after review at 12:00: 10 minutes
        req(
            PROXY,
            escort,
            "confirmed",
            at(20, 9),
            claimer=V3,
            claimed=at(20, 9, 20),
            reported=at(20, 15),
            confirmed=at(21, 10),
            rating=3,
            proxy_for="周爷爷",
        )
        i = req(
            R2,
            cleaning,
            "approved",
            at(10, 9),
            claimer=V3,
            claimed=at(10, 10),
            reported=at(11, 10),
            confirmed=at(12, 9),
            rating=1,
        )  # the week before; approved in this week
        req(R1, escort, "open", at(22, 23, 59))  # the last minute of the week
        req(R1, escort, "open", at(23, 0))  # the next week
        m = req(
            R1,
            escort,
            "approved",
            at(20, 9, month=10),
            claimer=V4,
            claimed=at(20, 10, month=10),
            reported=at(21, 10, month=10),
            confirmed=at(21, 11, month=10),
            rating=5,
        )
        ell = req(R2, escort, "claimed", at(16, 8), claimer=V3, claimed=at(16, 10))  # released at 9:00: 60 min
        await s.flush()
        for r, kind, when in (
            (g, "dispatched", at(19, 12)),
            (ell, "claimed", at(16, 8, 10)),
            (ell, "released", at(16, 9)),
        ):
            s.add(RequestEvent(request_id=r.id, actor_id=COORD, kind=kind, created_at=when))

        def entry(
            volunteer, minutes, points, kind, when, *, request=None, activity_id=None, reverses=None, reason=None
        ):
            e = LedgerEntry(
                volunteer_id=volunteer,
                minutes=minutes,
                points=points,
                kind=kind,
                request_id=request.id if request else None,
                activity_id=activity_id,
                reverses_id=reverses.id if reverses else None,
                reason=reason,
                approved_by=COORD,
                created_at=when,
            )
            s.add(e)
            return e

        # In the week (8 hour lines): 120 + 60 - 60 + 90 + 30 + 180 + 60 - 30 = 450 min, 75 points.
        entry(V1, 120, 20, "service", at(18, 10), request=a)
        b_entry = entry(V2, 60, 10, "service", at(17, 10), request=b)
        await s.flush()
        entry(V2, -60, -10, "reversal", at(19, 10), reverses=b_entry, reason="实际1.5小时")  # request via original
        entry(V2, 90, 15, "correction", at(19, 10), request=b, reason="实际1.5小时")
        entry(V3, 30, 5, "service", at(16, 10), request=i)
        entry(V1, 180, 30, "service", at(21, 12), activity_id=activity.id)
        entry(V3, 60, 10, "service", at(21, 12), activity_id=activity.id)
        m_entry = entry(V4, 30, 5, "service", at(22, 10, month=10), request=m)  # last month
        await s.flush()
        entry(V4, -30, -5, "reversal", at(20, 16), reverses=m_entry, reason="重复记录")  # undone this week
        entry(V1, 0, -50, "redeem", at(20, 17))  # the shop's points: not service hours
        entry(V2, 45, 8, "service", at(15, 23, 59))  # the Sunday before
        entry(V2, 45, 8, "service", at(23, 0))  # the Monday after
    return ids
