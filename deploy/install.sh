#!/usr/bin/env bash
# Install (or upgrade, or remove) the mAIgic hub on Raspberry Pi OS Bookworm 64-bit.
#
#   sudo deploy/install.sh                        install or upgrade from this checkout
#   sudo MAIGIC_OPENAI_API_KEY=sk-... deploy/install.sh   also store the OpenAI key
#   sudo deploy/install.sh --api-key-file /path/to/key
#   sudo deploy/install.sh --uninstall            remove what the installer added, keep /etc/maigic
#   deploy/install.sh --root /tmp/scratch         install the files into a scratch root (tests,
#                                                 image builds); apt, pip and systemctl are only
#                                                 listed as "planned", never run
#   deploy/install.sh --dry-run                   change nothing, list what would be done
#   deploy/install.sh --no-start                  enable but do not start (image builds in a chroot)
#
# Idempotent: a second run leaves every file it manages untouched (same content, mode and owner),
# and an existing /etc/maigic/maigic.yaml is never overwritten.
set -euo pipefail

readonly SERVICE_USER=maigic
readonly APP_DIR=/opt/maigic
readonly VENV_DIR=/opt/maigic/venv
readonly CONF_DIR=/etc/maigic
readonly CONF_FILE=/etc/maigic/maigic.yaml
readonly KEY_FILE=/etc/maigic/openai.key
readonly STATE_DIR=/var/lib/maigic
readonly UNIT_DIR=/etc/systemd/system
readonly CLI_LINK=/usr/local/bin/maigic
readonly EXTRAS="openai,local,pi"
# libasound2-dev + build-essential: pyalsaaudio has no aarch64 wheel and builds from source.
# bluez-alsa-utils + libasound2-plugin-bluez: the earpiece as ALSA PCMs (they do not pull bluez).
readonly APT_PACKAGES=(
    python3 python3-venv python3-dev build-essential libasound2-dev
    alsa-utils bluez bluez-alsa-utils libasound2-plugin-bluez flite espeak-ng libsndfile1
)
# The PyPI lgpio wheel is broken on the Pi, so the venv sees this one. Raspberry Pi OS has it;
# plain Debian bookworm does not (no GPIO there either).
readonly GPIO_PACKAGE=python3-lgpio
# The Silero VAD model (vad.engine: silero), installed without its torch dependency.
readonly SILERO_VAD="silero-vad>=5,<7"

ROOT=""
DRY_RUN=0
UNINSTALL=0
SKIP_PACKAGES=0
NO_START=0
API_KEY_SOURCE=""
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
    sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

say() { printf 'maigic-install: %s\n' "$*"; }
# past-tense news of a change; --dry-run already printed "would: ..." instead
done_say() { if [[ "$DRY_RUN" -eq 0 ]]; then say "$@"; fi; }
die() { printf 'maigic-install: error: %s\n' "$*" >&2; exit 1; }

parse_args() {
    while (($#)); do
        case "$1" in
            --root) [[ $# -ge 2 ]] || die "--root needs a directory"; ROOT="${2%/}"; shift ;;
            --root=*) ROOT="${1#--root=}"; ROOT="${ROOT%/}" ;;
            --dry-run) DRY_RUN=1 ;;
            --uninstall) UNINSTALL=1 ;;
            --skip-packages) SKIP_PACKAGES=1 ;;
            --no-start) NO_START=1 ;;
            --api-key-file) [[ $# -ge 2 ]] || die "--api-key-file needs a file"; API_KEY_SOURCE="$2"; shift ;;
            --api-key-file=*) API_KEY_SOURCE="${1#--api-key-file=}" ;;
            --source) [[ $# -ge 2 ]] || die "--source needs a directory"; SRC_DIR="$2"; shift ;;
            -h|--help) usage; exit 0 ;;
            *) die "unknown option '$1' (expected --root DIR, --dry-run, --uninstall, --skip-packages, --no-start, --api-key-file FILE, --source DIR)" ;;
        esac
        shift
    done
    if [[ -n "$ROOT" && ! -d "$ROOT" ]]; then
        die "--root $ROOT: expected an existing directory"
    fi
    if [[ -z "$ROOT" && "$DRY_RUN" -eq 0 && "$(id -u)" -ne 0 ]]; then
        die "run as root (sudo $0), or use --dry-run / --root DIR"
    fi
}

# Commands that change the running system (apt, pip, systemctl) run only for a real install;
# with --root or --dry-run they are printed as planned actions.
system() {
    if [[ -n "$ROOT" || "$DRY_RUN" -eq 1 ]]; then
        say "planned: $*"
    else
        "$@"
    fi
}

