"""The county tree's texts: its errors and what /org, /mystation and the station picker say."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from storage.models import OrgNode

ERRORS = {
    "not_your_station": __(
        "This belongs to another station: coordinators act on their own station, or on the stations under their "
        "实践所, only."
    ),
    "not_centre_coordinator": __("Only administrators and coordinators of the 中心 change the county's tree."),
    "no_node": __("There is no station, 实践所 or 中心 with the code “{ref}”. /org shows the tree with its codes."),
    "no_station": __("There is no station with the code “{ref}”. Please ask your station for its code or QR poster."),
    "node_exists": __("The code “{ref}” is already used. Each node needs its own code."),
    "bad_node_code": __("“{ref}” cannot be a code: use 1 to 20 letters, digits, - or _, for example CC-01."),
    "bad_node_kind": __("“{ref}” is not a level: use 中心, 所 or 站."),
    "bad_parent": __("“{ref}” cannot hold it: a 所 hangs under the 中心, a 站 under a 所 or the 中心."),
    "one_centre": __("The county already has its 中心."),
    "no_team_there": __(
        "No team of “{ref}” serves this service. Name one first (/service_team), or hand it to a station."
    ),
    "proxy_needs_station": __(
        "Which station is the resident of? Please name it: /proxy CODE, for example /proxy Z01 (/org shows the codes)."
    ),
    "node_has_children": __("“{ref}” still has stations under it: move or archive them first."),
}


def kind_name(kind: str) -> str:
    return {"centre": _("中心"), "institute": _("实践所"), "station": _("实践站")}.get(kind, kind)


def node_line(node: OrgNode) -> str:
    return f"{node.name} ({node.code})"


ERRORS.update(
    {
        "poster_font": __(
            "Sorry, the poster cannot be drawn: the server has no font with Chinese characters. Please tell the "
            "administrator (FONT_PATH in the README). Nothing was changed."
        ),
    }
)


# The residents' door: the station picker, deep links, /mystation, /qr ------------------------------------------


def group_label(node: OrgNode) -> str:
    """A choice of the picker's first list: a 所 by its name, the 中心's own stations as 直属站."""
    return _("直属站 (under the 中心)") if node.kind == "centre" else node.name


def ask_group() -> str:
    return _("Which 实践所 (town or street) do you live in? Your requests will go to the volunteers of your station.")


def ask_station(group: OrgNode) -> str:
    if group.kind == "centre":
        return _("Which of the stations directly under the 中心 is yours?")
    return _("Which 实践站 (village or community) of {name} is yours?").format(name=group.name)


def placed(station: OrgNode) -> str:
    return _("Your station is now {station}.").format(station=station.name)


def welcome_placed(station: OrgNode) -> str:
    return _("Welcome! You now belong to {station}: your requests go to its volunteers.").format(station=station.name)


def my_station(station: OrgNode | None, above: OrgNode | None) -> str:
    if station is None:
        return _("You have not chosen your station yet.")
    lines = [_("Your station: {station} ({code})").format(station=station.name, code=station.code)]
    if above is not None:
        lines.append(_("It belongs to: {name}").format(name=above.name))
    return "\n".join(lines)


def qr_usage() -> str:
    return _("/qr CODE, for example /qr Z01 (the station's code)")


def qr_caption(station: OrgNode) -> str:
    return _("🖨 The poster of {station}: print it and put it up. Residents who scan it belong to this station.").format(
        station=station.name
    )


def poster_how() -> str:
    return _("Scan the code to request a service")


def poster_footer(code: str, link: str) -> str:
    return _("Station code {code} · {link}").format(code=code, link=link)


# /org, /org_add and the other builders' commands, /service_team at a node ------------------------------------

BUILD_ERRORS = {
    "offer_team_archived": __("Sorry, team “{team}” is archived: please choose a team that is still active."),
    "team_not_above": __(
        "Sorry, team “{team}” belongs to another station or 实践所: a station's service is served by one of its own "
        "teams or by a team of its 实践所 or of the 中心."
    ),
    "org_tree_empty": __("The county's tree has no 中心 yet. Administrators import it: python -m bot org import FILE."),
}


def org_usage() -> str:
    return _(
        "/org_add 站|所 NAME CODE [PARENT_CODE], /org_rename CODE NAME, /org_move CODE PARENT_CODE, /org_archive CODE"
    )


def tree_line(node: OrgNode, figures: dict[str, int], depth: int) -> str:
    """One node of /org, indented under its parent, with what it holds."""
    indent = "    " * depth
    head = f"{indent}{kind_name(node.kind)} {node_line(node)}"
    if node.kind == "centre":
        return _("{node}: {institutes} 实践所, {stations} 实践站, {teams} team(s), {residents} resident(s)").format(
            node=head, **figures
        )
    if node.kind == "institute":
        return _("{node}: {stations} 实践站, {teams} team(s), {residents} resident(s)").format(
            node=head, stations=figures["stations"], teams=figures["teams"], residents=figures["residents"]
        )
    return _("{node}: {teams} team(s), {residents} resident(s)").format(
        node=head, teams=figures["teams"], residents=figures["residents"]
    )


def org_title() -> str:
    return _("The county's tree (codes in brackets):")


def confirm_add(kind: str, name: str, code: str, parent: OrgNode | None) -> str:
    return _("Add {kind} “{name}” ({code}) under {parent}?").format(
        kind=kind_name(kind), name=name, code=code, parent=node_line(parent) if parent else "—"
    )


def confirm_rename(node: OrgNode, name: str) -> str:
    return _("Rename {kind} {node} to “{name}”?").format(kind=kind_name(node.kind), node=node_line(node), name=name)


def confirm_move(node: OrgNode, parent: OrgNode) -> str:
    return _("Move {kind} {node} under {parent}? Its teams, residents and requests go with it.").format(
        kind=kind_name(node.kind), node=node_line(node), parent=node_line(parent)
    )


def confirm_archive(node: OrgNode) -> str:
    return _(
        "Archive {kind} {node}? It leaves the tree and its code cannot be used again; its history is kept."
    ).format(kind=kind_name(node.kind), node=node_line(node))


def done_add(node: OrgNode) -> str:
    return _("Added {kind} {node}.").format(kind=kind_name(node.kind), node=node_line(node))


def done_rename(node: OrgNode) -> str:
    return _("{kind} {code} is now called “{name}”.").format(kind=kind_name(node.kind), code=node.code, name=node.name)


def done_move(node: OrgNode, parent: OrgNode) -> str:
    return _("{kind} {node} now belongs to {parent}.").format(
        kind=kind_name(node.kind), node=node_line(node), parent=node_line(parent)
    )


def done_archive(node: OrgNode) -> str:
    return _("{kind} {node} is archived.").format(kind=kind_name(node.kind), node=node_line(node))
