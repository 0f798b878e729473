"""The pi-gen stage: the layout pi-gen expects, the host-side copy, and the first-boot settings."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from tests.deploy.conftest import write_script
from tests.deploy.test_install import KEY, mode_owner, run_installer
from tests.deploy.test_unit import analyze

STAGE = Path("deploy/image/stage-maigic")


def config_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^(?:export )?([A-Z_]+)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2).strip('"')
    return values


def test_stage_has_the_layout_pi_gen_expects(repo: Path) -> None:
    stage = repo / STAGE
    prerun = stage / "prerun.sh"
    assert prerun.stat().st_mode & stat.S_IXUSR
    assert "copy_previous" in prerun.read_text()
    assert "IMG_SUFFIX=" in (stage / "EXPORT_IMAGE").read_text()
    run = stage / "00-install/00-run.sh"
    assert run.stat().st_mode & stat.S_IXUSR  # pi-gen executes it; the chroot one is piped
    assert "install.sh" in (stage / "00-install/00-run-chroot.sh").read_text()
    for name in re.findall(r"files/([\w.-]+)", run.read_text()):
        assert (stage / "00-install/files" / name).is_file(), name


def test_build_config_names_this_stage(repo: Path) -> None:
    values = config_values(repo / "deploy/image/config")
    assert values["RELEASE"] == "bookworm"
    assert values["IMG_NAME"]
    stages = values["STAGE_LIST"].split()
    assert stages[:3] == ["stage0", "stage1", "stage2"]
    # the docs copy the checkout into pi-gen as maigic-hub/
    assert stages[-1].startswith("maigic-hub/")
    assert (repo / stages[-1].removeprefix("maigic-hub/")).resolve() == (repo / STAGE).resolve()


def test_host_side_script_copies_the_project_and_first_boot_files(
    repo: Path, tmp_path: Path
) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    subprocess.run(["bash", "-e", "./00-run.sh"], cwd=repo / STAGE / "00-install",
                   env={"PATH": os.environ["PATH"], "ROOTFS_DIR": str(rootfs)},
                   check=True, timeout=120, capture_output=True)
    src = rootfs / "opt/maigic/src"
    assert (src / "deploy/install.sh").read_bytes() == (repo / "deploy/install.sh").read_bytes()
    assert (src / "pyproject.toml").is_file()
    assert not (src / ".git").exists() and not (src / ".venv").exists()
    assert mode_owner(rootfs / "usr/local/sbin/maigic-firstboot")[0] == 0o755
    assert (rootfs / "etc/systemd/system/maigic-firstboot.service").is_file()
    assert (rootfs / "boot/firmware/maigic-setup.txt.example").is_file()


def test_first_boot_unit_verifies(repo: Path, tmp_path: Path) -> None:
    shipped = (repo / STAGE / "00-install/files/maigic-firstboot.service").read_text()
    stub = write_script(tmp_path / "firstboot", "exit 0\n")
    unit = tmp_path / "maigic-firstboot.service"
    unit.write_text(shipped.replace("/usr/local/sbin/maigic-firstboot", str(stub)))
    result = analyze("verify", str(unit))
    assert result.returncode == 0 and result.stderr == "", result.stderr


def run_first_boot(repo: Path, root: Path, setup: str) -> subprocess.CompletedProcess[str]:
    boot = root / "boot/firmware"
    boot.mkdir(parents=True, exist_ok=True)
    (boot / "maigic-setup.txt").write_text(setup)
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    script = repo / STAGE / "00-install/files/maigic-firstboot.sh"
    env = {"PATH": os.environ["PATH"], "MAIGIC_ROOT": str(root),
           "MAIGIC_INSTALLER": str(repo / "deploy/install.sh")}
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60, check=True)


def test_first_boot_applies_settings_and_removes_the_file(
    repo: Path, scratch_root: Path
) -> None:
    run_installer(repo, "--root", str(scratch_root))  # the image as built
    setup = (f"# comment\r\nhostname=earhub\r\nssh=yes\r\nwifi_country=DE\r\n"
             f"wifi_ssid=Home Net\r\nwifi_password=correct horse\r\nopenai_api_key={KEY}\r\n")
    result = run_first_boot(repo, scratch_root, setup)
    etc = scratch_root / "etc"
    assert (etc / "hostname").read_text() == "earhub\n"
    assert "127.0.1.1\tearhub" in (etc / "hosts").read_text()
    wifi = etc / "NetworkManager/system-connections/maigic-wifi.nmconnection"
    assert mode_owner(wifi)[0] == 0o600
    text = wifi.read_text()
    assert "ssid=Home Net\n" in text and "psk=correct horse\n" in text
    assert "key-mgmt=wpa-psk" in text
    key = etc / "maigic/openai.key"
    assert key.read_text() == KEY + "\n" and mode_owner(key)[0] == 0o600
    assert "api_key_file: /etc/maigic/openai.key" in (etc / "maigic/maigic.yaml").read_text()
    assert not (scratch_root / "boot/firmware/maigic-setup.txt").exists()
    assert "planned: systemctl enable --now ssh.service" in result.stdout
    assert "planned: raspi-config nonint do_wifi_country DE" in result.stdout
    assert KEY not in result.stdout + result.stderr
    assert "correct horse" not in result.stdout + result.stderr


def test_first_boot_explains_bad_settings(repo: Path, scratch_root: Path) -> None:
    setup = ("hostname=bad_name!\nwifi_country=germany\nwifi_ssid=x\nwifi_password=short\n"
             "colour=red\n")
    result = run_first_boot(repo, scratch_root, setup)
    out = result.stdout
    assert "hostname 'bad_name!' ignored: expected letters, digits and '-'" in out
    assert "wifi_country 'germany' ignored: expected a two-letter code" in out
    assert "wifi_password is shorter than 8 characters" in out
    assert "line 5: unknown setting 'colour' ignored" in out
    assert not (scratch_root / "etc/hostname").exists()
    assert not (scratch_root / "etc/NetworkManager").exists()
    assert not (scratch_root / "boot/firmware/maigic-setup.txt").exists()
