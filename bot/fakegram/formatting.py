"""Turn (text, parse_mode, entities) into what Telegram stores: plain text + entities.

Telegram strips markup server-side and rejects malformed markup with
"can't parse entities"; bots that forget to escape user input must see that here too.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(text: str, parse_mode: str | None, entities: list[dict] | None) -> tuple[str, list[dict]]:
    """Return Telegram's stored form of a message text or caption."""
    if entities is not None or not parse_mode:
        return text, list(entities or [])
    mode = parse_mode.lower()
    try:
        if mode == "html":
            return _parse_html(text)
        if mode == "markdownv2":
            return _strip_markdown(text, v2=True), []
        if mode == "markdown":
            return _strip_markdown(text, v2=False), []
    except _ParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    raise bad_request("unsupported parse_mode")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities as Telegram attaches them to incoming user messages."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]


class _ParseError(Exception):
    pass


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _parse_html(src: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "&" and (m := _HTML_ENTITY.match(src, i)):
            name = m.group(1)
            if name in _NAMED:
                chunk = _NAMED[name]
            else:
                chunk = chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
            out.append(chunk)
            pos += utf16_len(chunk)
            i = m.end()
            continue
        if ch != "<":
            out.append(ch)
            pos += utf16_len(ch)
            i += 1
            continue
        offset = _byte_offset(src, i)
        if src.startswith("</", i):
            end = src.find(">", i)
            if end == -1:
                raise _ParseError(f"Unclosed end tag at byte offset {offset}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise _ParseError(f"Unexpected end tag at byte offset {offset}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise _ParseError(f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"')
            if tag == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] == start:
                # <pre><code class="language-x"> is a single pre entity with a language
                language = attrs.get("class", "").removeprefix("language-")
                if language:
                    stack[-1][2]["language"] = language
            elif pos > start:
                entity = {"type": _HTML_TAGS[tag], "offset": start, "length": pos - start}
                if tag == "a":
                    entity["url"] = attrs.get("href", "")
                if tag == "pre" and attrs.get("language"):
                    entity["language"] = attrs["language"]
                entities.append(entity)
        else:
            # Like Telegram: the tag name is checked before looking for the closing ">".
            name_end = i + 1
            while name_end < len(src) and not src[name_end].isspace() and src[name_end] != ">":
                name_end += 1
            name = src[i + 1 : name_end].lower()
            end = src.find(">", name_end)
            if name_end == len(src):
                raise _ParseError(f"Unclosed start tag at byte offset {offset}")
            if name not in _HTML_TAGS:
                raise _ParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
            if end == -1:
                raise _ParseError(f"Unclosed start tag at byte offset {offset}")
            attrs = {
                m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
                for m in _ATTR.finditer(src, name_end, end)
            }
            stack.append((name, pos, attrs))
        i = end + 1
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip_markdown(src: str, *, v2: bool) -> str:
    """Plain text of (legacy or V2) Markdown; validates like Telegram but keeps no entities."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and (v2 or src[i + 1] in "_*`["):
            out.append(src[i + 1])
            i += 2
            continue
        if ch == "`":
            fence = "```" if src.startswith("```", i) else "`"
            end = i + len(fence)
            while end < len(src) and not src.startswith(fence, end):
                end += 2 if v2 and src[end] == "\\" else 1
            if end >= len(src):
                offset = _byte_offset(src, i)
                raise _ParseError(f"Can't find end of the entity starting at byte offset {offset}")
            body = src[i + len(fence) : end]
            if fence == "```" and "\n" in body and body.split("\n", 1)[0].strip().isidentifier():
                body = body.split("\n", 1)[1]  # language tag line
            out.append(body.replace("\\`", "`").replace("\\\\", "\\") if v2 else body)
            i = end + len(fence)
            continue
        mark = _markdown_mark(src, i, v2)
        if mark:
            if open_marks and open_marks[-1][0] == mark:
                open_marks.pop()
            else:
                open_marks.append((mark, _byte_offset(src, i)))
            i += len(mark)
            continue
        if ch == "]" and open_marks and open_marks[-1][0] == "[":
            open_marks.pop()
            if src.startswith("(", i + 1) and (close := src.find(")", i + 1)) != -1:
                i = close + 1
                continue
            i += 1
            continue
        if v2 and ch == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # blockquote marker
            continue
        if v2 and ch in _MD2_RESERVED:
            raise _ParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.append(ch)
        i += 1
    if open_marks:
        raise _ParseError(f"Can't find end of the entity starting at byte offset {open_marks[-1][1]}")
    return "".join(out)


def _markdown_mark(src: str, i: int, v2: bool) -> str | None:
    if v2:
        for mark in ("||", "__", "*", "_", "~", "["):
            if src.startswith(mark, i):
                return mark
        return None
    return src[i] if src[i] in "*_[" else None
