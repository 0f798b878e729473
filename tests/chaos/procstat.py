"""What /proc says about this process: resident memory, and the sockets it listens on."""

from __future__ import annotations

import os
from pathlib import Path

TCP_LISTEN = "0A"
UNIX_LISTENING = 1 << 16  # __SO_ACCEPTCON in /proc/net/unix's Flags column


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def socket_inodes(pid: int | None = None) -> set[int]:
    """Inodes of every socket the process has open."""
    fd_dir = Path(f"/proc/{pid or os.getpid()}/fd")
    inodes = set()
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listening_sockets(pid: int | None = None) -> list[str]:
    """``tcp 127.0.0.1:port``-like descriptions of the process's listening sockets."""
    mine = socket_inodes(pid)
    found = []
    for proto in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == TCP_LISTEN and int(cols[9]) in mine:
                found.append(f"{proto} {cols[1]}")
    for proto in ("udp", "udp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[9]) in mine:
                found.append(f"{proto} {cols[1]}")
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        cols = line.split()
        if int(cols[3], 16) & UNIX_LISTENING and int(cols[6]) in mine:
            found.append(f"unix {cols[7] if len(cols) > 7 else '(unnamed)'}")
    return found


def tcp_peers(pid: int | None = None) -> set[tuple[str, int]]:
    """(IPv4 address, port) of every remote end the process's TCP sockets talk to."""
    mine = socket_inodes(pid)
    peers = set()
    for proto in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] != TCP_LISTEN and int(cols[9]) in mine:
                peers.add(_address(cols[2]))
    return peers


def _address(hex_addr: str) -> tuple[str, int]:
    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 16 and raw[:12] == b"\0" * 10 + b"\xff\xff":  # IPv4-mapped IPv6
        raw = raw[12:]
    if len(raw) == 4:
        ip = ".".join(str(b) for b in raw[::-1])  # /proc/net/tcp is little-endian
    else:
        words = [raw[i:i + 4][::-1].hex() for i in range(0, 16, 4)]
        ip = ":".join(w[j:j + 4] for w in words for j in (0, 4))
    return ip, int(port, 16)
