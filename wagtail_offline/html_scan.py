"""The start tags of a page, found in one linear pass.

A subset of the HTML tokenizer (https://html.spec.whatwg.org/multipage/parsing.html#tokenization)
that is enough to find the URLs a page loads: start tags with their attributes, end tags
(which only matter to close raw-text elements), comments, bogus comments and the text of
raw-text and RCDATA elements, which hides what looks like markup. Every step moves forward
through ``str.find`` or a regex that matches one run of a character class (or a short fixed
sequence) at a given position, so no character is looked at more than a few times and the
time is linear in the length of the page, whatever it holds (``html.parser`` is quadratic
on unclosed tags and comments).
"""

import re
from html import unescape
from html.entities import html5
from typing import NamedTuple

# Elements whose content is text up to their end tag: markup inside them is not markup.
RAW_TEXT_ELEMENTS = {
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
}

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SPACES = re.compile(r"[\t\n\f ]*")
_TAG_NAME = re.compile(r"[^\t\n\f />]*")
# An attribute name may begin with "=" (a parse error the tokenizer keeps as a name).
_ATTRIBUTE_NAME = re.compile(r"=?[^\t\n\f />=]*")
_UNQUOTED_VALUE = re.compile(r"[^\t\n\f >]*")
_COMMENT_END = re.compile(r"--!?>")
# html.unescape's own pattern for a character reference.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
# The common case in one match: a tag whose attributes are plain names, with values in
# double quotes and no character references. Whatever else comes goes the long way.
_PLAIN_TAG = re.compile(
    r"([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:[\t\n\f ]+[a-zA-Z_:][a-zA-Z0-9_:.-]*(?:=\"[^\"&]*\")?)*)"
    r"[\t\n\f ]*/?>"
)
_PLAIN_ATTRIBUTE = re.compile(r"([^\t\n\f =]+)(?:=\"([^\"]*)\")?")
_RAW_TEXT_END = {
    name: re.compile(f"</{name}[\t\n\f />]", re.IGNORECASE | re.ASCII)
    for name in RAW_TEXT_ELEMENTS
}


class StartTag(NamedTuple):
    name: str  # lowercased
    attributes: dict  # lowercased names; the first of duplicates; references decoded
    text: str | None  # a raw-text or RCDATA element's content as written, else None


def start_tags(html):
    """Every start tag of ``html`` in order, as a browser's tokenizer sees it.

    A tag left unclosed at the end of the text is not a tag (browsers drop it); so is
    anything in a comment, in ``<!…>``, ``<?…>`` or in a raw-text element such as
    ``<script>``, whose content comes as the ``text`` of its start tag. ``<plaintext>``
    makes the rest of the page text.
    """
    html = _preprocessed(html)
    position = 0
    while (position := html.find("<", position) + 1) > 0:
        char = html[position : position + 1]
        if _is_ascii_letter(char):
            tag = _tag(html, position)
            if tag is None:
                return
            name, attributes, position = tag
            text = None
            if name == "plaintext":
                text, position = html[position:], len(html)
            elif name in RAW_TEXT_ELEMENTS:
                text, position = _raw_text(html, name, position)
            yield StartTag(name, attributes, text)
        elif char == "!":
            if html.startswith("--", position + 1):
                position = _comment_end(html, position + 3)
            else:  # <!DOCTYPE …> ends at the first ">" too (even one inside quotes).
                position = _bogus_comment_end(html, position + 1)
        elif char == "?":
            position = _bogus_comment_end(html, position)
        elif char == "/":
            position = _end_tag_end(html, position + 1)
        # Anything else: the "<" was text.


def _preprocessed(html):
    """Newlines as "\n" and NUL as U+FFFD, as the input stream and tokenizer make them."""
    if "\r" in html:
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    return html.replace("\0", "\ufffd")


def _is_ascii_letter(char):
    return char.isascii() and char.isalpha()


def _tag(html, position):
    """The tag whose name starts at ``position``: its name, its attributes and where it
    ends; None if the text ends inside it."""
    plain = _PLAIN_TAG.match(html, position)
    if plain:
        attributes = {}
        for name, value in _PLAIN_ATTRIBUTE.findall(plain[2]):
            attributes.setdefault(name.translate(_ASCII_LOWER), value)
        return plain[1].translate(_ASCII_LOWER), attributes, plain.end()
    return _tag_by_states(html, position)