# File changes happen unless --dry-run.
change() {
    if [[ "$DRY_RUN" -eq 1 ]]; then
        say "would: $*"
    else
        "$@"
    fi
}

has_group() { grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null; }
has_user() { grep -q "^$1:" "$ROOT/etc/passwd" 2>/dev/null; }
# Numeric ids from the target's own passwd/group, so a scratch root gets its own owners.
uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$ROOT/etc/passwd"; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$ROOT/etc/group"; }

id_args() {
    # useradd/usermod --prefix edits a scratch root's /etc files without chrooting.
    if [[ -n "$ROOT" ]]; then printf '%s\n' --prefix "$ROOT"; fi
}

ensure_user() {
    local -a prefix
    mapfile -t prefix < <(id_args)
    if ! has_user "$SERVICE_USER"; then
        change useradd "${prefix[@]}" --system --user-group --home-dir "$STATE_DIR" \
            --no-create-home --shell /usr/sbin/nologin --comment "mAIgic hub" "$SERVICE_USER"
        done_say "created system user $SERVICE_USER"
    fi
    local group
    for group in audio bluetooth gpio; do
        if has_group "$group" && ! grep -Eq "^$group:[^:]*:[^:]*:(.*,)?$SERVICE_USER(,|$)" "$ROOT/etc/group"; then
            change usermod "${prefix[@]}" --append --groups "$group" "$SERVICE_USER"
            done_say "added $SERVICE_USER to group $group"
        fi
    done
}

# owner_ids USER GROUP -> "uid:gid" resolved in the target root
owner_ids() {
    local uid gid
    uid="$(uid_of "$1")"
    gid="$(gid_of "$2")"
    if [[ -z "$uid" || -z "$gid" ]]; then
        # only reachable in --dry-run, before the user exists
        printf '%s:%s\n' "$1" "$2"
    else
        printf '%s:%s\n' "$uid" "$gid"
    fi
}

# ensure_dir PATH MODE USER GROUP
ensure_dir() {
    local path="$ROOT$1" mode="$2" owner
    owner="$(owner_ids "$3" "$4")"
    if [[ ! -d "$path" ]]; then
        change install -d -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$path"
        done_say "created $1"
    elif [[ "$(stat -c '%a %u:%g' "$path")" != "${mode#0} $owner" ]]; then
        change chmod "$mode" "$path"
        change chown "$owner" "$path"
        done_say "fixed mode/owner of $1"
    fi
}

# install_file SOURCE DEST MODE USER GROUP: copy only when content, mode or owner differ.
install_file() {
    local src="$1" dest="$ROOT$2" mode="$3" owner
    owner="$(owner_ids "$4" "$5")"
    [[ -f "$src" ]] || die "missing source file $src (is --source a mAIgic checkout?)"
    if [[ -f "$dest" ]] && cmp -s "$src" "$dest" \
        && [[ "$(stat -c '%a %u:%g' "$dest")" == "${mode#0} $owner" ]]; then
        return 0
    fi
    change install -D -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$src" "$dest"
    done_say "installed $2"
    CHANGED_FILES+=("$2")
}

# ensure_owner PATH MODE USER GROUP: a kept file gets the mode and owner it should have
# (a file left by an earlier install may carry a removed user's bare uid/gid).
ensure_owner() {
    local path="$ROOT$1" mode="$2" owner
    owner="$(owner_ids "$3" "$4")"
    [[ -e "$path" ]] || return 0
    if [[ "$(stat -c '%a %u:%g' "$path")" != "${mode#0} $owner" ]]; then
        change chmod "$mode" "$path"
        change chown "$owner" "$path"
        done_say "fixed mode/owner of $1"
    fi
}

# Files under DIR whose uid or gid has no name in the target root (their user was removed):
# given to root:GROUP, so a later account that reuses the number never owns them.
adopt_orphans() {
    local dir="$1" group="$2" path uid gid owner
    [[ -d "$ROOT$dir" ]] || return 0
    owner="$(owner_ids root "$group")"
    while IFS=' ' read -r uid gid path; do
        if [[ -z "$(awk -F: -v n="$uid" '$3 == n { print $1 }' "$ROOT/etc/passwd")" \
            || -z "$(awk -F: -v n="$gid" '$3 == n { print $1 }' "$ROOT/etc/group")" ]]; then
            change chown "$owner" "$path"
            done_say "gave ${path#"$ROOT"} (owned by bare uid $uid/gid $gid) to root:$group"
        fi
    done < <(find "$ROOT$dir" -printf '%U %G %p\n')
}

