"""The county tree: a 中心 (centre), its 实践所 (institutes) and 实践站 (stations), and who sees what in it.

- A coordinator is appointed at a node (`User.coord_node_id`; None: the 中心) and acts on its subtree only; an
  administrator and a 中心 coordinator act on everything (`Scope.everything`).
- Residents belong to a station (`User.station_id`), requests to the resident's station (`Request.station_id`),
  teams, 爱心超市 items and activities to a node.
- Routing: a station's service is served by the nearest level that names a team for it in `node_services`
  (the station, then its 所, then the 中心); with none, by the 总菜单's team (`Service.team_id`), as before.

The tree is small (a county has a few hundred nodes): it is read whole (`load_tree`) and walked in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core import validate
from bot.core.errors import DomainError
from storage.models import NodeService, OrgNode, Request, Service, Team, TeamMember, User

CENTRE, INSTITUTE, STATION = "centre", "institute", "station"
KINDS = (CENTRE, INSTITUTE, STATION)
# what each kind may hang under: a 站 under a 所 or directly under the 中心
PARENT_KINDS = {CENTRE: (), INSTITUTE: (CENTRE,), STATION: (INSTITUTE, CENTRE)}
LEVEL_WORDS = {"中心": CENTRE, "所": INSTITUTE, "站": STATION, CENTRE: CENTRE, INSTITUTE: INSTITUTE, STATION: STATION}
CODE_MAX, NAME_MAX = 20, 60


@dataclass
class Tree:
    nodes: dict[int, OrgNode]
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in sorted(self.nodes.values(), key=lambda n: (n.kind != CENTRE, n.code)):
            self.children.setdefault(node.parent_id, []).append(node.id)

    @property
    def root(self) -> OrgNode | None:
        return next((self.nodes[i] for i in self.children.get(None, []) if self.nodes[i].kind == CENTRE), None)

    def by_code(self, code: str) -> OrgNode | None:
        code = code.strip().upper()
        return next((n for n in self.nodes.values() if n.code.upper() == code), None)

    def subtree(self, node_id: int, *, archived: bool = True) -> set[int]:
        out, todo = set(), [node_id]
        while todo:
            nid = todo.pop()
            if nid in out or nid not in self.nodes:
                continue
            if not archived and self.nodes[nid].archived:
                continue
            out.add(nid)
            todo.extend(self.children.get(nid, []))
        return out

    def ancestors(self, node_id: int | None) -> list[OrgNode]:
        """The node itself, then its parent, up to the 中心."""
        out: list[OrgNode] = []
        seen: set[int] = set()
        while node_id is not None and node_id in self.nodes and node_id not in seen:
            seen.add(node_id)
            out.append(self.nodes[node_id])
            node_id = self.nodes[node_id].parent_id
        return out

    def kids(self, node_id: int | None, kind: str | None = None, *, archived: bool = False) -> list[OrgNode]:
        out = [self.nodes[i] for i in self.children.get(node_id, [])]
        return [n for n in out if (kind is None or n.kind == kind) and (archived or not n.archived)]

    def stations(self, under: int | None = None) -> list[OrgNode]:
        ids = self.subtree(under, archived=False) if under is not None else set(self.nodes)
        return sorted(
            (self.nodes[i] for i in ids if self.nodes[i].kind == STATION and not self.nodes[i].archived),
            key=lambda n: n.code,
        )

    def institute_of(self, node_id: int | None) -> OrgNode | None:
        return next((n for n in self.ancestors(node_id) if n.kind == INSTITUTE), None)


async def load_tree(s: AsyncSession) -> Tree:
    return Tree({n.id: n for n in (await s.execute(select(OrgNode))).scalars()})


async def node(s: AsyncSession, node_id: int | None) -> OrgNode | None:
    return await s.get(OrgNode, node_id) if node_id is not None else None


async def default_station(s: AsyncSession) -> OrgNode | None:
    """The station when there is exactly one (a single-station deployment places everyone there)."""
    rows = (
        await s.execute(select(OrgNode).where(OrgNode.kind == STATION, OrgNode.archived.is_(False)).limit(2))
    ).scalars()
    found = list(rows)
    return found[0] if len(found) == 1 else None


async def root(s: AsyncSession) -> OrgNode | None:
    return (await s.execute(select(OrgNode).where(OrgNode.kind == CENTRE).order_by(OrgNode.id))).scalars().first()


# Scope ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a user may act on as a coordinator: everything, a subtree, or nothing."""

    everything: bool
    nodes: frozenset[int] = frozenset()
    at: int | None = None  # the node he is appointed at

    def covers(self, node_id: int | None) -> bool:
        # None: a row from before the tree (or not placed yet): only the 中心 decides it
        return self.everything or (node_id is not None and node_id in self.nodes)

    def covers_any(self, node_ids: Iterable[int | None]) -> bool:
        return self.everything or any(n is not None and n in self.nodes for n in node_ids)

    @property
    def any(self) -> bool:
        return self.everything or bool(self.nodes)


