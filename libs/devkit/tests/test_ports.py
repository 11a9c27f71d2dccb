"""Ports for test servers: each xdist worker draws from a part of the range of its own, and a process
never hands out a port twice within minutes."""

from switchboard_devkit.testing import ports


def test_each_worker_has_a_part_of_the_range_no_other_shares(monkeypatch):
    parts = []
    for index in range(4):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
        parts.append(ports.worker_range(10_000, 32_768))
    assert parts[0][0] == 10_000 and all(a[1] <= b[0] for a, b in zip(parts, parts[1:]))
    assert all(high - low >= 5_000 for low, high in parts)
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert ports.worker_range(10_000, 32_768) == (10_000, 32_768)


def test_a_port_handed_out_is_not_handed_out_again_lately():
    first = ports.server_ports(50)
    again = ports.server_ports(50)
    assert len(set(first)) == 50 and not set(first) & set(again)
    low, high = ports.worker_range(ports.LOWEST, ports.highest())
    assert all(low <= p < high for p in first + again)
