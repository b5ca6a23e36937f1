"""`python -m bot sandbox`: the real bot (bot.app.App, unmodified) against the embedded fake Bot API
(bot/fakegram), with a chat page on 127.0.0.1 where one person plays the whole station: personas, their private
chats and the team group, inline buttons, documents, and a "next day" button that moves the bot's clock."""

from .station import Persona, Sandbox

__all__ = ["Persona", "Sandbox"]
