#!/usr/bin/env bash
# What the browser tests and the hall display's voice need from Debian: Chromium (driven
# by Playwright through `executable_path`; Playwright's own browser download does not
# work offline) and espeak-ng (announcements). Also Node.js and npm for the asset
# build. Installs the missing packages when run as root; prints the Chromium path.
set -euo pipefail

say() { echo "browser.sh: $*" >&2; }

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "missing ${need[*]}: install them (apt-get install ${need[*]})"; exit 1; }
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
        apt-get update >/dev/null 2>&1
        apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
    }
fi
command -v chromium