NOBODY = Scope(False)
ALL = Scope(True)


def scope_in(tree: Tree, user: User | None) -> Scope:
    if user is None:
        return NOBODY
    if user.is_admin:
        return ALL
    if not user.is_coordinator:
        return NOBODY
    at = user.coord_node_id
    if at is None or at not in tree.nodes or tree.nodes[at].kind == CENTRE:
        return Scope(True, at=at)
    return Scope(False, frozenset(tree.subtree(at)), at)


async def scope_of(s: AsyncSession, user: User | None) -> Scope:
    if user is None or not (user.is_admin or user.is_coordinator):
        return NOBODY
    if user.is_admin or user.coord_node_id is None:
        return ALL
    return scope_in(await load_tree(s), user)


async def team_node(s: AsyncSession, team_id: int | None) -> int | None:
    team = await s.get(Team, team_id) if team_id is not None else None
    return team.node_id if team else None


async def covers_team(s: AsyncSession, user: User | None, team_id: int | None) -> bool:
    scope = await scope_of(s, user)
    return scope.everything or (scope.any and scope.covers(await team_node(s, team_id)))


async def require_covers(s: AsyncSession, user: User | None, *node_ids: int | None) -> Scope:
    """The user is a coordinator whose scope holds one of `node_ids`; else a polite refusal."""
    scope = await scope_of(s, user)
    if not scope.any:
        raise DomainError("not_coordinator")
    if not scope.covers_any(node_ids):
        raise DomainError("not_your_station")
    return scope


async def coordinators_of(s: AsyncSession, node_ids: Iterable[int | None]) -> list[User]:
    """The coordinators (and administrators) whose scope holds one of the nodes: who is told about them."""
    tree = await load_tree(s)
    wanted = {n for n in node_ids if n is not None}
    up = {a.id for n in wanted for a in tree.ancestors(n)}
    rows = await s.execute(
        select(User).where((User.is_coordinator.is_(True)) | (User.is_admin.is_(True))).order_by(User.id)
    )
    out = []
    for user in rows.scalars():
        scope = scope_in(tree, user)
        if scope.everything or user.coord_node_id in up:
            out.append(user)
    return out


# Routing ---------------------------------------------------------------------------------------------------


async def serving_team(s: AsyncSession, station_id: int | None, service: Service) -> int | None:
    """The team that serves `service` for `station_id`: the nearest level naming one, else the 总菜单's."""
    if station_id is not None:
        tree = await load_tree(s)
        chain = [n.id for n in tree.ancestors(station_id)]
        if chain:
            rows = await s.execute(
                select(NodeService.node_id, NodeService.team_id)
                .join(Team, Team.id == NodeService.team_id)
                .where(
                    NodeService.service_id == service.id,
                    NodeService.node_id.in_(chain),
                    Team.archived.is_(False),
                )
            )
            named = {nid: tid for nid, tid in rows.all()}
            for nid in chain:
                if nid in named:
                    return named[nid]
            # the 总菜单's team, when it is of this station or a level above it (another station's team is not)
            home = await team_node(s, service.team_id)
            return service.team_id if home is None or home in chain else None
    return service.team_id


async def next_level_team(s: AsyncSession, current_team_id: int | None, service_id: int) -> int | None:
    """The team one level up from the team now serving the request that serves its service (None: none)."""
    team_node_id = await team_node(s, current_team_id)
    if team_node_id is None:
        return None
    tree = await load_tree(s)
    above = [n.id for n in tree.ancestors(team_node_id)[1:]]
    if not above:
        return None
    rows = await s.execute(
        select(NodeService.node_id, NodeService.team_id)
        .join(Team, Team.id == NodeService.team_id)
        .where(NodeService.service_id == service_id, NodeService.node_id.in_(above), Team.archived.is_(False))
    )
    named = {nid: tid for nid, tid in rows.all()}
    for nid in above:
        team_id = named.get(nid)
        if team_id is not None and team_id != current_team_id:
            return team_id
    return None


