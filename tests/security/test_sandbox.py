"""What the systemd sandbox denies: each line of docs/security.md's sandbox table is a
directive of the shipped unit, read here from the file the installer copies."""

from __future__ import annotations

from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "maigic.service"

# directive -> the value docs/security.md promises
PROMISED = {
    "User": "maigic",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "DevicePolicy": "closed",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "ProtectProc": "invisible",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_BLUETOOTH",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "MemoryDenyWriteExecute": "yes",
    "UMask": "0077",
    "RuntimeDirectoryMode": "0700",
    "StateDirectoryMode": "0700",
    "ConfigurationDirectoryMode": "0750",
}


def directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_the_unit_denies_what_the_security_review_says() -> None:
    found = directives()
    for key, value in PROMISED.items():
        assert found.get(key) == [value], f"{key}: unit has {found.get(key)}, doc says {value!r}"
    assert found["DeviceAllow"] == ["char-alsa rw", "char-gpiochip rw"]
    assert found["SystemCallFilter"] == ["@system-service", "~@privileged"]


def test_the_security_review_names_every_promised_directive() -> None:
    doc = (UNIT.parents[2] / "docs" / "security.md").read_text()
    missing = [key for key in PROMISED if f"`{key}=" not in doc]
    assert missing == [], f"docs/security.md does not mention {missing}"
