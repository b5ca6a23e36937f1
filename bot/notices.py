"""Every feature's notices over the station's one outbox, composed once: what handlers get as `notices`.

Each feature's notices.py writes what its changes owe people through bot.outbox.Outbox. Where one feature's
notices need another's (approving a request's or an activity's hours may reach a star level), the ledger's
notices are passed in here, explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.activities.notices import ActivityNotices
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.people.notices import PeopleNotices
from bot.requests.notices import RequestNotices
from bot.shop.notices import ShopNotices
from bot.wishes.notices import WishNotices


@dataclass(frozen=True)
class Notices:
    outbox: Outbox
    requests: RequestNotices
    ledger: LedgerNotices
    activities: ActivityNotices
    people: PeopleNotices
    shop: ShopNotices
    wishes: WishNotices

    @classmethod
    def build(cls, outbox: Outbox, points_per_hour: int) -> Notices:
        ledger = LedgerNotices(outbox)
        return cls(
            outbox=outbox,
            requests=RequestNotices(outbox, ledger, points_per_hour),
            ledger=ledger,
            activities=ActivityNotices(outbox, ledger, points_per_hour),
            people=PeopleNotices(outbox),
            shop=ShopNotices(outbox),
            wishes=WishNotices(outbox, ledger),
        )