async def offer(s: AsyncSession, actor: User, node_id: int, service_id: int, team: Team | None) -> None:
    """A node's menu: the node serves the service with `team` (one of its own or above), or stops (None)."""
    await require_covers(s, actor, node_id)
    row = await s.get(NodeService, (node_id, service_id))
    if team is None:
        if row is not None:
            await s.delete(row)
        return
    if row is None:
        s.add(NodeService(node_id=node_id, service_id=service_id, team_id=team.id))
    else:
        row.team_id = team.id


async def menu_of(s: AsyncSession, station_id: int | None) -> dict[int, int]:
    """service id → the team that serves it for the station, for the services its levels name."""
    if station_id is None:
        return {}
    tree = await load_tree(s)
    chain = [n.id for n in tree.ancestors(station_id)]
    rows = (await s.execute(select(NodeService).where(NodeService.node_id.in_(chain)))).scalars().all()
    out: dict[int, int] = {}
    for nid in reversed(chain):  # nearer levels last: they win
        for row in rows:
            if row.node_id == nid:
                out[row.service_id] = row.team_id
    return out


# Building the tree ------------------------------------------------------------------------------------------


def clean_code(code: str) -> str:
    code = (code or "").strip()
    if not code or len(code) > CODE_MAX or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise DomainError("bad_node_code", ref=code[: CODE_MAX + 5])
    return code.upper()


def clean_kind(word: str) -> str:
    kind = LEVEL_WORDS.get((word or "").strip().lower()) or LEVEL_WORDS.get((word or "").strip())
    if kind is None:
        raise DomainError("bad_node_kind", ref=(word or "")[:20])
    return kind


async def add_node(
    s: AsyncSession, actor: User, kind: str, name: str, code: str, parent_code: str | None, now: datetime
) -> OrgNode:
    kind, name, code, parent = await plan_add(s, actor, kind, name, code, parent_code)
    created = OrgNode(
        kind=kind, name=name, code=code, parent_id=parent.id if parent else None, archived=False, created_at=now
    )
    s.add(created)
    await s.flush()
    return created


async def _require_builder(s: AsyncSession, actor: User) -> None:
    """Administrators and 中心 coordinators build the tree."""
    scope = await scope_of(s, actor)
    if not scope.everything:
        raise DomainError("not_centre_coordinator")


async def find_node(s: AsyncSession, code: str) -> OrgNode:
    found = (await load_tree(s)).by_code(code or "")
    if found is None:
        raise DomainError("no_node", ref=(code or "")[: CODE_MAX + 5])
    return found


async def rename_node(s: AsyncSession, actor: User, code: str, name: str) -> OrgNode:
    target, new_name = await plan_rename(s, actor, code, name)
    target.name = new_name
    return target


async def move_node(s: AsyncSession, actor: User, code: str, parent_code: str) -> OrgNode:
    target, parent = await plan_move(s, actor, code, parent_code)
    target.parent_id = parent.id
    return target


async def archive_node(s: AsyncSession, actor: User, code: str) -> OrgNode:
    target = await plan_archive(s, actor, code)
    target.archived = True
    return target


async def appoint(s: AsyncSession, target: User, node_code: str | None) -> OrgNode | None:
    """Where a coordinator is appointed (None or the 中心's code: the 中心)."""
    if not node_code:
        target.coord_node_id = None
        return None
    found = await find_node(s, node_code)
    target.coord_node_id = None if found.kind == CENTRE else found.id
    return found


async def place_resident(s: AsyncSession, user: User, station_code_or_id: str | int) -> OrgNode:
    tree = await load_tree(s)
    if isinstance(station_code_or_id, int):
        found = tree.nodes.get(station_code_or_id)
    else:
        found = tree.by_code(station_code_or_id)
    if found is None or found.kind != STATION or found.archived:
        raise DomainError("no_station", ref=str(station_code_or_id)[: CODE_MAX + 5])
    user.station_id = found.id
    return found


async def station_of(s: AsyncSession, user: User) -> int | None:
    """The user's station; in a single-station deployment, the station (the caller records it on him)."""
    if user.station_id is not None:
        return user.station_id
    only = await default_station(s)
    return only.id if only is not None else None


