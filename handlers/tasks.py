"""Task orders (任务单) in chat: /task issues one step by step (bot/ui/wizard.py); the stations answer with 领单 (then
publish its activity with the /activity steps, from the day on) or 无法承接 (the reason in the next message) and
汇报 step by step (what was done, people served, up to three photos); the issuer confirms or sends it back with a
reason; /tasks lists the tasks with their progress, one task's stations, and its workbook. All in private chat."""

from __future__ import annotations

import asyncio
from datetime import date

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.calendar import service as calendar
from bot.core import dates
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people import service as people
from bot.requests import media
from bot.tasks import service as tasks
from bot.tasks import texts as tt
from bot.tasks.keyboards import IssueCb, ReportCb, TaskCb, list_keyboard, view_keyboard
from bot.tasks.notices import TaskNotices
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from bot.ui.wizard import Button, Hold, Step, Summary, Turn, Wizard
from handlers.activities import publish as activity_publish
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="tasks")
router.message.filter(F.chat.type == "private")

ALL = "all"
REPORT_STEP = "report"  # the media step name of a report's photos (bot/requests/media.py items)


class Reason(StatesGroup):
    decline = State()  # 无法承接: why
    back = State()  # 退回: why


def _notices(deps: dict) -> TaskNotices:
    return TaskNotices(deps["notices"].outbox)


# issuing: /task ----------------------------------------------------------------------------------------------


async def _theme_title(turn: Turn) -> str:
    async with turn.db.read() as s:
        return (await calendar.theme(s, turn.today().month, turn.user.locale)).title


async def _ask_theme(turn: Turn):
    return (
        _("Its theme? Tap this month's theme, or “No theme”, or type another."),
        inline(
            [
                [(await _theme_title(turn), IssueCb(action="theme", value="month"))],
                [(_("No theme"), IssueCb(action="theme", value="none"))],
            ]
        ),
    )


async def _theme_tapped(turn: Turn, value: str):
    if value not in ("month", "none"):
        raise DomainError("stale")
    return {"theme": await _theme_title(turn) if value == "month" else ""}


async def _scope(turn: Turn) -> tuple[org.Scope, org.Tree]:
    async with turn.db.read() as s:
        return await tasks.require_issuer(s, turn.user)


async def _ask_nodes(turn: Turn):
    scope, tree = await _scope(turn)
    rows = [[(_("All stations in my scope"), IssueCb(action="nodes", value=ALL))]]
    if scope.everything:
        rows += [
            [(_("All stations of {name}").format(name=n.name), IssueCb(action="nodes", value=n.code))]
            for n in tree.kids(tree.root.id if tree.root else None, org.INSTITUTE)
        ]
    return (
        _("Which stations does it go to? Tap a button, or type station codes such as Z01 Z02 (/org shows the codes)."),
        inline(rows),
    )


async def _nodes(turn: Turn, value: str):
    scope, tree = await _scope(turn)
    return {"nodes": tasks.pick_nodes(scope, tree, value)}


async def _nodes_tapped(turn: Turn, value: str):
    return await _nodes(turn, value)


async def _nodes_typed(turn: Turn, message: Message):
    return await _nodes(turn, message.text or "")


async def _accept_by(turn: Turn, message: Message):
    day = dates.parse_date(message.text, turn.today())
    tasks.check_accept_by(day, turn.today())
    data = await turn.state.get_data()
    if data.get("finish_by"):
        tasks.check_dates(day, date.fromisoformat(data["finish_by"]), turn.today())
    return {"accept_by": day.isoformat()}


async def _finish_by(turn: Turn, message: Message):
    day = dates.parse_date(message.text, turn.today())
    data = await turn.state.get_data()
    tasks.check_dates(date.fromisoformat(data["accept_by"]), day, turn.today())
    return {"finish_by": day.isoformat()}


