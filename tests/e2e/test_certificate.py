"""志愿服务证明 end to end: the PDF read back with pypdf, date ranges, /verify, role refusals."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.people import service as people
from storage.models import Certificate, LedgerEntry, Request, User, Volunteer
from tests.helpers import Station

EN, ZH = "en", "zh-hans"


def pdf_text(message) -> str:
    assert message.document is not None and message.document.filename.endswith(".pdf")
    reader = PdfReader(io.BytesIO(message.document.content))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


class World:
    def __init__(self, fake, app, clock):
        self.fake, self.app, self.clock, self.st = fake, app, clock, Station(fake)
        self.requests = 0

    async def service(self, user, at: datetime, minutes: int, service_id: int = 1) -> LedgerEntry:
        """An approved service, as the request lifecycle leaves it (tested elsewhere)."""
        self.requests += 1
        async with self.app.db.tx() as s:
            req = Request(
                number=f"{at.year}-{self.requests:04d}",
                resident_id=self.res.id,
                service_id=service_id,
                team_id=1,
                description="帮忙买菜",
                area="幸福小区",
                window_start=at,
                window_end=at,
                status="approved",
                claimer_id=user.id,
                approved_minutes=minutes,
                approved_by=self.admin.id,
                approved_at=at,
                created_at=at,
                updated_at=at,
            )
            s.add(req)
            await s.flush()
            entry = LedgerEntry(
                volunteer_id=user.id,
                minutes=minutes,
                points=minutes // 6,
                kind="service",
                request_id=req.id,
                approved_by=self.admin.id,
                created_at=at,
            )
            s.add(entry)
        return entry

    async def certificate(self, user, text: str = "/certificate"):
        before = len(self.fake.bot_messages(user))
        await user.send(text)
        return await self.fake.wait_message(user, after=before)


async def make_world(fake, start_app, clock, lang, **settings) -> World:
    w = World(fake, None, clock)
    w.admin = fake.user("王站长", language_code=lang)
    w.vol = fake.user("李明", language_code=lang)
    w.vol2 = fake.user("张华", language_code=lang)
    w.res = fake.user("赵阿姨", language_code=lang)
    w.app = await start_app(admin_ids=[w.admin.id], **settings)
    for user in (w.admin, w.vol, w.vol2, w.res):
        await w.st.say(user, "/start", "/")
    async with w.app.db.tx() as s:
        for user, name, phone in ((w.vol, "李明", "13800138000"), (w.vol2, "张华", "13800138001")):
            await people.register_volunteer(
                s, await s.get(User, user.id), name=name, phone=phone, team_ids=[1], now=clock.now()
            )
    return w


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


async def certificates(app) -> list[Certificate]:
    async with app.db.read() as s:
        return list((await s.execute(select(Certificate).order_by(Certificate.id))).scalars())


async def test_chinese_certificate_pdf_and_verify(fake, start_app, clock):
    w = await make_world(fake, start_app, clock, ZH, station_name="幸福社区新时代文明实践站")
    await w.service(w.vol, utc(2026, 3, 5, 1), 120)
    await w.service(w.vol, utc(2026, 3, 31, 17), 90, service_id=2)  # 1 April in Shanghai
    wrong = await w.service(w.vol, utc(2026, 5, 1, 2), 60)
    async with w.app.db.tx() as s:  # a correction: the wrong entry reversed, and 30 minutes instead
        s.add(
            LedgerEntry(
                volunteer_id=w.vol.id,
                minutes=-60,
                points=-10,
                kind="reversal",
                reverses_id=wrong.id,
                request_id=wrong.request_id,
                approved_by=w.admin.id,
                created_at=utc(2026, 5, 2),
            )
        )
        s.add(
            LedgerEntry(
                volunteer_id=w.vol.id,
                minutes=30,
                points=5,
                kind="correction",
                request_id=wrong.request_id,
                approved_by=w.admin.id,
                created_at=utc(2026, 5, 2),
            )
        )
        s.add(LedgerEntry(volunteer_id=w.vol.id, minutes=0, points=-20, kind="redeem", created_at=utc(2026, 5, 3)))
    await w.service(w.vol2, utc(2026, 3, 6, 1), 600)  # someone else's hours are not on it

    doc = await w.certificate(w.vol)
    [cert] = await certificates(w.app)
    assert cert.number.startswith(f"ZYFW-{clock.now().year}-") and len(cert.number) == 16
    assert (cert.volunteer_id, cert.minutes, cert.entries, cert.date_from) == (w.vol.id, 240, 3, None)
    assert doc.caption == f"📄 您的志愿服务证明：共 4 小时。证明编号 {cert.number}。"
    text, pages = pdf_text(doc)
    for part in (
        "志愿服务证明",
        "李明",
        "幸福社区新时代文明实践站",
        "共计 4 小时",
        cert.number,
        "2026-03-05",
        "2026-04-01",
        "2026-05-01",
        "助老服务",
        "王站长",
        "谁组织谁记录，谁记录谁证明",
        "出具日期",
    ):
        assert part in text, part
    assert "张华" not in text and "10" not in text.split("共计")[1].split("小时")[0]

    # A coordinator verifies it; an unknown number gets a polite "not found".
    found = await w.st.say(w.admin, f"/verify {cert.number.lower()}", "确由本站出具")
    assert "志愿者：李明" in found.text and "时长：4 小时，共 3 次服务" in found.text and "截至" in found.text
    await w.st.say(w.admin, "/verify ZYFW-2026-ZZZZZZ", "本站未出具过编号为“ZYFW-2026-ZZZZZZ”的志愿服务证明。")
    await w.st.say(w.admin, "/verify 1; drop table", "本站未出具过编号为")
    # Only coordinators verify.
    await w.st.say(w.vol, f"/verify {cert.number}", "只有实践站的协调员")


async def test_date_range_and_english(fake, start_app, clock):
    w = await make_world(fake, start_app, clock, EN)
    await w.service(w.vol, utc(2025, 12, 31, 16, 30), 60)  # 2026-01-01 in Shanghai: inside
    await w.service(w.vol, utc(2026, 6, 30, 2), 90)
    await w.service(w.vol, utc(2026, 6, 30, 17), 120)  # 1 July in Shanghai: outside
    doc = await w.certificate(w.vol, "/certificate 2026-01-01 2026-06-30")
    assert "2.5 h" in doc.caption
    [cert] = await certificates(w.app)
    assert (str(cert.date_from), str(cert.date_to), cert.minutes) == ("2026-01-01", "2026-06-30", 150)
    text, _pages = pdf_text(doc)
    for part in (
        "Volunteer service certificate",
        "李明",
        "total 2.5 h",
        "2026-01-01 to 2026-06-30",
        cert.number,
        "Help for the elderly",
        "新时代文明实践站",
    ):
        assert part in text, part
    assert "2026-07-01" not in text
    found = await w.st.say(w.admin, f"/verify {cert.number}", "was issued by this station")
    assert "Period: 2026-01-01 to 2026-06-30" in found.text and "Hours: 2.5 h in 2 service(s)" in found.text


async def test_long_table_wraps_over_pages(fake, start_app, clock):
    w = await make_world(fake, start_app, clock, ZH)
    for day in range(1, 61):
        await w.service(w.vol, utc(2026, 1 + day // 28, 1 + day % 28, 2), 30)
    doc = await w.certificate(w.vol)
    text, pages = pdf_text(doc)
    assert pages >= 2 and "共计 30 小时" in text
    assert text.count("服务项目或活动") >= 2  # the table's header is repeated on the next page
    assert text.count("(#2026-") == 60


@pytest.mark.parametrize(
    "lang, no_hours, not_volunteer, bad_range",
    [
        (ZH, "还没有经审核的服务时长", "志愿服务证明只为已注册的志愿者出具", "开始日期不能晚于结束日期"),
        (EN, "no approved service hours", "issued to registered volunteers", "the first not after the second"),
    ],
)
async def test_refusals(fake, start_app, clock, lang, no_hours, not_volunteer, bad_range):
    w = await make_world(fake, start_app, clock, lang)
    await w.service(w.vol, utc(2026, 3, 5, 1), 120)
    assert no_hours in (await w.certificate(w.vol2)).text  # a volunteer with no hours: no empty PDF
    assert no_hours in (await w.certificate(w.vol, "/certificate 2026-04-01 2026-04-30")).text
    assert not_volunteer in (await w.certificate(w.res)).text
    assert bad_range in (await w.certificate(w.vol, "/certificate 2026-06-30 2026-01-01")).text
    assert bad_range in (await w.certificate(w.vol, "/certificate 2026-01-01 2026-02-01 2026-03-01")).text
    # Naming someone else gets no certificate: there is no way to ask for another's.
    refused = await w.certificate(w.vol2, f"/certificate {w.vol.id}")
    assert refused.document is None
    await w.fake.wait_idle(quiet=0.05)
    assert await certificates(w.app) == []
    assert all(m.document is None for user in (w.vol2, w.res) for m in fake.bot_messages(user))


async def test_certificate_only_in_private(fake, start_app, clock):
    w = await make_world(fake, start_app, clock, ZH)
    group = fake.group("综合志愿服务队群", members=[w.admin, w.vol])
    await w.service(w.vol, utc(2026, 3, 5, 1), 120)
    await w.st.say(w.vol, "/certificate", "请私聊我", chat=group)
    await fake.wait_idle(quiet=0.05)
    assert all(m.document is None for m in fake.bot_messages(group))
    async with w.app.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Certificate))).scalar() == 0


async def test_a_certificate_keeps_the_name_it_was_issued_to(fake, start_app, clock):
    """The PDF and /verify say the name of the day of issue; a later change of name (typed with bidi and
    zero-width characters, which are dropped) shows on the next certificate only."""
    w = await make_world(fake, start_app, clock, ZH)
    await w.service(w.vol, utc(2026, 3, 5, 1), 120)
    first_doc = await w.certificate(w.vol)
    assert "李明" in pdf_text(first_doc)[0]

    profile = await w.st.say(w.vol, "/profile", "李明")
    await w.st.tap(w.vol, profile, "✏️ 姓名")
    await fake.wait_idle(quiet=0.05)
    await w.st.say(w.vol, "\u202e李\u200b小明\u202c", "李小明")
    async with w.app.db.read() as s:
        assert (await s.get(Volunteer, w.vol.id)).name == "李小明"

    second_doc = await w.certificate(w.vol)
    assert "李小明" in pdf_text(second_doc)[0]
    first, second = await certificates(w.app)
    assert (first.volunteer_name, second.volunteer_name) == ("李明", "李小明")
    found = await w.st.say(w.admin, f"/verify {first.number}", "确由本站出具")
    assert "志愿者：李明\n" in found.text and "李小明" not in found.text
    found = await w.st.say(w.admin, f"/verify {second.number}", "确由本站出具")
    assert "志愿者：李小明\n" in found.text