remove_path() {
    if [[ -e "$ROOT$1" || -L "$ROOT$1" ]]; then
        change rm -rf -- "$ROOT$1"
        done_say "removed $1"
    fi
}

install_packages() {
    if [[ "$SKIP_PACKAGES" -eq 1 ]]; then
        say "skipping apt and pip (--skip-packages)"
        return 0
    fi
    system apt-get update
    system env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${APT_PACKAGES[@]}"
    # --dry-run asks apt-cache like the real run (read-only); a scratch root only plans it
    if [[ -n "$ROOT" ]] || apt-cache show "$GPIO_PACKAGE" >/dev/null 2>&1; then
        system env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "$GPIO_PACKAGE"
    else
        say "$GPIO_PACKAGE is not in the apt sources (plain Debian?): no GPIO button or LED"
    fi
}

install_venv() {
    if [[ "$SKIP_PACKAGES" -eq 1 ]]; then
        return 0
    fi
    if [[ ! -x "$ROOT$VENV_DIR/bin/python" ]]; then
        system python3 -m venv --system-site-packages "$VENV_DIR"
    fi
    system "$VENV_DIR/bin/pip" install --disable-pip-version-check --upgrade "${SRC_DIR}[$EXTRAS]"
    # vad.engine: silero needs the model file only; the package's own dependencies pull in torch
    system "$VENV_DIR/bin/pip" install --disable-pip-version-check --upgrade --no-deps \
        "$SILERO_VAD"
    # the code may have changed even when no managed file did: the service must restart
    PACKAGES_REFRESHED=1
}

