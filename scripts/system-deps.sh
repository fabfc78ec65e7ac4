#!/usr/bin/env bash
# Install the Debian packages the service and its test suite need, if any is missing.
#   scripts/system-deps.sh            everything `make test` needs
#   scripts/system-deps.sh --runtime  only what the service itself needs (`make run`)
#   scripts/system-deps.sh --bench    ... and the load generator the benchmarks use (wrk)
# Runtime: fonts-wqy-microhei (the CJK TrueType font every PDF embeds; production refuses to
# start without it), nodejs and npm (the till's browser packages, from package-lock.json).
# Tests: chromium (browser tests through Playwright), libzbar0 (QR decoding), poppler-utils (PDF pages to images, text, fonts), poppler-data (CMaps of Adobe's Chinese CID
# fonts, for the control PDF that does not embed its font), fonts-dejavu-core (the only fonts of the
# "machine without Chinese fonts" the PDF render comparison imitates), fonts-noto-cjk (Chinese
# text in the browser's screenshots), redis-server, and for the outage tests PostgreSQL's server
# programs (a throw-away cluster of the test's own: initdb, pg_ctl; as root through runuser),
# chattr (e2fsprogs: SQLite files made immutable), setpriv (util-linux: a server without
# root's file-mode override) and nginx (the reverse proxy in front of two servers, with the
# project's config/nginx/exchange.conf).
set -euo pipefail
missing=()
# (`grep >/dev/null`, not `grep -q`: under pipefail, -q stops reading early and the SIGPIPE of
# the command before it counts as "missing".)
[[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || missing+=(fonts-wqy-microhei)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [[ "${1:-}" == "--bench" ]]; then
  command -v wrk >/dev/null || missing+=(wrk)
fi
if [[ "${1:-}" != "--runtime" ]]; then
  command -v chromium >/dev/null || missing+=(chromium)
  ldconfig -p | grep 'libzbar\.so\.0' >/dev/null || missing+=(libzbar0)
  command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  [[ -d /usr/share/poppler/cMap/Adobe-GB1 ]] || missing+=(poppler-data)
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
  fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null || missing+=(fonts-noto-cjk)
  command -v redis-server >/dev/null || missing+=(redis-server)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v chattr >/dev/null || missing+=(e2fsprogs)
  command -v runuser >/dev/null && command -v setpriv >/dev/null || missing+=(util-linux)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
fi
((${#missing[@]} == 0)) && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
