#!/usr/bin/env bash
# Renders a HeadGuard HTML report in headless Chromium (Debian's `chromium`) and saves a PNG,
# to look at what a reader sees. Usage: scripts/report-screenshot.sh report.html out.png [height]
set -euo pipefail
report="$(realpath "$1")"; out="$(realpath -m "$2")"; height="${3:-3000}"
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "report-screenshot: chromium not found (apt-get install chromium)" >&2; exit 2; }
profile="$(mktemp -d)"; trap 'rm -rf "$profile"' EXIT
# The flags keep Chromium off the network (this machine has none) and out of the user's profile.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1280,"$height" --screenshot="$out" "file://$report" 2>/dev/null
[ -s "$out" ] || { echo "report-screenshot: no screenshot written" >&2; exit 1; }
echo "$out"
