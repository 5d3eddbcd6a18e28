# Sourced by the scripts: create .venv and install mixops with the local backend and dev tools.
if [ ! -x .venv/bin/mixops ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[local,dev]'
fi