ISSUE_STEPS = [
    Step(
        "title",
        lambda turn: (
            _("📋 New task order. What is its title (at most {limit} characters)? /cancel leaves.").format(
                limit=tasks.LIMITS["title"]
            ),
            None,
        ),
        label=__("Title"),
        typed=lambda turn, message: {"title": tasks.text(message.text, "title")},
    ),
    Step(
        "theme",
        _ask_theme,
        label=__("Theme"),
        typed=lambda turn, message: {"theme": tasks.text(message.text, "theme")},
        buttons={"theme": Button(_theme_tapped, tidy=True)},
    ),
    Step(
        "expected",
        lambda turn: (_("What is expected of the stations? Please describe it in a few sentences."), None),
        label=__("What is expected"),
        typed=lambda turn, message: {"expected": tasks.text(message.text, "expected")},
    ),
    Step(
        "nodes",
        _ask_nodes,
        label=__("Stations"),
        typed=_nodes_typed,
        buttons={"nodes": Button(_nodes_tapped, tidy=True)},
    ),
    Step(
        "accept_by",
        lambda turn: (_("By which day must the stations accept it? Type a day such as 12-10."), None),
        label=__("Accept by"),
        typed=_accept_by,
    ),
    Step(
        "finish_by",
        lambda turn: (_("By which day must they finish and report? Type a day such as 12-20."), None),
        label=__("Finish by"),
        typed=_finish_by,
    ),
    Step(
        "hours",
        lambda turn: (
            _("How many hours may each volunteer get for it? Type a number such as 2, or tap “Not set”."),
            inline([[(_("Not set"), IssueCb(action="hours", value="none"))]]),
        ),
        label=__("Hours"),
        typed=lambda turn, message: {"hours": tasks.hours(message.text)},
        buttons={"hours": Button(lambda turn, value: {"hours": None}, tidy=True)},
    ),
]


def _draft(data: dict) -> tasks.Draft:
    return tasks.Draft(
        title=data["title"],
        theme=data.get("theme") or "",
        expected=data["expected"],
        nodes=list(data["nodes"]),
        accept_by=date.fromisoformat(data["accept_by"]),
        finish_by=date.fromisoformat(data["finish_by"]),
        max_minutes=data.get("hours"),
    )


async def _issue_summary(turn: Turn, data: dict) -> str:
    draft = _draft(data)
    async with turn.db.read() as s:
        tree = await org.load_tree(s)
    codes = [tree.nodes[n].code for n in draft.nodes if n in tree.nodes]
    shown = texts.enumerate_items(codes[:10]) + (" …" if len(codes) > 10 else "")
    lines = [
        _("Please check the task order:"),
        _("Title: {title}").format(title=draft.title),
        _("Theme: {theme}").format(theme=draft.theme or "—"),
        _("What is expected: {expected}").format(expected=draft.expected),
        _("Stations ({count}): {codes}").format(count=len(codes), codes=shown),
        _("Accept by: {day}").format(day=texts.fmt_date(draft.accept_by)),
        _("Finish and report by: {day}").format(day=texts.fmt_date(draft.finish_by)),
        _("Hours each volunteer may get: {hours}").format(hours=texts.hours(draft.max_minutes))
        if draft.max_minutes
        else _("Hours each volunteer may get: as approved"),
    ]
    return "\n".join(lines)


async def _issue(turn: Turn, data: dict) -> str:
    async with turn.db.tx() as s:
        task = await tasks.issue(
            s, _notices(turn.deps), actor=turn.user, draft=_draft(data), now=turn.now(), today=turn.today()
        )
    return _("Task order {number} issued.").format(number=task.number)


ISSUE = Wizard(
    "Task",
    IssueCb,
    ISSUE_STEPS,
    summary=Summary(
        _issue_summary,
        _issue,
        confirm_label=__("✅ Issue"),
        expected=__("Please tap “Issue”, “Edit” or “Cancel” above, or send /cancel."),
    ),
)


@router.message(Command("task"))
async def begin(message: Message, state: FSMContext, **deps) -> None:
    turn = Turn(message, state, deps)
    await state.clear()
    await _scope(turn)
    await ISSUE.ask(turn)


# the station's report: 汇报 -------------------------------------------------------------------------------------


def _photos_markup():
    return inline([[(_("✅ Done"), ReportCb(action="photos", value="done"))]])


async def _photo(turn: Turn, message: Message):
    data = await turn.state.get_data()
    photos = list(data.get("photos") or [])
    item = media.of_message(message, REPORT_STEP)
    if item is None:
        raise DomainError("stale")
    if len(photos) >= tasks.MAX_PHOTOS:
        raise DomainError("task_photos_full")
    photos.append(item)
    if len(photos) >= tasks.MAX_PHOTOS:
        return {"photos": photos}
    await turn.state.update_data(photos=photos)
    return Hold(_("Photo {count} received. Send another, or tap “Done”.").format(count=len(photos)), _photos_markup())


async def _ask_photos(turn: Turn):
    """Asked again from the summary, the photos start afresh."""
    await turn.state.update_data(photos=[])
    return (
        _("Please send up to 3 photos of it, then tap “Done” (or tap it now if there are none)."),
        _photos_markup(),
    )


REPORT_STEPS = [
    Step(
        "what",
        lambda turn: (_("📝 Report back. What was done? Please describe it in a few sentences. /cancel leaves."), None),
        label=__("What was done"),
        typed=lambda turn, message: {"what": tasks.text(message.text, "report")},
    ),
    Step(
        "served",
        lambda turn: (_("How many people were served (受众人次)? Please send a number."), None),
        label=__("People served"),
        typed=lambda turn, message: {"served": tasks.served(message.text)},
    ),
    Step(
        "photos",
        _ask_photos,
        label=__("Photos"),
        typed=_photo,
        typed_filter=F.photo,
        buttons={"photos": Button(lambda turn, value: {}, tidy=True)},
    ),
]


