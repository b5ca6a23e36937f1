"""The county benchmark (bench/county.py) at a tiny scale, so CI keeps it working, and the per-station figures of
the 中心's 月小结 (reports.station_figures, reports.roll_up) checked against the whole report on its county."""

from __future__ import annotations

import math
from dataclasses import astuple
from datetime import datetime, timezone

import pytest

from bench import county, hooks
from bot.org import service as org
from bot.reports import service as reports
from storage.db import Database
from tests import databases

NOW = datetime.now(timezone.utc)


@pytest.fixture
async def tiny(tmp_path, tmp_path_factory):
    url = await databases.sqlite_database(tmp_path / "county.db", tmp_path_factory.getbasetemp())
    return await county.seed(url, 0.0001, NOW)  # the minimum sizes; the whole tree and its 600 teams


async def test_county_bench_runs_at_a_tiny_scale(tiny):
    assert tiny.size == county.MINIMUM and len(tiny.stations) == 200 and len(tiny.institutes) == 17
    out = await county.measure(tiny, placements=5, runs=3)  # also checks each placed request's team
    keys = {
        "county_route_ms",
        "county_pending_ms",
        "county_station_pending_ms",
        "county_me_ms",
        "county_station_report_ms",
        "county_centre_report_ms",
        "county_tasks_ms",
        "county_centre_week_report_ms",
    }
    assert keys <= set(out)
    assert all(math.isfinite(v) and v > 0 for v in out.values())


async def test_station_figures_add_up_to_the_whole_report(tiny):
    db = Database(tiny.url)
    period = hooks.last_month(NOW)
    try:
        async with db.read() as s:
            whole = await reports.build_report(s, period, hooks.TZ)
            tree = await org.load_tree(s)
            by_station = await reports.station_figures(s, period, hooks.TZ)
            one = await reports.station_figures(s, period, hooks.TZ, stations={tiny.stations[0]})
    finally:
        await db.dispose()
    assert whole.placed > 0 and whole.minutes > 0 and whole.residents_served > 0
    assert set(by_station) <= set(tiny.stations)  # every request and entry of the seed has a station
    total = reports.roll_up(tree, by_station)
    centre = total[1]
    assert (centre.placed, centre.claimed, centre.done) == (whole.placed, whole.claimed, whole.done)
    assert (centre.services_delivered, centre.residents_served) == (whole.services_delivered, whole.residents_served)
    assert (centre.minutes, centre.points) == (whole.minutes, whole.points)
    for institute in tiny.institutes:  # a 所's line: its stations' added up
        sums = [
            sum(col)
            for col in zip(
                *(astuple(by_station.get(st.id, reports.NodeFigures())) for st in tree.kids(institute)), strict=False
            )
        ]
        assert astuple(total.get(institute, reports.NodeFigures())) == tuple(sums or [0] * 7)
    assert one == {tiny.stations[0]: by_station[tiny.stations[0]]}  # a station's own report: just its line


async def test_route_agrees_with_serving_team(tiny):
    """`org.route` (one statement, what placing uses) names the team `org.serving_team` names, for every
    station and service of the county; an archived team is passed over for the next level's."""
    from sqlalchemy import select, update

    from storage.models import NodeService, Service, Team

    db = Database(tiny.url)
    try:
        async with db.tx() as s:
            services = {sv.id: sv for sv in (await s.execute(select(Service))).scalars()}
            for station in tiny.stations[:40]:
                for sv in services.values():
                    want = tiny.route[(station, sv.id)]
                    assert await org.route(s, station, sv) == await org.serving_team(s, station, sv) == want
            assert await org.route(s, None, sv) == sv.team_id
            station, first = tiny.stations[1], min(services)
            own = (
                await s.execute(
                    select(NodeService.team_id).where(NodeService.node_id == station, NodeService.service_id == first)
                )
            ).scalar_one()
            await s.execute(update(Team).where(Team.id == own).values(archived=True))
            moved = await org.route(s, station, services[first])
            assert moved != own and moved == await org.serving_team(s, station, services[first])
            assert moved is None  # the 总菜单's team is another station's: to review, as serving_team says
            # at the 总菜单 team's own station it stays the fallback, archived or not (as serving_team)
            home = tiny.stations[0]
            await s.execute(update(Team).where(Team.id == services[first].team_id).values(archived=True))
            assert await org.route(s, home, services[first]) == await org.serving_team(s, home, services[first])
            assert await org.route(s, home, services[first]) == services[first].team_id
    finally:
        await db.dispose()
