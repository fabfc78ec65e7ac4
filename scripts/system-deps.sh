#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any is missing:
# chromium (browser tests through Playwright), libzbar0 (QR decoding), poppler-utils (PDF pages
# to images, text), poppler-data (Chinese CID text) and fonts-noto-cjk (Chinese text in rendered pages);
# node and npm (the till's browser packages and its JS tests). `system-deps.sh node` checks only
# node and npm (all that `make run` needs).
set -euo pipefail
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [[ "${1:-}" != node ]]; then
command -v chromium >/dev/null || missing+=(chromium)
ldconfig -p | grep -q 'libzbar\.so\.0' || missing+=(libzbar0)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
# poppler's CMaps for Adobe's Chinese CID fonts: pdftotext reads the statements' Chinese text.
[[ -d /usr/share/poppler/cMap/Adobe-GB1 ]] || missing+=(poppler-data)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing+=(fonts-noto-cjk)
command -v redis-server >/dev/null || missing+=(redis-server)
fi
((${#missing[@]} == 0)) && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