async def _report_summary(turn: Turn, data: dict) -> str:
    async with turn.db.read() as s:
        task, tn = await tasks.require_working(s, turn.user, int(data["tn"]))
        volunteers, minutes = await tasks.activity_figures(s, tn, task.max_minutes)
    return "\n".join(
        [
            _("Please check your report on task order {number} “{title}”:").format(
                number=task.number, title=task.title
            ),
            _("What was done: {text}").format(text=data["what"]),
            _("People served: {count}").format(count=data["served"]),
            _("Volunteers: {count}, {hours} hours in all").format(count=volunteers, hours=texts.hours(minutes)),
            _("Photos: {count}").format(count=len(data.get("photos") or [])),
        ]
    )


async def _report(turn: Turn, data: dict) -> str:
    async with turn.db.tx() as s:
        task, _tn = await tasks.report(
            s,
            _notices(turn.deps),
            actor=turn.user,
            tn_id=int(data["tn"]),
            what=data["what"],
            people=int(data["served"]),
            media=media.dumps(list(data.get("photos") or [])),
            now=turn.now(),
        )
    return _("Your report on task order {number} is sent.").format(number=task.number)


REPORT = Wizard(
    "TaskReport",
    ReportCb,
    REPORT_STEPS,
    summary=Summary(
        _report_summary,
        _report,
        confirm_label=__("✅ Send"),
        expected=__("Please tap “Send”, “Edit” or “Cancel” above, or send /cancel."),
    ),
)


# the buttons -------------------------------------------------------------------------------------------------


async def _start_activity(turn: Turn, tn_id: int) -> None:
    """The /activity steps from the day on, with the task's title and theme; publishing links it to the task."""
    async with turn.db.read() as s:
        task, _tn = await tasks.require_working(s, turn.user, tn_id)
    await turn.state.clear()
    await turn.state.update_data(title=task.title, theme=task.theme or task.title, task_node=tn_id)
    await turn.message.answer(
        _(
            "Now its activity, for volunteers to sign up: “{title}”. /cancel leaves; “Publish its activity” in "
            "/tasks comes back to it."
        ).format(title=task.title)
    )
    await activity_publish.WIZARD.ask(turn, "day")


@router.callback_query(TaskCb.filter(F.action == "ok"))
async def accept(query: CallbackQuery, callback_data: TaskCb, state: FSMContext, **deps) -> None:
    async with deps["db"].tx() as s:
        task, _tn = await tasks.accept(
            s, _notices(deps), actor=deps["user"], tn_id=callback_data.id, now=deps["clock"].now()
        )
    await query.answer(_("Task order {number} accepted.").format(number=task.number))
    await editable(query).edit_reply_markup(reply_markup=None)
    await _start_activity(Turn(origin(query), state, deps), callback_data.id)


@router.callback_query(TaskCb.filter(F.action == "act"))
async def activity(query: CallbackQuery, callback_data: TaskCb, state: FSMContext, **deps) -> None:
    turn = Turn(origin(query), state, deps)
    async with turn.db.read() as s:
        _task, tn = await tasks.require_working(s, turn.user, callback_data.id)
        if tn.activity_id is not None:
            raise DomainError("task_wrong_state")
    await query.answer()
    await _start_activity(turn, callback_data.id)


@router.callback_query(TaskCb.filter(F.action == "no"))
async def decline_asked(
    query: CallbackQuery, callback_data: TaskCb, state: FSMContext, db: Database, user: User
) -> None:
    async with db.read() as s:
        _task, tn = await tasks.node(s, callback_data.id)
        await tasks.require_station(s, user, tn)
        if tn.status != tasks.ISSUED:
            raise DomainError("task_wrong_state")
    await state.clear()
    await state.set_state(Reason.decline)
    await state.update_data(tn=tn.id)
    await query.answer()
    await origin(query).answer(_("Please tell me in one message why your station cannot take it. /cancel leaves."))


