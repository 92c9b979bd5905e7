#!/usr/bin/env bash
# The one check that every external program and file the tests use is present, read from
# tests/host-tools.txt (program or absolute path, Debian package, who needs it).
#
#   scripts/check-tools.sh            check; exit 1 naming each missing program and package
#   scripts/check-tools.sh packages   print the Debian packages the list names, one a line
#
# A program name is looked up on PATH (`command -v`), never run: some have no --version.
# An absolute path (a glob is allowed) must exist.
set -euo pipefail
list="$(dirname "$0")/../tests/host-tools.txt"
[ -r "$list" ] || { echo "check-tools: cannot read $list" >&2; exit 2; }

# The list's entries as "WHAT PACKAGE WHY..." lines, comments and blank lines dropped.
entries() {
  grep -v '^[[:space:]]*\(#\|$\)' "$list"
}

if [ "${1:-}" = "packages" ]; then
  entries | awk '{print $2}' | sort -u
  exit 0
fi

missing=0
while read -r what package why; do
  if [[ "$what" == /* ]]; then
    # shellcheck disable=SC2086  # the path may be a glob, expanded here on purpose
    compgen -G "$what" >/dev/null && continue
  else
    command -v "$what" >/dev/null 2>&1 && continue
  fi
  echo "missing: $what (Debian package $package; needed by: $why)" >&2
  missing=$((missing + 1))
done < <(entries)

if [ "$missing" -gt 0 ]; then
  echo "check-tools: $missing required program(s) or file(s) missing; install the packages" \
    "named above (apt-get install --no-install-recommends PACKAGE...) or run ./scripts/test.sh," \
    "which installs them" >&2
  exit 1
fi
echo "check-tools: all $(entries | wc -l) programs and files of tests/host-tools.txt present"