async def counts(s: AsyncSession) -> dict[int, dict[str, int]]:
    """Per node: its teams and residents (for /org)."""
    out: dict[int, dict[str, int]] = {}
    for nid, n in (await s.execute(select(Team.node_id, func.count()).group_by(Team.node_id))).all():
        if nid is not None:
            out.setdefault(nid, {})["teams"] = n
    for nid, n in (await s.execute(select(User.station_id, func.count()).group_by(User.station_id))).all():
        if nid is not None:
            out.setdefault(nid, {})["residents"] = n
    return out


async def request_nodes(s: AsyncSession, req: Request) -> list[int | None]:
    """The nodes a request belongs to: the resident's station and the serving team's node (after it went up)."""
    return [req.station_id, await team_node(s, req.team_id)]


async def covers_request(s: AsyncSession, user: User | None, req: Request) -> bool:
    scope = await scope_of(s, user)
    return scope.everything or (scope.any and scope.covers_any(await request_nodes(s, req)))


async def require_request(s: AsyncSession, user: User | None, req: Request) -> None:
    """A coordinator of the request's station, of a level above it, or of the team now serving it."""
    await require_covers(s, user, *await request_nodes(s, req))


async def may_order_for(s: AsyncSession, user: User, station_id: int) -> bool:
    """A 帮办 order for a station: a coordinator within his scope, a team leader at or under his teams' nodes."""
    tree = await load_tree(s)
    if station_id not in tree.nodes or tree.nodes[station_id].kind != STATION:
        return False
    if scope_in(tree, user).covers(station_id):
        return True
    rows = await s.execute(
        select(Team.node_id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user.id, TeamMember.is_leader.is_(True), TeamMember.status == "active")
    )
    up = {n.id for n in tree.ancestors(station_id)}
    return any(nid in up for nid in rows.scalars())


async def home_station(s: AsyncSession, user: User) -> int | None:
    """Where a person's own orders go: his station; a coordinator's or leader's own station when he has one."""
    if user.station_id is not None:
        return user.station_id
    tree = await load_tree(s)
    at = tree.nodes.get(user.coord_node_id) if user.coord_node_id is not None else None
    if at is not None and at.kind == STATION:
        return at.id
    return await station_of(s, user)


async def team_at(s: AsyncSession, node_id: int, service_id: int) -> int | None:
    """The team a node names for a service (its own menu only); None when it names none."""
    row = await s.get(NodeService, (node_id, service_id))
    if row is None:
        return None
    team = await s.get(Team, row.team_id)
    return team.id if team and not team.archived else None


async def user_nodes(s: AsyncSession, user_id: int) -> list[int | None]:
    """The nodes a person belongs to: his station and the nodes of his teams (pending joins included)."""
    person = await s.get(User, user_id)
    rows = await s.execute(
        select(Team.node_id).join(TeamMember, TeamMember.team_id == Team.id).where(TeamMember.user_id == user_id)
    )
    return [person.station_id if person else None, *rows.scalars()]


async def require_person(s: AsyncSession, actor: User | None, user_id: int) -> None:
    """A coordinator whose scope holds the person (his station or one of his teams)."""
    await require_covers(s, actor, *await user_nodes(s, user_id))


async def require_team(s: AsyncSession, actor: User | None, team_id: int | None) -> None:
    """A coordinator whose scope holds the team."""
    await require_covers(s, actor, await team_node(s, team_id))


async def require_centre(s: AsyncSession, actor: User | None) -> None:
    """What the whole county shares (the 总菜单, skills, themes, festivals, civic days): administrators and
    coordinators of the 中心."""
    scope = await scope_of(s, actor)
    if not scope.any:
        raise DomainError("not_coordinator")
    if not scope.everything:
        raise DomainError("not_centre_coordinator")


async def covers_any_of(s: AsyncSession, user: User | None, node_ids: Iterable[int | None]) -> bool:
    scope = await scope_of(s, user)
    return scope.covers_any(node_ids)


async def nodes_above(s: AsyncSession, node_ids: Iterable[int | None]) -> set[int]:
    """The nodes and every level above them (what is offered to someone under them, e.g. 爱心超市 items)."""
    tree = await load_tree(s)
    return {a.id for n in node_ids if n is not None for a in tree.ancestors(n)}


async def own_node(s: AsyncSession, actor: User) -> int | None:
    """Where what a coordinator creates belongs: his node; a 中心 coordinator's: the only station, else the 中心."""
    scope = await scope_of(s, actor)
    if not scope.everything:
        return scope.at
    only = await default_station(s)
    if only is not None:
        return only.id
    centre = await root(s)
    return centre.id if centre else None


