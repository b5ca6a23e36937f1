"""/report … CODE (issue 14): a 所's coordinator asks for his 所's 月小结 (a line per station, the chart, the workbook
with its lines), and is refused politely for a station outside his 所."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import update

from bot.org import service as org
from storage.models import Request, Team, User
from tests import report_data as data
from tests.chat import assert_error


async def test_report_of_a_node_in_scope_and_refusal_out_of_it(fake, start_app):
    admin = fake.user("Admin", language_code="zh-hans")
    chief = fake.user("周所长", language_code="zh-hans")
    app = await start_app(admin_ids=[admin.id])
    await data.seed(app.db)
    before = len(fake.bot_messages(chief))
    await chief.send("/start")
    await fake.wait_message(chief, after=before)
    now = app.clock.now()
    async with app.db.tx() as s:
        boss = await s.get(User, admin.id) or User(id=admin.id, full_name="Admin", is_admin=True)
        await org.add_node(s, boss, "所", "城关所", "S1", "ZX", now)
        await org.move_node(s, boss, "Z01", "S1")
        await org.add_node(s, boss, "站", "三站", "Z03", "S1", now)
        await org.add_node(s, boss, "站", "九站", "Z09", "ZX", now)
        await s.execute(update(Team).values(node_id=2))
        await s.execute(update(Request).values(station_id=2))
        row = await s.get(User, chief.id)
        row.is_coordinator = True
        await org.appoint(s, row, "S1")

    before = len(fake.bot_messages(chief))
    await chief.send("/report month 2026-11 S1")
    workbook = await fake.wait_message(chief, after=before)
    while workbook.document is None or "photo" in workbook.raw:
        workbook = await fake.wait_message(chief, after=workbook)
    fresh = fake.bot_messages(chief)[before:]
    text = "\n".join(m.text for m in fresh if m.text)
    assert "月小结 2026-11" in text and "城关所：所辖服务队" in text
    assert "点单 12 · 接单 6 · 结单 5" in text and "与上期相比：" in text
    assert "各站情况：" in text and "新时代文明实践站：点单 12" in text and "三站：点单 0" in text
    assert "领单（任务单）：0" in text
    charts = [m for m in fresh if "photo" in m.raw]
    assert len(charts) == 1
    assert Image.open(io.BytesIO(charts[0].document.content)).format == "PNG"
    book = load_workbook(io.BytesIO(workbook.document.content), read_only=True)
    assert book.sheetnames == ["汇总", "台账明细", "分级汇总"]
    assert "13800138001" not in text  # no phone in the report

    before = len(fake.bot_messages(chief))
    await chief.send("/report week 2026-11-18 Z09")  # a station of the 中心, not of his 所
    reply = await fake.wait_message(chief, after=before)
    assert_error(app, reply.text, "not_your_station", chief)
    await fake.wait_idle(quiet=0.1)
    assert all(m.document is None for m in fake.bot_messages(chief)[before:])
