"""deploy/install.sh run for real against a scratch root: files, modes, owners, idempotence."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

KEY = "sk-test-not-a-real-key-0123456789"

Snapshot = dict[str, tuple[int, int, int, str, int]]


def run_installer(
    repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": os.environ["PATH"], "LC_ALL": "C"}
    full_env.update(env or {})
    result = subprocess.run(
        ["bash", str(repo / "deploy" / "install.sh"), *args],
        capture_output=True, text=True, env=full_env, timeout=60, check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def snapshot(root: Path) -> Snapshot:
    """Everything that would make two runs differ: mode, owner, content, mtime."""
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            digest = "-> " + os.readlink(path)
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            digest = "dir"
        found[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, digest,
                                              st.st_mtime_ns)
    return found


def ids(root: Path, name: str) -> tuple[int, int]:
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no user {name} in {root}/etc/passwd")


def members(root: Path, group: str) -> list[str]:
    for line in (root / "etc" / "group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == group:
            return [m for m in fields[3].split(",") if m]
    raise AssertionError(f"no group {group}")


def mode_owner(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def test_fresh_install_lays_out_files_users_and_permissions(repo: Path, scratch_root: Path) -> None:
    result = run_installer(repo, "--root", str(scratch_root),
                           env={"MAIGIC_OPENAI_API_KEY": KEY})
    uid, gid = ids(scratch_root, "maigic")
    assert uid != 0
    passwd = (scratch_root / "etc/passwd").read_text().splitlines()
    assert [line for line in passwd if line.startswith("maigic:")] == [
        f"maigic:x:{uid}:{gid}:mAIgic hub:/var/lib/maigic:/usr/sbin/nologin"
    ]
    for group in ("audio", "bluetooth", "gpio"):
        assert "maigic" in members(scratch_root, group), group

    etc = scratch_root / "etc"
    assert mode_owner(etc / "maigic") == (0o750, 0, gid)
    assert mode_owner(etc / "maigic/maigic.yaml") == (0o640, 0, gid)
    assert mode_owner(etc / "maigic/openai.key") == (0o600, uid, gid)
    assert (etc / "maigic/openai.key").read_text() == KEY + "\n"
    assert mode_owner(scratch_root / "var/lib/maigic") == (0o700, uid, gid)
    units = etc / "systemd/system"
    assert (units / "maigic.service").read_bytes() == (
        repo / "deploy/systemd/maigic.service").read_bytes()
    assert mode_owner(units / "maigic.service") == (0o644, 0, 0)
    assert "SupplementaryGroups=gpio" in (units / "maigic.service.d/10-gpio.conf").read_text()
    assert "-p hfp-ag" in (units / "bluealsa.service.d/maigic-hfp.conf").read_text()
    assert os.readlink(scratch_root / "usr/local/bin/maigic") == "/opt/maigic/venv/bin/maigic"

    # a fresh config is the shipped default pointed at the stored key, nothing else changed
    shipped = (repo / "config/maigic.yaml").read_text().splitlines()
    installed = (etc / "maigic/maigic.yaml").read_text().splitlines()
    changed = [(a, b) for a, b in zip(shipped, installed, strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0][1].strip().startswith("api_key_file: /etc/maigic/openai.key")

    # the system-changing steps are planned, not run, and the key never reaches the output
    out = result.stdout
    assert KEY not in out + result.stderr
    assert "planned: python3 -m venv --system-site-packages /opt/maigic/venv" in out
    assert f"install --disable-pip-version-check --upgrade {repo}[openai,local,pi]" in out
    assert "apt-get install -y --no-install-recommends" in out
    assert "bluez-alsa-utils" in out and "python3-lgpio" in out
    assert "planned: systemctl enable --now maigic.service" in out


def test_second_run_changes_nothing(repo: Path, scratch_root: Path) -> None:
    env = {"MAIGIC_OPENAI_API_KEY": KEY}
    run_installer(repo, "--root", str(scratch_root), env=env)
    before = snapshot(scratch_root)
    result = run_installer(repo, "--root", str(scratch_root), env=env)
    assert snapshot(scratch_root) == before
    assert "done: no file changed" in result.stdout
    assert "installed" not in result.stdout
    assert "restart bluealsa" not in result.stdout  # its override did not change
    # the package refresh may have brought new code: the hub restarts to run it
    assert "planned: systemctl try-restart maigic.service" in result.stdout
    skipped = run_installer(repo, "--root", str(scratch_root), "--skip-packages", env=env)
    assert "try-restart" not in skipped.stdout and "pip install" not in skipped.stdout


def test_rerun_keeps_the_users_config_and_restores_a_tampered_unit(
    repo: Path, scratch_root: Path
) -> None:
    run_installer(repo, "--root", str(scratch_root))
    config = scratch_root / "etc/maigic/maigic.yaml"
    edited = config.read_text() + "# my own note\n"
    config.write_text(edited)
    unit = scratch_root / "etc/systemd/system/maigic.service"
    unit.write_text("[Service]\nExecStart=/bin/false\n")
    result = run_installer(repo, "--root", str(scratch_root))
    assert config.read_text() == edited
    assert "keeping existing /etc/maigic/maigic.yaml" in result.stdout
    assert unit.read_bytes() == (repo / "deploy/systemd/maigic.service").read_bytes()
    assert "planned: systemctl try-restart maigic.service" in result.stdout


def test_without_key_the_config_is_the_shipped_default(repo: Path, scratch_root: Path) -> None:
    run_installer(repo, "--root", str(scratch_root))
    assert not (scratch_root / "etc/maigic/openai.key").exists()
    installed = scratch_root / "etc/maigic/maigic.yaml"
    assert installed.read_bytes() == (repo / "config/maigic.yaml").read_bytes()


def test_key_added_later_fills_only_a_null_key_path(repo: Path, scratch_root: Path) -> None:
    run_installer(repo, "--root", str(scratch_root))
    config = scratch_root / "etc/maigic/maigic.yaml"
    run_installer(repo, "--root", str(scratch_root), env={"MAIGIC_OPENAI_API_KEY": KEY})
    assert "api_key_file: /etc/maigic/openai.key" in config.read_text()
    # a path the user chose is theirs: a new key is stored but the config is not touched
    chosen = config.read_text().replace("/etc/maigic/openai.key", "/home/pi/my.key")
    config.write_text(chosen)
    run_installer(repo, "--root", str(scratch_root), env={"MAIGIC_OPENAI_API_KEY": KEY + "x"})
    assert config.read_text() == chosen
    assert (scratch_root / "etc/maigic/openai.key").read_text() == KEY + "x\n"


def test_key_from_file_flag(repo: Path, scratch_root: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"  {KEY}\n\n")
    result = run_installer(repo, "--root", str(scratch_root), "--api-key-file", str(key_file))
    assert (scratch_root / "etc/maigic/openai.key").read_text() == KEY + "\n"
    assert KEY not in result.stdout + result.stderr


def test_plain_debian_without_gpio_group_gets_no_gpio_dropin(
    repo: Path, scratch_root: Path
) -> None:
    group = scratch_root / "etc/group"
    group.write_text("".join(line + "\n" for line in group.read_text().splitlines()
                             if not line.startswith("gpio:")))
    run_installer(repo, "--root", str(scratch_root))
    assert not (scratch_root / "etc/systemd/system/maigic.service.d").exists()
    assert "maigic" in members(scratch_root, "audio")


def test_dry_run_changes_nothing(repo: Path, scratch_root: Path) -> None:
    before = snapshot(scratch_root)
    result = run_installer(repo, "--root", str(scratch_root), "--dry-run",
                           env={"MAIGIC_OPENAI_API_KEY": KEY})
    assert snapshot(scratch_root) == before
    assert "would: useradd" in result.stdout
    assert "would: install -D -m 0644" in result.stdout
    assert "would change; nothing was done" in result.stdout
    assert "installed" not in result.stdout and "created" not in result.stdout


def test_uninstall_removes_what_it_added_but_keeps_the_config(
    repo: Path, scratch_root: Path
) -> None:
    run_installer(repo, "--root", str(scratch_root), env={"MAIGIC_OPENAI_API_KEY": KEY})
    (scratch_root / "opt/maigic/venv/bin").mkdir(parents=True)
    result = run_installer(repo, "--root", str(scratch_root), "--uninstall")
    units = scratch_root / "etc/systemd/system"
    assert not (units / "maigic.service").exists()
    assert not (units / "maigic.service.d/10-gpio.conf").exists()
    assert not (units / "bluealsa.service.d/maigic-hfp.conf").exists()
    assert not (scratch_root / "opt/maigic").exists()
    assert not (scratch_root / "var/lib/maigic").exists()
    assert not (scratch_root / "usr/local/bin/maigic").is_symlink()
    assert "\nmaigic:" not in (scratch_root / "etc/passwd").read_text()
    assert (scratch_root / "etc/maigic/maigic.yaml").is_file()
    assert (scratch_root / "etc/maigic/openai.key").read_text() == KEY + "\n"
    assert "planned: systemctl disable --now maigic.service" in result.stdout
    # nothing kept is left to a bare uid/gid that a later account could be given
    assert "\nmaigic:" not in (scratch_root / "etc/group").read_text()
    for kept in ("etc/maigic", "etc/maigic/maigic.yaml", "etc/maigic/openai.key"):
        assert mode_owner(scratch_root / kept)[1:] == (0, 0), kept
    assert mode_owner(scratch_root / "etc/maigic/openai.key")[0] == 0o600


def test_reinstall_after_uninstall_with_the_old_uid_reused(
    repo: Path, scratch_root: Path
) -> None:
    run_installer(repo, "--root", str(scratch_root), env={"MAIGIC_OPENAI_API_KEY": KEY})
    old_uid, _ = ids(scratch_root, "maigic")
    run_installer(repo, "--root", str(scratch_root), "--uninstall")
    # another system account now has the number the maigic user had
    subprocess.run(["useradd", "--prefix", str(scratch_root), "--system", "--uid", str(old_uid),
                    "--user-group", "--no-create-home", "other"], check=True, timeout=30)
    # a file left owned by a bare number (an install from before this fix) is adopted too
    stray = scratch_root / "etc/maigic/maigic.yaml.bak"
    stray.write_text("old\n")
    os.chown(stray, 4242, 4243)
    result = run_installer(repo, "--root", str(scratch_root))  # the key is not passed again
    uid, gid = ids(scratch_root, "maigic")
    assert uid != old_uid
    conf = scratch_root / "etc/maigic"
    assert mode_owner(conf) == (0o750, 0, gid)
    assert mode_owner(conf / "maigic.yaml") == (0o640, 0, gid)
    assert mode_owner(conf / "openai.key") == (0o600, uid, gid)
    assert mode_owner(stray)[1:] == (0, gid)
    assert "owned by bare uid 4242/gid 4243" in result.stdout
    other_uid, other_gid = ids(scratch_root, "other")
    for path in [conf, *conf.iterdir()]:
        assert other_uid != path.stat().st_uid and other_gid != path.stat().st_gid, path
    # and then it settles: a further run changes nothing
    before = snapshot(scratch_root)
    assert "done: no file changed" in run_installer(repo, "--root", str(scratch_root)).stdout
    assert snapshot(scratch_root) == before


def test_dry_run_plans_the_gpio_package_only_where_apt_has_it(repo: Path) -> None:
    # the real run asks apt-cache; the dry run must list what the real run would do
    available = subprocess.run(["apt-cache", "show", "python3-lgpio"], capture_output=True,
                               timeout=60, check=False).returncode == 0
    result = run_installer(repo, "--dry-run")
    planned = "apt-get install -y --no-install-recommends python3-lgpio" in result.stdout
    assert planned == available
    assert ("not in the apt sources" in result.stdout) != available


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "unknown option '--bogus' (expected --root DIR"),
        (["--root", "/nonexistent/dir"], "--root /nonexistent/dir: expected an existing directory"),
        (["--api-key-file", "/nonexistent/key", "--dry-run"], "expected a readable file"),
    ],
)
def test_bad_arguments_are_explained(repo: Path, args: list[str], expected: str) -> None:
    result = run_installer(repo, *args, check=False)
    assert result.returncode == 1
    assert expected in result.stderr


def test_installer_and_image_scripts_are_shellcheck_clean(repo: Path) -> None:
    scripts = [repo / "deploy/install.sh", *sorted((repo / "deploy/image").rglob("*.sh"))]
    assert len(scripts) >= 4
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "apt-get install shellcheck"
    result = subprocess.run([shellcheck, "--shell=bash", *map(str, scripts)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout
