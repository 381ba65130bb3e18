"""What may be the address a site is published at (`site.base_url`, `--base-url`).

The base URL is written into every absolute link (canonical links, the feed, the sitemap,
the data files), and its path starts every link of 404.html, which GitHub Pages serves at
any depth. A path that begins `//` or `/\\` would make those links load from another host
(`https://example.org//evil.example/` gives `//evil.example/static/…`), so the base URL is
held to the plain form a site's address has: http or https, a host, an optional port, a
path of ordinary segments, nothing else.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?"
                  r"|\[[0-9A-Fa-f:.]+\]")
"""An ASCII host name (an international one in its xn-- form), or an IPv6 address in brackets."""
SEGMENT = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+")
"""A path segment: RFC 3986 `pchar`s, anything else percent-encoded."""
HINT = "write the address the site is published at, e.g. https://owner.github.io/repo/"


def base_url_problem(url: str) -> str | None:
    """What is wrong with `url` as the site's address ("has a query ('?…')"), or None."""
    if any(c.isspace() or ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in url):
        return "contains a space or a control character"
    if "\\" in url:
        return "contains a backslash"
    if not re.match(r"https?://", url):
        return "is not an http(s) URL"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed '[' of an IPv6 address
        return "has an invalid host"
    if "@" in parts.netloc:
        return "has a user name or password ('…@' before the host)"
    host, port = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(.*))?", parts.netloc).groups()
    if not host:
        return "has no host"
    if port is not None and not (re.fullmatch(r"[0-9]{1,5}", port) and 0 < int(port) < 65536):
        return "has an invalid port"
    if not HOST.fullmatch(host):
        return f"has an invalid host '{host}' (letters, digits, '-' and '.'; an international name in its xn-- form)"
    if "?" in url:
        return "has a query ('?…')"
    if "#" in url:
        return "has a fragment ('#…')"
    path = parts.path
    if "//" in path:
        return "has an empty path segment ('//')"
    for segment in path.split("/")[1:]:
        if segment in (".", ".."):
            return f"has a '{segment}' path segment"
        if re.search(r"%(?:2[Ff]|5[Cc]|2[Ee])", segment):
            return "has an escaped '/', '\\' or '.' in its path (%2F, %5C, %2E)"
        if segment and not SEGMENT.fullmatch(segment):
            bad = next((c for c in segment if c != "%" and not SEGMENT.fullmatch(c)), None)
            if bad:
                return f"has '{bad}' in its path (percent-encode it)"
            return "has a '%' that does not start an escape like %20"
    return None
