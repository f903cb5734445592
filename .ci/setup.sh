# Sourced by .ci/test and .ci/demo: a .venv with tuner and its dependencies installed.
# Re-installs only when pyproject.toml changed since the last install.
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.tuner-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing tuner and its dependencies into .venv ..."
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
  # torch (CPU) is a test-only reference for the optimizers; its wheel may lie in /opt/wheels.
  find_links=()
  [ -d /opt/wheels ] && find_links=(--find-links /opt/wheels)
  .venv/bin/python -m pip install --quiet "${find_links[@]}" -e ".[test]" 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import tuner, torch, sklearn" || { echo "installation failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