# When a key is stored and the config's openai.api_key_file is still the default null, point it at
# the key so the hub finds it. Any other value is the user's choice and is left alone.
point_config_at_key() {
    local conf="$ROOT$CONF_FILE" first
    [[ -e "$ROOT$KEY_FILE" || "$DRY_RUN" -eq 1 ]] || return 0
    first="$(grep -m1 -E '^[[:space:]]*api_key_file:' "$conf" 2>/dev/null || true)"
    [[ "$first" =~ ^[[:space:]]*api_key_file:[[:space:]]*(null|~)?([[:space:]]+#.*)?$ ]] || return 0
    if [[ "$DRY_RUN" -eq 1 ]]; then
        say "would: set openai.api_key_file: $KEY_FILE in $CONF_FILE"
        return 0
    fi
    # first api_key_file key only (the openai section's); keep indentation and trailing comment
    say "pointing openai.api_key_file in $CONF_FILE at $KEY_FILE"
    sed -E -i "0,/^([[:space:]]*)api_key_file:[[:space:]]*(null|~)?([[:space:]]+#.*)?\$/s||\\1api_key_file: ${KEY_FILE}\\3|" "$conf"
}

install_config() {
    ensure_dir "$CONF_DIR" 0750 root "$SERVICE_USER"
    adopt_orphans "$CONF_DIR" "$SERVICE_USER"
    if [[ -e "$ROOT$CONF_FILE" ]]; then
        say "keeping existing $CONF_FILE"
        ensure_owner "$CONF_FILE" 0640 root "$SERVICE_USER"
    else
        install_file "$SRC_DIR/config/maigic.yaml" "$CONF_FILE" 0640 root "$SERVICE_USER"
    fi
    install_key
    point_config_at_key
}

# The key comes from --api-key-file or $MAIGIC_OPENAI_API_KEY; it is never printed.
install_key() {
    local key="" tmp
    if [[ -n "$API_KEY_SOURCE" ]]; then
        [[ -r "$API_KEY_SOURCE" ]] || die "--api-key-file $API_KEY_SOURCE: expected a readable file"
        key="$(tr -d '[:space:]' < "$API_KEY_SOURCE")"
    elif [[ -n "${MAIGIC_OPENAI_API_KEY:-}" ]]; then
        key="$(printf '%s' "$MAIGIC_OPENAI_API_KEY" | tr -d '[:space:]')"
    fi
    if [[ -z "$key" ]]; then
        if [[ -n "$API_KEY_SOURCE" ]]; then die "--api-key-file $API_KEY_SOURCE is empty"; fi
        # a key kept from an earlier install: the (possibly new) service user must own it
        ensure_owner "$KEY_FILE" 0600 "$SERVICE_USER" "$SERVICE_USER"
        return 0
    fi
    tmp="$(umask 077 && mktemp)"
    printf '%s\n' "$key" > "$tmp"
    install_file "$tmp" "$KEY_FILE" 0600 "$SERVICE_USER" "$SERVICE_USER"
    rm -f -- "$tmp"
}

install_units() {
    install_file "$SRC_DIR/deploy/systemd/maigic.service" "$UNIT_DIR/maigic.service" 0644 root root
    if has_group gpio; then
        install_file "$SRC_DIR/deploy/systemd/maigic-gpio.conf" \
            "$UNIT_DIR/maigic.service.d/10-gpio.conf" 0644 root root
    fi
    install_file "$SRC_DIR/deploy/bluealsa/maigic-hfp.conf" \
        "$UNIT_DIR/bluealsa.service.d/maigic-hfp.conf" 0644 root root
}

install_cli_link() {
    if [[ "$(readlink "$ROOT$CLI_LINK" 2>/dev/null || true)" != "$VENV_DIR/bin/maigic" ]]; then
        change mkdir -p "$ROOT$(dirname "$CLI_LINK")"
        change ln -sfn "$VENV_DIR/bin/maigic" "$ROOT$CLI_LINK"
        done_say "linked $CLI_LINK"
    fi
}

start_services() {
    if [[ "$NO_START" -eq 1 ]]; then
        # a chroot has no running systemd: enabling only creates the wants/ symlinks
        system systemctl enable maigic.service
        return 0
    fi
    system systemctl daemon-reload
    if [[ " ${CHANGED_FILES[*]} " == *" $UNIT_DIR/bluealsa.service.d/maigic-hfp.conf "* ]]; then
        # no Bluetooth adapter (yet) must not stop the install: the hub waits for the earpiece
        system systemctl restart bluealsa.service \
            || say "warning: bluealsa did not restart (no Bluetooth adapter?); the hub starts" \
                "anyway and waits for the earpiece: see 'systemctl status bluealsa'"
    fi
    system systemctl enable --now maigic.service
    if ((${#CHANGED_FILES[@]} || PACKAGES_REFRESHED)); then
        system systemctl try-restart maigic.service
    fi
}

do_install() {
    CHANGED_FILES=()
    PACKAGES_REFRESHED=0
    install_packages
    ensure_user
    ensure_dir "$APP_DIR" 0755 root root
    ensure_dir "$STATE_DIR" 0700 "$SERVICE_USER" "$SERVICE_USER"
    install_venv
    install_cli_link
    install_config
    install_units
    start_services
    if [[ "$DRY_RUN" -eq 1 ]]; then
        say "dry run: ${#CHANGED_FILES[@]} file(s) would change; nothing was done"
    elif [[ ${#CHANGED_FILES[@]} -eq 0 ]]; then
        say "done: no file changed"
    else
        say "done: ${#CHANGED_FILES[@]} file(s) changed; check with 'sudo maigic doctor'"
    fi
}

do_uninstall() {
    system systemctl disable --now maigic.service || true
    remove_path "$UNIT_DIR/maigic.service"
    remove_path "$UNIT_DIR/maigic.service.d/10-gpio.conf"
    remove_path "$UNIT_DIR/bluealsa.service.d/maigic-hfp.conf"
    system systemctl daemon-reload
    system systemctl try-restart bluealsa.service || true
    remove_path "$CLI_LINK"
    remove_path "$APP_DIR"
    remove_path "$STATE_DIR"
    if [[ -d "$ROOT$CONF_DIR" ]]; then
        # the kept config and key must not stay owned by a uid/gid that a later account may reuse
        change chown -R root:root "$ROOT$CONF_DIR"
        done_say "gave $CONF_DIR to root (the $SERVICE_USER user is removed)"
    fi
    local -a prefix
    mapfile -t prefix < <(id_args)
    if has_user "$SERVICE_USER"; then
        change userdel "${prefix[@]}" "$SERVICE_USER"
        done_say "removed user $SERVICE_USER"
    fi
    if has_group "$SERVICE_USER"; then
        # userdel keeps a user group that still has members; nothing else uses this one
        change groupdel "${prefix[@]}" "$SERVICE_USER"
        done_say "removed group $SERVICE_USER"
    fi
    say "kept $CONF_DIR (your config and key, now owned by root); apt packages are left installed"
}

main() {
    parse_args "$@"
    if [[ "$UNINSTALL" -eq 1 ]]; then
        do_uninstall
    else
        do_install
    fi
}

main "$@"
