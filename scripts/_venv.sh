# Sourced by the scripts: create .venv and install mixops with the local backend and dev tools,
# at the exact versions of constraints.txt (refresh them with scripts/lock.sh).
if [ ! -x .venv/bin/mixops ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# Cheap when nothing changed; keeps an older .venv in line with constraints.txt.
.venv/bin/python -m pip install -q -c constraints.txt -e '.[local,dev]'
