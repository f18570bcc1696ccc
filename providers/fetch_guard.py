"""The address rules of guarded downloads: which links are refused before any connection is made.

A link a user or a vendor supplies is fetched by the server, so whoever writes it chooses where
the server connects. `providers.fetch` asks this module twice per hop: `check_link_text` on the
link as written (before any parser reads it), then `resolve_checked` on the host the HTTP
library will actually connect to. The second resolves the name once, refuses the hop when any
answer is an internal address, and returns the address the connection is then pinned to, so
DNS cannot answer differently between the check and the connect.

Refused whatever the policy (no legitimate image link needs them):
- user info (`user@`), backslashes, whitespace and control characters: URL parsers disagree on
  them (`http://127.0.0.1:80\\@8.8.8.8/` is host 8.8.8.8 to one and 127.0.0.1 to another);
- IPv4 written in any form but four plain decimals (`2130706433`, `0x7f.1`, `017700000001`):
  resolvers read them as addresses, people and URL checkers do not;
- IPv6 zone ids (`[fe80::1%25eth0]`) and percent signs in the host;
- link-local (169.254.0.0/16: the cloud metadata service; fe80::/10), multicast, unspecified
  (0.0.0.0/8, ::), broadcast, reserved and documentation ranges, IPv4-compatible IPv6
  (`::a.b.c.d`), local-use NAT64 (64:ff9b:1::/48), Teredo (2001::/32) and site-local fec0::/10.

Refused unless the policy allows a trusted local network (`allow_private`): loopback, private
(10/8, 172.16/12, 192.168/16, fc00::/7) and shared (100.64/10) addresses. IPv6 forms that carry
an IPv4 address (IPv4-mapped `::ffff:`, IPv4-translated, 6to4 2002::/16, NAT64 64:ff9b::/96)
are judged by the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> every address the name resolves to (as text); raises OSError when it does not.
Resolver = Callable[[str, int], Sequence[str]]


class AddressRefused(Exception):
    """The link led to an address inside this machine's network (`reason`: loopback, private,
    link-local ...). Deliberately not an OSError, so urllib3 does not wrap it as a connection
    failure to be retried. Raised before any connection to that address."""

    def __init__(self, address: str, reason: str = "internal", host: str = "") -> None:
        super().__init__(address)
        self.address = address
        self.reason = reason
        self.host = host or address


class LinkRejected(Exception):
    """The link was not fetched, or answered, but not with a file we take; the subclass says why."""


class LinkRefused(LinkRejected):
    """The link as written is one we never fetch (`reason`: a key of `LINK_REASONS`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(LINK_REASONS.get(reason, reason))
        self.reason = reason


class HostNotFound(LinkRejected):
    """The host name does not resolve (said without any connection attempt)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"the host '{host}' could not be found")
        self.host = host


# English reasons, for logs and the manifest's row problems (callers word their own messages).
LINK_REASONS = {
    "scheme": "it is not an http(s) link",
    "userinfo": "it carries a user name or password before the host",
    "backslash": "it contains a backslash",
    "control": "it contains spaces or control characters",
    "no_host": "it has no host name",
    "port": "its port is not a number from 1 to 65535",
    "zone": "its host names a network interface or has a percent sign",
    "numeric_host": "its host is a number written in an unusual form (use four plain decimals)",
}

_SCHEMES = ("http", "https")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# WHATWG: a host whose last label is a number (decimal, 0-octal or 0x-hex) is an IPv4 address.
_NUMBER_LABEL = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")

# Never fetched, whatever the policy.
_ALWAYS_REFUSED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unspecified", ("0.0.0.0/8", "::/128")),
    ("link-local", ("169.254.0.0/16", "fe80::/10")),
    ("multicast", ("224.0.0.0/4", "ff00::/8")),
    ("broadcast", ("255.255.255.255/32",)),
    (
        "reserved",
        (
            "192.0.0.0/24",  # IETF protocol assignments
            "192.0.2.0/24",  # documentation
            "192.88.99.0/24",  # 6to4 relay anycast
            "198.18.0.0/15",  # benchmarking
            "198.51.100.0/24",
            "203.0.113.0/24",
            "240.0.0.0/4",
            "64:ff9b:1::/48",  # local-use NAT64
            "100::/64",  # discard
            "2001::/32",  # Teredo: the IPv4 client inside is obfuscated, judge nothing
            "2001::/23",  # IETF protocol assignments
            "2001:db8::/32",  # documentation
            "fec0::/10",  # site-local (deprecated)
        ),
    ),
)
# IPv4-compatible IPv6 `::a.b.c.d` (deprecated; ::1 and :: are judged before it).
_COMPATIBLE = ipaddress.ip_network("::/96")
# Fetched only when the policy allows a trusted local network.
_LOCAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loopback", ("127.0.0.0/8", "::1/128")),
    ("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")),
)


def _networks(
    table: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]], ...]:
    return tuple((reason, tuple(ipaddress.ip_network(text) for text in texts)) for reason, texts in table)


_ALWAYS_REFUSED_NETS = _networks(_ALWAYS_REFUSED)
_LOCAL_NETS = _networks(_LOCAL)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and is routed to: IPv4-mapped, IPv4-translated,
    6to4 and well-known NAT64 (None for any other address)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _TRANSLATED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why `ip` is never connected to ("loopback", "link-local", ...), or None when it may be."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return address_refusal(inner, allow_private=allow_private)
    # Local first: ::1 is loopback, not one of the IPv4-compatible addresses around it.
    for reason, networks in _LOCAL_NETS:
        if any(ip in network for network in networks if network.version == ip.version):
            return None if allow_private else reason
    for reason, networks in _ALWAYS_REFUSED_NETS:
        if any(ip in network for network in networks if network.version == ip.version):
            return reason
    if ip.version == 6 and ip in _COMPATIBLE:
        return "ipv4-compatible"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_link_local:
        return "reserved"
    if not ip.is_global and not allow_private:
        # Whatever else the standard library knows as not global (new IANA entries).
        return "private"
    return None


def parse_address(text: str) -> IPAddress | None:
    """`text` as an IP address (IPv6 with or without brackets), None when it is not one.
    Zone ids are not addresses here: a zone picks an interface, which no link may do."""
    text = text.strip("[]") if text.startswith("[") else text
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_public_address(address: str) -> bool:
    """True for an address a link with the default policy may lead to."""
    ip = parse_address(address)
    return ip is not None and address_refusal(ip) is None


def check_host(host: str) -> None:
    """Refuse a host written so that resolvers and readers disagree on it; raises LinkRefused."""
    if not host:
        raise LinkRefused("no_host")
    if "%" in host:
        raise LinkRefused("zone")
    if _CONTROL.search(host) or "\\" in host:
        raise LinkRefused("control")
    if host.startswith("["):
        if not host.endswith("]") or parse_address(host) is None:
            raise LinkRefused("no_host")
        return
    if ":" in host and parse_address(host) is not None:
        return  # an IPv6 literal as HTTP libraries hand it over, without its brackets
    if ":" in host or "[" in host or "]" in host:
        raise LinkRefused("no_host")
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if _NUMBER_LABEL.match(labels[-1]) and not _DOTTED_QUAD.match(".".join(labels)):
        raise LinkRefused("numeric_host")
    if not all(labels):
        raise LinkRefused("no_host")


def check_link_text(url: str) -> None:
    """Refuse a link, as written, that is never fetched; raises LinkRefused. Parses by hand, the
    way a browser splits the authority, so no parser's leniency decides what the host is."""
    if "\\" in url:
        raise LinkRefused("backslash")
    if _CONTROL.search(url):
        raise LinkRefused("control")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _SCHEMES:
        raise LinkRefused("scheme")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise LinkRefused("userinfo")
    if authority.startswith("["):
        host, _, port = authority.partition("]")
        host += "]"
        if port and not port.startswith(":"):
            raise LinkRefused("no_host")
        port = port[1:]
    else:
        host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    check_host(host)
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise LinkRefused("port")
    if not port and authority.endswith(":"):
        raise LinkRefused("port")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (TCP), in the resolver's order."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in answers]


def resolve_checked(
    host: str,
    port: int,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    trusted: frozenset[str] = frozenset(),
) -> str:
    """Resolve `host` once and return the address to connect to. Raises LinkRefused (host form),
    HostNotFound, or AddressRefused when any answer is refused (a name with one internal answer
    among public ones is refused whole: which one a client picks is not ours to predict).
    `trusted` addresses count as allowed (a known host on the local network; the tests' servers)."""
    check_host(host)
    bare = host.strip("[]")
    # "127.0.0.1." is the address 127.0.0.1 to resolvers; judged as the address, not looked up.
    literal = parse_address(bare.rstrip(".") if not host.startswith("[") else bare)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = list(dict.fromkeys(resolver(bare.rstrip("."), port)))
        except (OSError, UnicodeError):
            raise HostNotFound(bare) from None
        if not addresses:
            raise HostNotFound(bare)
    for address in addresses:
        if address in trusted:
            continue
        ip = parse_address(address)
        if ip is None:
            raise AddressRefused(address, "reserved", bare)
        reason = address_refusal(ip, allow_private=allow_private)
        if reason is not None:
            raise AddressRefused(str(ip), reason, bare)
    return addresses[0]
