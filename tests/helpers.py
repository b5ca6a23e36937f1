"""Flows that tests repeat, driven through the fake Bot API exactly as people would."""

from __future__ import annotations

from tests.fakegram import FakeGroup, FakeTelegram, FakeUser


class Station:
    """A station set up through chat: an admin who is coordinator, a team group, volunteers."""

    def __init__(self, fake: FakeTelegram):
        self.fake = fake

    async def say(self, user: FakeUser, text: str, expect: str, chat: FakeGroup | None = None):
        """Send text and wait for a NEW bot message in that chat containing `expect`."""
        target = chat or user
        before = len(self.fake.bot_messages(target))
        await user.send(text, chat=chat)
        return await self.fake.wait_message(target, contains=expect, after=before)

    async def tap(self, user: FakeUser, message, button: str, expect: str | None = None, chat=None):
        """Tap a button; return the callback answer (and wait for `expect` in the chat if given)."""
        target = chat or user
        before = len(self.fake.bot_messages(target))
        query = await user.tap(message, button)
        answer = await self.fake.answer(query)
        if expect:
            await self.fake.wait_message(target, contains=expect, after=before)
        return answer

    async def report_hours(self, user: FakeUser, hours: str, expect: str = "asked the resident"):
        """The done report: the hours typed, then the photo step skipped (“Skip”); waits for `expect`."""
        prompt = await self.say(user, hours, skip_label(user))
        before = len(self.fake.bot_messages(user))
        await self.tap(user, prompt, skip_label(user))
        return await self.fake.wait_message(user, contains=expect, after=before)

    async def register(
        self,
        user: FakeUser,
        name: str,
        phone: str,
        teams: list[str],
        done: str = "完成",
        prompt_name: str = "名字",
        *,
        skills: tuple[str, ...] = (),
        approve: bool = True,
    ) -> None:
        """/volunteer through chat; then (approve=True) a coordinator or leader approves the join requests."""
        await self.say(user, "/start", "/")
        await self.say(user, "/volunteer", prompt_name)
        await user.send(name)
        await self.fake.wait_message(user, contains=phone_prompt(user))
        before = len(self.fake.bot_messages(user))
        await user.send(phone)
        ask_skills = await self.fake.wait_message(user, contains=skills_prompt(user), after=before)
        before = len(self.fake.bot_messages(user))
        for skill in skills:
            await self.fake.answer(await user.tap(ask_skills, skill))
            await self.fake.wait_idle(quiet=0.05)
        await self.fake.answer(await user.tap(ask_skills, done))
        pick = await self.fake.wait_message(user, contains=teams_prompt(user), after=before)
        for team in teams:
            await self.fake.answer(await user.tap(pick, team))
            await self.fake.wait_idle(quiet=0.05)
        await self.fake.answer(await user.tap(pick, done))
        await self.fake.wait_message(user, contains="🎉")
        if approve:
            await self.approve_joins(user, expected=len(teams))

    def join_buttons(self, user: FakeUser) -> list[tuple[FakeUser, object, str]]:
        """(approver, message, callback data) of every unanswered “approve” button of the user's join
        requests, one per team, found among the bot's private messages."""
        found: dict[str, tuple] = {}
        for chat_id, approver in self.fake.users.items():
            for message in self.fake.bot_messages(chat_id):
                for row in (message.reply_markup or {}).get("inline_keyboard", []):
                    for button in row:
                        data = button.get("callback_data", "")
                        if data.startswith("j1:ok:") and data.endswith(f":{user.id}"):
                            found.setdefault(data, (approver, message, data))
        return list(found.values())

    async def approve_joins(self, user: FakeUser, expected: int = 0) -> None:
        """Approve the user's join requests as the leader or coordinator they were sent to. `expected`: how many
        to wait for (the outbox delivers them after the commit, later than a quiet moment on a busy machine);
        fewer may come, for a team with nobody to approve."""
        if expected:
            await self.fake.pulse.wait_until(lambda: len(self.join_buttons(user)) >= expected, 20)
        await self.fake.wait_idle(quiet=0.1)
        for approver, message, data in self.join_buttons(user):
            before = len(self.fake.bot_messages(user))
            answer = await self.fake.answer(await approver.tap_data(message, data))
            if "✅" in (answer.text or ""):
                await self.fake.wait_message(user, contains="🤝", after=before)

    async def place(
        self,
        resident: FakeUser,
        service: str,
        need: str,
        area: str,
        *,
        slot: str = "14:00",
        day_index: int = 1,
        address: str | None = None,
        phone: str | None = None,
    ) -> str:
        """Place a request through the whole 点单 conversation; returns its number like '2026-0001'."""
        fake = self.fake
        await self.say(resident, "/start", "/")
        before = len(fake.bot_messages(resident))
        await resident.send("/request")
        menu = await fake.wait_message(resident, after=before)
        before = len(fake.bot_messages(resident))
        await fake.answer(await resident.tap(menu, service))
        await fake.wait_message(resident, after=before)  # the next question (the tap is answered before it)
        before = len(fake.bot_messages(resident))
        await resident.send(need)
        days = await fake.wait_message(resident, after=before)
        await fake.answer(
            await resident.tap_data(
                days, days.reply_markup["inline_keyboard"][day_index // 3][day_index % 3]["callback_data"]
            )
        )
        slots = await fake.wait_message(resident, contains="14:00", after=len(fake.bot_messages(resident)) - 1)
        before = len(fake.bot_messages(resident))
        await fake.answer(await resident.tap(slots, slot))
        await fake.wait_message(resident, after=before)  # the next question
        before = len(fake.bot_messages(resident))
        await resident.send(area)
        ask_address = await fake.wait_message(resident, after=before)
        if address:
            fake.mark_private(address)
            before = len(fake.bot_messages(resident))
            await resident.send(address)
        else:
            before = len(fake.bot_messages(resident))
            await fake.answer(await resident.tap(ask_address, skip_label(resident)))
        await fake.wait_message(resident, after=before)
        before = len(fake.bot_messages(resident))
        if phone:
            fake.mark_private(phone)
            await resident.share_contact(phone)
        else:
            await resident.send(skip_label(resident))
        summary = await fake.wait_message(resident, contains=need, after=before)
        before = len(fake.bot_messages(resident))
        await fake.answer(await resident.tap(summary, "✅"))
        placed = await fake.wait_message(resident, contains="#", after=before)
        return placed.text.split("#", 1)[1].split()[0]


async def until_summary_en(st: Station, resident: FakeUser, service: str, need: str, area: str, after_area=None):
    """An English resident's 点单 conversation up to (not including) the final “Confirm” tap.
    after_area: an async hook run while the bot asks for the address."""
    fake = st.fake
    await st.say(resident, "/start", "/")
    before = len(fake.bot_messages(resident))
    await resident.send("/request")
    menu = await fake.wait_message(resident, contains="Which service", after=before)
    await fake.answer(await resident.tap(menu, service))
    await fake.wait_idle(quiet=0.05)
    days = await st.say(resident, need, "On which day")
    before = len(fake.bot_messages(resident))
    tomorrow = days.reply_markup["inline_keyboard"][0][1]["callback_data"]
    await fake.answer(await resident.tap_data(days, tomorrow))
    slots = await fake.wait_message(resident, contains="At what time", after=before)
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(slots, "14:00"))
    await fake.wait_message(resident, contains="compound", after=before)
    ask_address = await st.say(resident, area, "exact address")
    if after_area is not None:
        await after_area()
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(ask_address, "Skip"))
    await fake.wait_message(resident, contains="phone", after=before)
    return await st.say(resident, "Skip", "Please check your request")


def is_en(user: FakeUser) -> bool:
    return (user.language_code or "").startswith("en")


def phone_prompt(user: FakeUser) -> str:
    return "phone" if is_en(user) else "电话"


def skills_prompt(user: FakeUser) -> str:
    return "skills" if is_en(user) else "技能"


def teams_prompt(user: FakeUser) -> str:
    return "teams" if is_en(user) else "服务队"


def skip_label(user: FakeUser) -> str:
    return "Skip" if is_en(user) else "跳过"
