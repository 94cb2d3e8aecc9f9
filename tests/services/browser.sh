#!/usr/bin/env bash
# What the browser tests and the hall display's voice need from Debian: Chromium (driven
# by Playwright through `executable_path`; Playwright's own browser download does not
# work offline) and espeak-ng (announcements). Also Node.js and npm for the asset
# build. Installs the missing packages when run as root; prints the Chromium path.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
    # shellcheck source=tests/services/apt.sh
    . "$(dirname "$0")/apt.sh"
    apt_install browser.sh "${need[@]}"
fi
command -v chromium