def is_centre(user: User | None) -> bool:
    """An administrator, or a coordinator of the 中心 (appointed nowhere below it)."""
    return bool(user and (user.is_admin or (user.is_coordinator and user.coord_node_id is None)))


def require_centre_role(user: User | None) -> None:
    """`require_centre` without a session (a coordinator of the 中心 has no node below it)."""
    if not (user and (user.is_admin or user.is_coordinator)):
        raise DomainError("not_coordinator")
    if not is_centre(user):
        raise DomainError("not_centre_coordinator")


# Residents' door: the station picker, deep links, posters ------------------------------------------------------

PICK_PAGE = 8  # choices on one page of the picker


async def must_pick_station(s: AsyncSession, user: User) -> bool:
    """Does this person choose his station before ordering? Only with several stations and none his yet (a station
    coordinator orders for his own station; a single-station deployment places everyone by itself)."""
    if user.station_id is not None:
        return False
    tree = await load_tree(s)
    at = tree.nodes.get(user.coord_node_id) if user.coord_node_id is not None else None
    if at is not None and at.kind == STATION and not at.archived:
        return False
    return len(tree.stations()) > 1


def pick_groups(tree: Tree) -> list[OrgNode]:
    """The picker's first list: each 所 holding a station, and the 中心 when stations hang directly under it (shown
    as “直属站”), last."""
    out = [
        inst
        for inst in sorted(tree.kids(tree.root.id if tree.root else None, INSTITUTE), key=lambda n: n.code)
        if tree.stations(inst.id)
    ]
    centre = tree.root
    if centre is not None and tree.kids(centre.id, STATION):
        out.append(centre)
    return out


def pick_stations(tree: Tree, group_id: int) -> list[OrgNode]:
    """The picker's second list: the stations of a 所, or the 中心's own (直属站)."""
    group = tree.nodes.get(group_id)
    if group is None or group.archived:
        return []
    if group.kind == CENTRE:
        return sorted(tree.kids(group.id, STATION), key=lambda n: n.code)
    return tree.stations(group.id) if group.kind == INSTITUTE else []


def page_of(items: list[OrgNode], page: int, size: int = PICK_PAGE) -> tuple[list[OrgNode], int, int]:
    """One page of a list: (its items, the page shown, the number of pages); a page out of range shows the last."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


async def poster_station(s: AsyncSession, user: User, code: str | None) -> OrgNode | None:
    """The station whose poster a coordinator asks for (/qr [CODE]): the named one within his scope; without a code,
    his own station, or the only one in his scope (None: he has to name it)."""
    tree = await load_tree(s)
    scope = scope_in(tree, user)
    if not scope.any:
        raise DomainError("not_coordinator")
    if code:
        found = tree.by_code(code)
        if found is None or found.kind != STATION or found.archived:
            raise DomainError("no_station", ref=code.strip()[: CODE_MAX + 5])
        if not scope.covers(found.id):
            raise DomainError("not_your_station")
        return found
    mine = tree.stations(None if scope.everything else scope.at)
    return mine[0] if len(mine) == 1 else None


def deep_link(bot_username: str, station: OrgNode) -> str:
    """The link a station's poster carries: opening it starts the bot with /start CODE."""
    return f"https://t.me/{bot_username}?start={station.code}"


# Checks before a confirmation (/org_add, /org_rename, /org_move, /org_archive ask first; nothing is written) -------


async def plan_add(
    s: AsyncSession, actor: User, kind: str, name: str, code: str, parent_code: str | None
) -> tuple[str, str, str, OrgNode | None]:
    """What `add_node` would do (kind, name, code, parent), or the refusal it would give: the builder first."""
    await _require_builder(s, actor)
    kind, name, code = clean_kind(kind), validate.text(name, "node"), clean_code(code)
    tree = await load_tree(s)
    if tree.by_code(code) is not None:
        raise DomainError("node_exists", ref=code)
    if kind == CENTRE:
        if tree.root is not None:
            raise DomainError("one_centre")
        return kind, name, code, None
    parent = tree.by_code(parent_code) if parent_code else tree.root
    if parent is None or parent.archived:
        raise DomainError("no_node", ref=parent_code or "")
    if parent.kind not in PARENT_KINDS[kind]:
        raise DomainError("bad_parent", ref=parent.code)
    return kind, name, code, parent


