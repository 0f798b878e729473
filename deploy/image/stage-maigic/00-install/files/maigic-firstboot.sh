#!/usr/bin/env bash
# Apply the boot partition's maigic-setup.txt (hostname, ssh, Wi-Fi, OpenAI key), then delete it.
# Run once at first boot by maigic-firstboot.service. MAIGIC_ROOT points it at a scratch root for
# tests (system commands are then only listed as "planned").
set -euo pipefail

ROOT="${MAIGIC_ROOT:-}"
SETUP="$ROOT/boot/firmware/maigic-setup.txt"
INSTALLER="${MAIGIC_INSTALLER:-/opt/maigic/src/deploy/install.sh}"
KNOWN="hostname ssh wifi_country wifi_ssid wifi_password openai_api_key"
declare -A setting=()

log() { printf 'maigic-firstboot: %s\n' "$*"; }

system() {
    if [[ -n "$ROOT" ]]; then log "planned: $*"; else "$@"; fi
}

# KEY=VALUE lines, never sourced: the file sits on a FAT partition anyone can write to.
read_settings() {
    local line key number=0
    while IFS= read -r line || [[ -n "$line" ]]; do
        number=$((number + 1))
        line="${line%$'\r'}"
        [[ -z "${line//[[:space:]]/}" || "$line" =~ ^[[:space:]]*# ]] && continue
        if [[ "$line" != *=* ]]; then
            log "line $number: ignored, expected name=value"
            continue
        fi
        key="${line%%=*}"
        key="${key//[[:space:]]/}"
        if [[ " $KNOWN " != *" $key "* ]]; then
            log "line $number: unknown setting '$key' ignored (expected one of: $KNOWN)"
            continue
        fi
        setting[$key]="${line#*=}"
    done < "$SETUP"
}

apply_hostname() {
    local name="${setting[hostname]:-}"
    [[ -n "$name" ]] || return 0
    if [[ ! "$name" =~ ^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$ ]]; then
        log "hostname '$name' ignored: expected letters, digits and '-' (at most 63)"
        return 0
    fi
    printf '%s\n' "$name" > "$ROOT/etc/hostname"
    if grep -q '^127\.0\.1\.1' "$ROOT/etc/hosts" 2>/dev/null; then
        sed -i -E "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$name/" "$ROOT/etc/hosts"
    else
        printf '127.0.1.1\t%s\n' "$name" >> "$ROOT/etc/hosts"
    fi
    system hostname "$name"
    log "hostname set to $name"
}

apply_ssh() {
    case "${setting[ssh]:-}" in
        "") ;;
        yes|true|on|1) system systemctl enable --now ssh.service; log "ssh enabled" ;;
        no|false|off|0) system systemctl disable --now ssh.service; log "ssh disabled" ;;
        *) log "ssh='${setting[ssh]}' ignored: expected yes or no" ;;
    esac
}

apply_wifi() {
    local ssid="${setting[wifi_ssid]:-}" psk="${setting[wifi_password]:-}"
    local country="${setting[wifi_country]:-}" file uuid
    if [[ -n "$country" ]]; then
        if [[ "$country" =~ ^[A-Z]{2}$ ]]; then
            system raspi-config nonint do_wifi_country "$country"
        else
            log "wifi_country '$country' ignored: expected a two-letter code such as GB"
        fi
    fi
    [[ -n "$ssid" ]] || return 0
    if [[ -n "$psk" && ${#psk} -lt 8 ]]; then
        log "wifi_password is shorter than 8 characters: WPA needs 8 to 63; Wi-Fi not set"
        return 0
    fi
    file="$ROOT/etc/NetworkManager/system-connections/maigic-wifi.nmconnection"
    uuid="$(cat /proc/sys/kernel/random/uuid)"
    install -d -m 0755 "$(dirname "$file")"
    (
        umask 077
        printf '[connection]\nid=maigic-wifi\nuuid=%s\ntype=wifi\nautoconnect=true\n\n' "$uuid"
        printf '[wifi]\nmode=infrastructure\nssid=%s\n\n' "$ssid"
        if [[ -n "$psk" ]]; then
            printf '[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n\n' "$psk"
        fi
        printf '[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n'
    ) > "$file"
    chmod 0600 "$file"
    system rfkill unblock wifi
    log "Wi-Fi network '$ssid' configured"
}

# The key goes through the installer, which stores it 0600 for the maigic user and points the
# config at it; the key itself is never printed.
apply_key() {
    local key="${setting[openai_api_key]:-}" tmp
    [[ -n "$key" ]] || return 0
    tmp="$(umask 077 && mktemp)"
    printf '%s\n' "$key" > "$tmp"
    local -a args=(--skip-packages --no-start --api-key-file "$tmp")
    if [[ -n "$ROOT" ]]; then args+=(--root "$ROOT"); fi
    if "$INSTALLER" "${args[@]}"; then
        log "OpenAI API key stored"
    else
        log "storing the OpenAI key failed; add it later with: sudo $INSTALLER --api-key-file FILE"
    fi
    rm -f -- "$tmp"
}

main() {
    if [[ ! -f "$SETUP" ]]; then
        log "no $SETUP: nothing to do"
        return 0
    fi
    read_settings
    apply_hostname
    apply_ssh
    apply_wifi
    apply_key
    # the file held secrets: overwrite before deleting (best effort on FAT)
    shred -u -- "$SETUP" 2>/dev/null || rm -f -- "$SETUP"
    log "applied and removed $SETUP"
}

main "$@"
