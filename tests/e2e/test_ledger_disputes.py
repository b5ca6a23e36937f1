"""/ledger and /dispute through the fake Bot API: reject path, access rules and forged buttons."""

from __future__ import annotations

from sqlalchemy import func, select, update

from storage.models import Dispute, LedgerEntry, TeamMember
from tests.ledger_setup import seed_hours, station


async def count(app, model) -> int:
    async with app.db.read() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def test_dispute_rejected_and_forged_buttons_in_english(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "en")
    mine = await seed_hours(app, vol.id, 180, approved_by=admin.id)
    theirs = await seed_hours(app, vol2.id, 120, approved_by=admin.id)

    # Another volunteer forges a pick of Li Ming's entry: refused, nothing opened.
    own = await st.say(vol2, "/dispute", "Which entry")
    assert [b for b in own.buttons if f"№{theirs}" in b] and not [b for b in own.buttons if f"№{mine}" in b]
    answer = await st.tap(vol2, own, f"№{theirs}")  # his own is fine …
    forged = await fake.answer(await vol2.tap_data(own, f"d1:pick:{mine}:0"))  # … another's is not
    assert "not one of your ledger entries" in forged.text
    await st.say(vol2, "/cancel", "")

    pick = await st.say(vol, "/dispute", "Which entry")
    await st.tap(vol, pick, f"№{mine}", expect="what is wrong")
    await st.say(vol, "It was 4 hours, not 3", "gone to the coordinators")
    decide = await fake.wait_message(admin, contains="It was 4 hours")
    dispute_id = int(decide.text.split("Dispute ")[1].split()[0])

    # The volunteer forges the coordinator's buttons on his own dispute: nothing changes.
    for action in ("fix", "no"):
        answer = await fake.answer(await vol.tap_data(pick, f"d1:{action}:{dispute_id}:0"))
        assert "Only a coordinator" in answer.text
    # A second dispute about the same entry while one is open is refused politely.
    again = await st.say(vol, "/dispute", "Which entry")
    await st.tap(vol, again, f"№{mine}", expect="what is wrong")
    await st.say(vol, "Still wrong", "already an open dispute")
    await st.say(vol, "/cancel", "")

    await st.tap(admin, decide, "Reject", expect="why is it rejected")
    await st.say(admin, "The sign-in sheet shows 3 hours", "rejected")
    told = await fake.wait_message(vol, contains="not accepted")
    assert "The sign-in sheet shows 3 hours" in told.text
    # A stale tap on the decided dispute changes nothing.
    late = await st.tap(admin, decide, "Correct")
    assert "already been decided" in late.text
    async with app.db.read() as s:
        disputes = (await s.execute(select(Dispute))).scalars().all()
        kinds = [e.kind for e in (await s.execute(select(LedgerEntry))).scalars()]
    assert [(d.volunteer_id, d.status, d.resolution) for d in disputes] == [
        (vol.id, "rejected", "The sign-in sheet shows 3 hours")
    ]
    assert kinds == ["service", "service"]


async def test_ledger_access_in_english(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "en")
    for i in range(12):
        await seed_hours(app, vol.id, 30 * (i + 1), approved_by=admin.id)
    first = await st.say(vol, "/ledger", "Ledger of")
    assert "39 h" in first.text and "page 1" in first.text and "+6 h" in first.text and "+0.5 h" not in first.text
    await st.tap(vol, first, "Older")
    await fake.wait_idle()
    older = fake.bot_messages(vol)[-1]
    assert "page 2" in older.text and "+0.5 h" in older.text

    # Nobody else's ledger for a volunteer; any for a coordinator; members' for a team leader.
    await st.say(vol2, "/ledger @liming", "only see your own ledger")
    forged = await fake.answer(await vol2.tap_data(fake.bot_messages(vol2)[-1], f"d1:page:{vol.id}:0"))
    assert "only see your own ledger" in forged.text
    await st.say(res, "/ledger @liming", "only see your own ledger")
    seen = await st.say(admin, "/ledger @liming", "Ledger of")
    assert "李明" in seen.text and "13800138000" not in seen.text
    async with app.db.tx() as s:
        await s.execute(update(TeamMember).where(TeamMember.user_id == vol2.id).values(is_leader=True))
    await st.say(vol2, "/ledger @liming", "Ledger of 李明")
    await st.say(admin, "/ledger @nobody", "do not know this user")
    await st.say(admin, f"/ledger {res.id}", "not a registered volunteer")
    assert await count(app, Dispute) == 0


async def test_ledger_and_dispute_in_chinese_with_nothing_to_dispute(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "zh-hans")
    await st.say(vol, "/ledger", "暂无记录")
    await st.say(vol, "/dispute", "还没有可提出异议")
    await st.say(res, "/dispute", "志愿者")
    await st.say(vol, "/dispute", "私聊", chat=group)
    entry = await seed_hours(app, vol.id, 60, approved_by=admin.id)
    pick = await st.say(vol, "/dispute", "哪条记录有误")
    forged = await fake.answer(await vol.tap_data(pick, "d1:pick:99999999:0"))
    assert forged.text == "这不是您的台账记录。"
    await st.tap(vol, pick, f"№{entry}", expect="哪里有误")
    await st.say(vol, "x" * 501, "太长")
    await st.say(vol, "服务日期记错了", "已提交给协调员")
    decide = await fake.wait_message(admin, contains="服务日期记错了")
    await st.tap(admin, decide, "不予受理", expect="驳回的理由")
    await st.say(admin, "日期无误", "已驳回")
    told = await fake.wait_message(vol, contains="未被采纳")
    assert "日期无误" in told.text
