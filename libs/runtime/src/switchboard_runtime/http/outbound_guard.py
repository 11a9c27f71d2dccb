"""Outbound HTTP to addresses users name (flow HTTP nodes, outbound webhooks), kept off our own network.

A URL whose host is, or resolves to, a loopback, private, link-local (the 169.254.169.254 metadata
service among them), CGNAT, multicast, unspecified, reserved or documentation address — IPv4, IPv6, or
IPv4 carried inside IPv6 (mapped, NAT64, 6to4) — is refused unless the operator allows private URLs
(`allow_private`). Only http and https.

DNS rebinding: the check is made where the connection is opened, not before. `guarded_client`'s
transport gives httpcore a network backend whose `connect_tcp` resolves the host once, refuses the
connection if any of its addresses is not public, and then connects to one of those very addresses (an
IP, so nothing is resolved again). TLS still verifies the certificate against the URL's host name, and
the pool keys connections by that name. Every connection is checked this way, so redirect hops would be
too, were a caller to follow them (the client does not by default). The environment's proxy settings (and
.netrc) are ignored — through a proxy the address connected to would be the proxy's; its CA bundle
(SSL_CERT_FILE, SSL_CERT_DIR) is honoured."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")

_V4_BLOCKED = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8",  # "this network", 0.0.0.0 (which Linux connects to the host itself)
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, cloud metadata services
    "192.0.0.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # IETF, documentation
    "192.88.99.0/24",  # 6to4 relays
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, broadcast
)]
_V6_BLOCKED = [ipaddress.IPv6Network(n) for n in (
    "::/96",  # unspecified, loopback, IPv4-compatible (deprecated)
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard
    "2001::/23",  # IETF protocol assignments (Teredo among them)
    "2001:db8::/32", "3fff::/20",  # documentation
    "fc00::/7",  # unique local
    "fe80::/10", "fec0::/10",  # link-local, site-local
    "ff00::/8",  # multicast
)]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedAddress(Exception):
    """A URL we will not call: its host is (or resolves to) an address on a network of our own."""


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, NAT64, 6to4), if it carries one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_public_address(ip: IPAddress) -> bool:
    """Whether `ip` is an ordinary address of the public internet (and so one we may connect to)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        blocked = _V6_BLOCKED
    else:
        blocked = _V4_BLOCKED
    if any(ip in network for network in blocked):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def validate_url(url: str) -> httpx.URL:
    """`url` parsed, when it is one we would call at all (http or https, a host); ValueError otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parsed.scheme not in SCHEMES:
        raise ValueError(f"only http and https URLs are called, not {parsed.scheme or 'a URL without a scheme'}")
    if not parsed.host:
        raise ValueError("the URL has no host")
    return parsed


def _refuse(host: str, ip: IPAddress) -> RefusedAddress:
    shown = host if _literal(host) == ip else f"{host} ({ip})"
    return RefusedAddress(f"refused: {shown} is not a public address (loopback, private, link-local or "
                          "reserved); set SWITCHBOARD_ALLOW_PRIVATE_URLS to allow it")


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """The addresses `host` resolves to, once, every one checked: RefusedAddress if any is not public
    (a name answering with one private address among public ones is refused whole). OSError (a
    socket.gaierror) when it does not resolve."""
    literal = _literal(host)
    if literal is not None:
        found = [literal]
    else:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in infos))
    if not found:
        raise OSError(f"{host} resolves to no address")
    if not allow_private:
        for ip in found:
            if not is_public_address(ip):
                raise _refuse(host, ip)
    return found


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise ValueError for a URL we would not call at all, RefusedAddress for one whose host is not
    public. A check ahead of time, for a clear answer (at configuration, say): only `guarded_client`'s
    check at connection time protects against a name that resolves differently later."""
    parsed = validate_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        await resolve_public(parsed.host, port, allow_private=allow_private)
    except OSError as exc:
        raise ValueError(f"{parsed.host} does not resolve: {exc}") from None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, with every TCP connection made to an address resolved and checked here."""

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_public(host, port, allow_private=self.allow_private)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        failure: Exception | None = None
        for ip in addresses:  # connected by address: nothing is resolved between the check and here
            try:
                return await self.inner.connect_tcp(str(ip), port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None):
        raise RefusedAddress("refused: unix sockets are not called")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose network backend is a GuardedBackend. httpx takes no
    network backend, so the pool it builds is replaced by one built the same way with ours."""

    def __init__(self, *, allow_private: bool, verify: ssl.SSLContext | bool = True,
                 limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)):
        super().__init__(verify=verify, limits=limits)  # trust_env here: SSL_CERT_FILE / SSL_CERT_DIR only
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=GuardedBackend(allow_private=allow_private))


_NOT_OURS = ("transport", "mounts", "proxy", "trust_env")


def guarded_client(*, allow_private: bool, timeout: float, **httpx_kwargs: typing.Any) -> httpx.AsyncClient:
    """An httpx.AsyncClient whose every connection is checked (see the module's docstring); it follows no
    redirect unless `follow_redirects=True` is passed, and then every hop's connection is checked too."""
    clashing = [name for name in _NOT_OURS if name in httpx_kwargs]
    if clashing:
        raise TypeError(f"guarded_client sets its own {', '.join(clashing)}")
    limits = httpx_kwargs.pop("limits", None) or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    verify = httpx_kwargs.pop("verify", True)
    httpx_kwargs.setdefault("follow_redirects", False)
    transport = GuardedTransport(allow_private=allow_private, verify=verify, limits=limits)
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False, **httpx_kwargs)
