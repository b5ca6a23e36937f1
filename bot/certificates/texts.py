"""Error texts of the service certificates (志愿服务证明)."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

ERRORS = {
    "cert_not_volunteer": __(
        "Service certificates are issued to registered volunteers for their approved hours. "
        "Send /volunteer to register."
    ),
    "cert_no_hours": __(
        "You have no approved service hours in that period yet, so there is nothing to certify. "
        "Hours count once a coordinator has approved them."
    ),
    "cert_bad_range": __(
        "Please give the period as two dates, the first not after the second: /certificate 2026-01-01 2026-06-30"
    ),
    "cert_not_found": __("No certificate with the number “{number}” was issued by this station."),
    "cert_limit": __(
        "Sorry, you have already received {limit} certificates today, the most for one day. Please ask again "
        "tomorrow; the certificates you received stay valid."
    ),
}
