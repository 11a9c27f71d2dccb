"""The outbound guard: which addresses count as public, URLs checked ahead of time, and a guarded client
that refuses loopback at connection time (a real local server it must not reach) unless allowed, and
that, connecting to the address it checked, still verifies a TLS certificate against the URL's name.
Nothing here needs the internet: public addresses are only classified, never connected to."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from switchboard_runtime.http.outbound_guard import RefusedAddress, check_url, guarded_client, is_public_address

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2001:4860:4860::8888", "2606:4700:4700::1111",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]
NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.1",
    "203.0.113.1", "198.18.0.1", "192.0.0.8",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456:789a::1", "ff02::1", "fec0::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a00:1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2001::1", "100::1", "::127.0.0.1",
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_our_own_kinds_of_address_are_not(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/x", "http://[::1]/", "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
    "https://2130706433/", "http://127.1/", "http://100.64.0.1/", "http://[fd00::1]/",
])
async def test_check_url_refuses_our_own_networks(url: str) -> None:
    with pytest.raises(RefusedAddress, match="not a public address"):
        await check_url(url, allow_private=False)


async def test_check_url_allows_them_when_private_urls_are_allowed() -> None:
    await check_url("http://127.0.0.1:9/", allow_private=True)
    await check_url("http://localhost/", allow_private=True)


async def test_check_url_passes_a_public_address() -> None:
    await check_url("https://8.8.8.8/dns-query", allow_private=False)  # a literal: nothing is resolved


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://8.8.8.8/", "8.8.8.8",
                                 "http:///nohost", "javascript:alert(1)"])
async def test_check_url_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(ValueError):
        await check_url(url, allow_private=True)


@pytest.fixture
async def local_server():
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "2130706433"])
async def test_the_guarded_client_connects_to_no_loopback_address(local_server, host: str) -> None:
    port, seen = local_server
    async with guarded_client(allow_private=False, timeout=5) as client:
        with pytest.raises(RefusedAddress, match="not a public address"):
            await client.get(f"http://{host}:{port}/")
    assert seen == []  # refused before connecting: the server heard nothing


async def test_the_guarded_client_reaches_it_when_private_urls_are_allowed(local_server) -> None:
    port, seen = local_server
    async with guarded_client(allow_private=True, timeout=5) as client:
        response = await client.get(f"http://localhost:{port}/hello")
    assert (response.status_code, response.text) == (200, "ok")
    assert seen and seen[0].startswith(b"GET /hello ")


def test_the_guarded_client_keeps_its_own_transport() -> None:
    with pytest.raises(TypeError, match="transport"):
        guarded_client(allow_private=False, timeout=1, transport=None)


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name` and its key, as files (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.parametrize(("named", "verified"), [("localhost", True), ("other.example", False)])
async def test_tls_is_verified_against_the_urls_name_not_the_address_connected_to(tmp_path, named: str,
                                                                                  verified: bool) -> None:
    cert, key = _certificate(tmp_path, named)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client gave up on our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=served)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=cert)
    try:
        async with guarded_client(allow_private=True, timeout=5, verify=trusting) as client:
            if verified:  # connected to 127.0.0.1, the certificate checked for "localhost"
                assert (await client.get(f"https://localhost:{port}/")).text == "secure"
            else:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|hostname"):
                    await client.get(f"https://localhost:{port}/")
    finally:
        server.close()
        await server.wait_closed()