async def plan_rename(s: AsyncSession, actor: User, code: str, name: str) -> tuple[OrgNode, str]:
    await _require_builder(s, actor)
    return await find_node(s, code), validate.text(name, "node")


async def plan_move(s: AsyncSession, actor: User, code: str, parent_code: str) -> tuple[OrgNode, OrgNode]:
    await _require_builder(s, actor)
    tree = await load_tree(s)
    target, parent = tree.by_code(code), tree.by_code(parent_code)
    if target is None:
        raise DomainError("no_node", ref=code)
    if parent is None or parent.archived:
        raise DomainError("no_node", ref=parent_code)
    if parent.kind not in PARENT_KINDS[target.kind] or parent.id in tree.subtree(target.id):
        raise DomainError("bad_parent", ref=parent.code)
    return target, parent


async def plan_archive(s: AsyncSession, actor: User, code: str) -> OrgNode:
    await _require_builder(s, actor)
    tree = await load_tree(s)
    target = tree.by_code(code)
    if target is None:
        raise DomainError("no_node", ref=code)
    if target.kind == CENTRE:
        raise DomainError("bad_parent", ref=code)
    if tree.kids(target.id):
        raise DomainError("node_has_children", ref=code)
    return target


async def offer_team(s: AsyncSession, actor: User, node_id: int, service_id: int, team: Team) -> None:
    """`offer` for a coordinator's command: the node within his scope; the team not archived, of the node or a level
    above it."""
    await require_covers(s, actor, node_id)
    if team.archived:
        raise DomainError("offer_team_archived", team=team.name)
    tree = await load_tree(s)
    if team.node_id is not None and team.node_id not in {n.id for n in tree.ancestors(node_id)}:
        raise DomainError("team_not_above", team=team.name)
    await offer(s, actor, node_id, service_id, team)


def subtree_counts(tree: Tree, counts: dict[int, dict[str, int]], node_id: int) -> dict[str, int]:
    """For /org: the 所 and 站 (not archived) under a node, and the teams and residents of its whole subtree."""
    ids = tree.subtree(node_id, archived=False)
    out = {"institutes": 0, "stations": 0, "teams": 0, "residents": 0}
    for nid in ids:
        kind = tree.nodes[nid].kind
        if nid != node_id and kind == INSTITUTE:
            out["institutes"] += 1
        elif nid != node_id and kind == STATION:
            out["stations"] += 1
        out["teams"] += counts.get(nid, {}).get("teams", 0)
        out["residents"] += counts.get(nid, {}).get("residents", 0)
    return out


@cache
def _route_query() -> Select[int]:
    """Built once (building a recursive CTE costs more than running it): bound to :station, :service and
    :fallback (the 总菜单's team)."""
    up = (
        select(OrgNode.id, OrgNode.parent_id, literal(0).label("depth"))
        .where(OrgNode.id == bindparam("station"))
        .cte("up", recursive=True)
    )
    parent = aliased(OrgNode)
    up = up.union_all(
        select(parent.id, parent.parent_id, (up.c.depth + 1).label("depth"))
        .join(up, parent.id == up.c.parent_id)
        .where(up.c.depth < 10)  # a cycle cannot hold the walk (the tree refuses one)
    )
    named = (
        select(NodeService.team_id.label("team_id"), up.c.depth.label("depth"))
        .join(up, up.c.id == NodeService.node_id)
        .join(Team, Team.id == NodeService.team_id)
        .where(NodeService.service_id == bindparam("service"), Team.archived.is_(False))
    )
    # the 总菜单's team, when it is of this station or a level above it (another station's team is not)
    fallback = select(Team.id.label("team_id"), literal(1000).label("depth")).where(
        Team.id == bindparam("fallback"),
        or_(Team.node_id.is_(None), Team.node_id.in_(select(up.c.id)), ~exists(select(up.c.id))),
    )
    both = union_all(named, fallback).subquery()
    return select(both.c.team_id).order_by(both.c.depth).limit(1)


async def route(s: AsyncSession, station_id: int | None, service: Service) -> int | None:
    """`serving_team` in one statement, for placing a request (a county has hundreds of nodes: reading the whole
    tree for each request was most of placing's time): walk up from the station (recursive CTE, the tree is a few
    levels deep) and take the nearest level naming a team for the service; with none, the 总菜单's team when it is
    of the station's levels (or of none)."""
    if station_id is None:
        return service.team_id
    params = {"station": station_id, "service": service.id, "fallback": service.team_id}
    return (await s.execute(_route_query(), params)).scalar()
