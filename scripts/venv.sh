# Sourced by start.sh and .ci/run: make sure ./.venv is a virtual environment with a
# working pip, and install Photon into it when pyproject.toml is newer than the last
# install. A venv, not the system Python: Debian 12 and Ubuntu 23.04+ refuse
# `pip install` there (PEP 668, "externally-managed-environment").
#
#   ensure_venv            create ./.venv, or rebuild one left without pip
#   install_photon EXTRA   pip install -e ".[EXTRA]" (EXTRA may be empty) if not current

PHOTON_PYTHON="${PHOTON_PYTHON:-python3}"

venv_fail() {
  echo "photon: $*" >&2
  exit 1
}

ensure_venv() {
  if [ -x .venv/bin/python ] && .venv/bin/python -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  if [ -e .venv ]; then
    # e.g. `python3 -m venv` on Debian without python3-venv leaves one with no pip
    echo "::: .venv has no working pip: rebuilding it" >&2
    rm -rf .venv
  fi
  command -v "$PHOTON_PYTHON" >/dev/null 2>&1 \
    || venv_fail "$PHOTON_PYTHON not found: install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"
  "$PHOTON_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || venv_fail "Photon needs Python 3.11 or newer; $PHOTON_PYTHON is $("$PHOTON_PYTHON" -V 2>&1)"
  if ! "$PHOTON_PYTHON" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    venv_fail "$PHOTON_PYTHON cannot create a virtual environment: install its venv module (Debian/Ubuntu: apt-get install python3-venv), then run this again"
  fi
}

install_photon() {
  local extra="${1:-}" stamp=".venv/.photon-installed${1:+-$1}"
  if [ -e "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
    return 0
  fi
  echo "::: installing Photon${extra:+ with its $extra extras} into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra:+[$extra]}" \
    || venv_fail "pip could not install Photon into .venv (see above)"
  touch "$stamp"
}
