# Shared by scripts/run and scripts/test. Sourced, not executed.
set -euo pipefail
# Some machines (CI's among them) set PYTHONDONTWRITEBYTECODE=1: each Python process then compiles
# the project again and pytest rewrites every test module's asserts again (per pytest process, 7.1 s
# of CPU to collect the suite cold, 3.7 s with the cache). The scripts start a dozen of them (pytest
# processes, migrate, collectstatic, gunicorn and the task workers of the production tests).
unset PYTHONDONTWRITEBYTECODE
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are missing, and only those (keeps re-runs fast).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "→ Paquets Debian à installer : ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# A virtualenv in .venv with the pinned requirements (a no-op when already satisfied).
ensure_venv() {
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    apt_install python3-venv
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=.venv/.requirements.sha
  local want
  want="$(sha256sum requirements.txt | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "→ Installation des dépendances Python (requirements.txt)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "is ignored" || true
    echo "$want" > "$stamp"
  fi
}

# System libraries WeasyPrint needs for PDFs (present on most machines already).
ensure_pdf_libs() {
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
}

# The Nu HTML Checker (vnu.jar, from npm's vnu-jar) and Java to run it: tests/test_vnu.py checks
# every page with it. Kept in .cache/ between runs; VNU_JAR tells the test where it is.
VNU_VERSION=26.9.27
ensure_vnu() {
  command -v java >/dev/null || apt_install default-jre-headless
  local jar=".cache/vnu-$VNU_VERSION/vnu.jar"
  if [ ! -f "$jar" ]; then
    command -v npm >/dev/null || apt_install npm
    echo "→ Téléchargement du validateur HTML vnu $VNU_VERSION"
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "vnu-jar@$VNU_VERSION" >/dev/null && tar xzf "vnu-jar-$VNU_VERSION.tgz")
    mkdir -p "$(dirname "$jar")"
    mv "$tmp/package/build/dist/vnu.jar" "$jar"
    rm -rf "$tmp"
  fi
  export VNU_JAR="$ROOT/$jar"
}