def _tag_by_states(html, position):
    """``_tag`` as the tokenizer's states read it, one attribute at a time."""
    name = _TAG_NAME.match(html, position)
    position, attributes = name.end(), {}
    while True:
        position = _SPACES.match(html, position).end()
        if position >= len(html):
            return None
        char = html[position]
        if char == ">":
            return name[0].translate(_ASCII_LOWER), attributes, position + 1
        if char == "/":  # Self-closing or stray: either way nothing.
            position += 1
            continue
        attribute = _ATTRIBUTE_NAME.match(html, position)
        value, position = _attribute_value(html, attribute.end())
        if value is None:
            return None
        attributes.setdefault(attribute[0].translate(_ASCII_LOWER), value)


def _attribute_value(html, position):
    """After an attribute's name: its value ("" if none) and where it ends; None if the
    text ends inside it."""
    position = _SPACES.match(html, position).end()
    if not html.startswith("=", position):
        return "", position
    position = _SPACES.match(html, position + 1).end()
    quote = html[position : position + 1]
    if quote in ('"', "'"):
        end = html.find(quote, position + 1)
        if end < 0:
            return None, len(html)
        return _decoded(html[position + 1 : end]), end + 1
    value = _UNQUOTED_VALUE.match(html, position)
    return _decoded(value[0]), value.end()


def _decoded(value):
    """An attribute value with its character references decoded, as html.unescape does,
    except that a named reference without ";" followed by "=" or a letter or digit stays
    as written (``?a=1&not=2``), as the spec says for attributes."""
    return _CHARREF.sub(_decoded_charref, value) if "&" in value else value


def _decoded_charref(match):
    reference = match[1]
    if reference[0] == "#" or reference in html5:
        return unescape(match[0])
    # The longest known name it begins with, as html.unescape looks for it.
    for length in range(len(reference) - 1, 1, -1):
        if reference[:length] in html5:
            following = reference[length]
            if following == "=" or (following.isascii() and following.isalnum()):
                return match[0]
            return html5[reference[:length]] + reference[length:]
    return match[0]


def _comment_end(html, position):
    """Past the comment whose text starts at ``position`` (``<!-->`` and ``<!--->`` are
    whole comments; an unclosed one runs to the end)."""
    if html.startswith(">", position):
        return position + 1
    if html.startswith("->", position):
        return position + 2
    end = _COMMENT_END.search(html, position)
    return len(html) if end is None else end.end()


def _bogus_comment_end(html, position):
    end = html.find(">", position)
    return len(html) if end < 0 else end + 1


def _end_tag_end(html, position):
    """Past the end tag (or what stands for one) whose name starts at ``position``."""
    char = html[position : position + 1]
    if _is_ascii_letter(char):
        tag = _tag(
            html, position
        )  # Its attributes are read (and dropped) as a start tag's.
        return len(html) if tag is None else tag[2]
    if char == ">":
        return position + 1
    return _bogus_comment_end(html, position)  # At the end, "</" is text: nothing.


def _raw_text(html, name, position):
    """The content of a raw-text element starting at ``position`` and where its end tag
    ends; both run to the end of the text when it has no end tag."""
    end = _RAW_TEXT_END[name].search(html, position)
    if end is None:
        return html[position:], len(html)
    return html[position : end.start()], _end_tag_end(html, end.start() + 2)


def collect_urls(html):
    """``assets.urls_in_html`` on this tokenizer: the same tags and attributes, the same
    ``HtmlUrls``."""
    from .assets import (
        LINK_RELS,
        LINK_TAGS,
        SRCSET_TAGS,
        URL_ATTRIBUTES_BY_TAG,
        HtmlUrls,
        parse_srcset,
        urls_in_css,
    )

    subresources, links, base = [], [], None
    for tag, attributes, text in start_tags(html):
        if tag == "base" and base is None and attributes.get("href"):
            base = attributes["href"]
        elif tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels & LINK_RELS and attributes.get("href"):
                subresources.append(attributes["href"])
            # A preloaded responsive image lists its candidates like <img srcset>.
            if attributes.get("imagesrcset"):
                subresources += parse_srcset(attributes["imagesrcset"])
        elif tag in LINK_TAGS and attributes.get("href"):
            links.append(attributes["href"])
        for attribute in URL_ATTRIBUTES_BY_TAG.get(tag, ()):
            if attributes.get(attribute):
                subresources.append(attributes[attribute])
        if tag in SRCSET_TAGS and attributes.get("srcset"):
            subresources += parse_srcset(attributes["srcset"])
        if attributes.get("style"):
            subresources += urls_in_css(attributes["style"])
        if tag == "style" and text:
            subresources += urls_in_css(text)
    return HtmlUrls(subresources, links, base)
