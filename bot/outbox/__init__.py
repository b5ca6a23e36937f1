"""The outbox: what the bot owes people is written here in the transaction of the change (Outbox), and
delivered afterwards, paced and retried (OutboxSender, Pace)."""

from bot.outbox.sender import OutboxSender, Pace
from bot.outbox.writer import Method, Outbox, Render, Rendered

__all__ = ["Method", "Outbox", "OutboxSender", "Pace", "Render", "Rendered"]
