#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any is missing:
# chromium (browser tests through Playwright), libzbar0 (QR decoding), poppler-utils (PDF pages
# to images, text), poppler-data (Chinese CID text), fonts-noto-cjk (Chinese text in rendered pages),
# redis-server and PostgreSQL's server programs (the shared-limit and outage tests).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
ldconfig -p | grep -q 'libzbar\.so\.0' || missing+=(libzbar0)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
# poppler's CMaps for Adobe's Chinese CID fonts: pdftotext reads the statements' Chinese text.
[[ -d /usr/share/poppler/cMap/Adobe-GB1 ]] || missing+=(poppler-data)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing+=(fonts-noto-cjk)
command -v redis-server >/dev/null || missing+=(redis-server)
# The database-outage test stops and starts a throw-away PostgreSQL cluster of its own (initdb,
# pg_ctl; as root through runuser); the SQLite read-only test makes files immutable (chattr) and
# runs a server without root's file-mode override (setpriv, util-linux like runuser).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v chattr >/dev/null || missing+=(e2fsprogs)
command -v runuser >/dev/null || missing+=(util-linux)
((${#missing[@]} == 0)) && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