@router.callback_query(TaskCb.filter(F.action == "back"))
async def back_asked(query: CallbackQuery, callback_data: TaskCb, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        task, tn = await tasks.node(s, callback_data.id)
        await tasks.require_reviewer(s, user, task)
        if tn.status != tasks.REPORTED:
            raise DomainError("task_wrong_state")
    await state.clear()
    await state.set_state(Reason.back)
    await state.update_data(tn=tn.id)
    await query.answer()
    await origin(query).answer(_("Please tell me in one message why the report goes back. /cancel leaves."))


@router.message(Reason.decline, F.text)
async def decline(message: Message, state: FSMContext, **deps) -> None:
    data = await state.get_data()
    async with deps["db"].tx() as s:
        task, _tn = await tasks.decline(
            s, _notices(deps), actor=deps["user"], tn_id=int(data["tn"]), reason=message.text, now=deps["clock"].now()
        )
    await state.clear()
    await message.answer(
        _("Noted: your station cannot take task order {number}. The issuer is told.").format(number=task.number)
    )


@router.message(Reason.back, F.text)
async def send_back(message: Message, state: FSMContext, **deps) -> None:
    data = await state.get_data()
    async with deps["db"].tx() as s:
        task, _tn = await tasks.review(
            s,
            _notices(deps),
            actor=deps["user"],
            tn_id=int(data["tn"]),
            ok=False,
            reason=message.text,
            now=deps["clock"].now(),
        )
    await state.clear()
    await message.answer(_("The report on task order {number} is sent back.").format(number=task.number))


@router.callback_query(TaskCb.filter(F.action == "fin"))
async def confirm(query: CallbackQuery, callback_data: TaskCb, **deps) -> None:
    async with deps["db"].tx() as s:
        task, _tn = await tasks.review(
            s, _notices(deps), actor=deps["user"], tn_id=callback_data.id, ok=True, reason=None, now=deps["clock"].now()
        )
    await query.answer(_("Confirmed: it counts as finished."))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(TaskCb.filter(F.action == "rep"))
async def report_begin(query: CallbackQuery, callback_data: TaskCb, state: FSMContext, **deps) -> None:
    turn = Turn(origin(query), state, deps)
    async with turn.db.read() as s:
        await tasks.require_working(s, turn.user, callback_data.id)
    await state.clear()
    await state.update_data(tn=callback_data.id)
    await query.answer()
    await REPORT.ask(turn)


# /tasks ------------------------------------------------------------------------------------------------------


async def _listing(db: Database, user: User, today: date, page: int):
    people.require_coordinator(user)
    async with db.read() as s:
        scope = await org.scope_of(s, user)
        items, pages = await tasks.progress(s, scope, today, page)
    if not items:
        return _("No task orders yet."), None
    page = min(max(page, 0), pages - 1)
    lines = [_("📋 Task orders (page {page}/{pages}):").format(page=page + 1, pages=pages)]
    lines += [tt.line(item) for item in items]
    lines.append(_("Tap one to see each station."))
    return "\n".join(lines), list_keyboard(items, page, pages)


def _today(deps: dict) -> date:
    return deps["clock"].now().astimezone(deps["settings"].tz).date()


@router.message(Command("tasks"), flags=PRIVATE_VIEW)
async def listing(message: Message, **deps) -> None:
    text, markup = await _listing(deps["db"], deps["user"], _today(deps), 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(TaskCb.filter(F.action == "page"), flags=PRIVATE_VIEW)
async def page(query: CallbackQuery, callback_data: TaskCb, **deps) -> None:
    text, markup = await _listing(deps["db"], deps["user"], _today(deps), callback_data.id)
    await query.answer()
    await editable(query).edit_text(text, reply_markup=markup)


@router.callback_query(TaskCb.filter(F.action == "view"), flags=PRIVATE_VIEW)
async def show(query: CallbackQuery, callback_data: TaskCb, **deps) -> None:
    user: User = deps["user"]
    async with deps["db"].read() as s:
        seen = await tasks.view(s, user, callback_data.id)
        mine = await tasks.my_node(s, user, seen.task.id)
    await query.answer()
    for part in texts.chunks(tt.view(seen, _today(deps))):
        await origin(query).answer(part)
    await origin(query).answer(_("What next?"), reply_markup=view_keyboard(seen.task.id, mine))


@router.callback_query(TaskCb.filter(F.action == "xlsx"), flags=PRIVATE_VIEW)
async def workbook(query: CallbackQuery, callback_data: TaskCb, **deps) -> None:
    from bot.reports import xlsx

    async with deps["db"].read() as s:
        seen = await tasks.view(s, deps["user"], callback_data.id)
    rows = tt.sheet_rows(seen, _today(deps))
    content = await asyncio.to_thread(xlsx.sheet_bytes, seen.task.number, rows)
    await query.answer()
    await origin(query).answer_document(
        BufferedInputFile(content, filename=f"task-{seen.task.number}.xlsx"),
        caption=_("Task order {number} “{title}”: a row per station.").format(
            number=seen.task.number, title=seen.task.title
        ),
    )


ISSUE.attach(router)
REPORT.attach(router)
