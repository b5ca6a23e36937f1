"""The words of /setup's checklist."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.setup import service as setup
from bot.ui import texts


def _line(item: setup.Item) -> str:
    mark = "⏳" if item.done is None else "✅" if item.done else "⬜"
    missing = texts.enumerate_items(item.missing)
    if item.key == setup.GROUP:
        text = (
            _("A volunteer group is bound to a team ({count} bound).").format(count=item.count)
            if item.done
            else _("Bind a volunteer group: add the bot to the team's group and send /bind 1 there.")
        )
    elif item.key == setup.SERVICES:
        if item.done:
            text = _("The menu has {count} services, each served by a team.").format(count=item.count)
        elif item.count == 0:
            text = _("Put services on the menu: /service_add.")
        else:
            text = _("Give these services a team: {services} (/service_team SERVICE TEAM).").format(services=missing)
    elif item.key == setup.TEAMS_BOUND:
        text = (
            _("Every team that serves the menu has a group.")
            if item.done
            else _("These teams have no group yet: {teams} (/bind TEAM in their group).").format(teams=missing)
            if item.missing
            else _("No team serves the menu yet.")
        )
    elif item.key == setup.COORDINATOR:
        text = (
            _("Coordinators: {count}.").format(count=item.count)
            if item.done
            else _("Add a coordinator: an administrator sends /coordinator_add @username.")
        )
    elif item.key == setup.VOLUNTEERS:
        text = (
            _("Volunteers in teams: {count}.").format(count=item.count)
            if item.done
            else _("Invite volunteers: they send /volunteer to the bot; approve their joins with /joins.")
        )
    else:
        text = (
            _("The QR poster (扫码点单) is printed.")
            if item.done
            else _("Print the QR poster (扫码点单): not available yet.")
            if item.done is None
            else _("Print the QR poster (扫码点单) with /qr and put it up.")
        )
    return f"{mark} {text}"


def checklist(items: list[setup.Item]) -> str:
    done = sum(1 for i in items if i.done)
    left = sum(1 for i in items if i.done is False)
    head = _("🧭 Setting up the station: {done} done, {left} left.").format(done=done, left=left)
    tail = _("All set: residents can place requests.") if left == 0 else _("Send /setup again to see the progress.")
    return "\n".join([head, "", *(_line(i) for i in items), "", tail])
