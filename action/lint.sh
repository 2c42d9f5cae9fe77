#!/usr/bin/env bash
# The action's lint step: `stockade lint` on the paths given, the findings as text in the
# log, as SARIF in $STOCKADE_SARIF (for upload-sarif) and as Markdown in the job summary;
# exits as lint does (0 clean, 1 findings at or above fail-on, 2 bad input). With a base
# ref, `stockade diff --base` then compares the paths with it: its Markdown goes to the log
# and the job summary, and the output `changed` says whether connections changed (a
# change does not fail the step; a comparison that cannot be made does, with exit 2).
set -uo pipefail
stockade="$RUNNER_TEMP/stockade-venv/bin/stockade"
sarif="${STOCKADE_SARIF:-stockade.sarif}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
read -r -a paths <<< "$(printf '%s' "${STOCKADE_PATHS:-.}" | tr '\n' ' ')"
echo "sarif-file=$sarif" >> "${GITHUB_OUTPUT:-/dev/null}"

errors="$(mktemp)"
"$stockade" lint "${paths[@]}" --fail-on "${STOCKADE_FAIL_ON:-warning}" \
  --sarif "$sarif" --summary "$summary" 2> "$errors"
code=$?
cat "$errors" >&2
if [ "$code" -eq 2 ]; then
  {
    printf '## stockade lint\n\nThe input could not be analysed (exit 2):\n\n```\n'
    cat "$errors"
    printf '```\n'
  } >> "$summary"
fi
rm -f "$errors"

if [ -n "${STOCKADE_BASE:-}" ]; then
  report="$(mktemp)"
  errors="$(mktemp)"
  "$stockade" diff --base "$STOCKADE_BASE" "${paths[@]}" -o md > "$report" 2> "$errors"
  diff_code=$?
  cat "$report"
  cat "$errors" >&2
  if [ "$diff_code" -eq 2 ]; then
    {
      printf '\n## stockade diff\n\nThe comparison with %s could not be made (exit 2; a ' \
        "$STOCKADE_BASE"
      printf 'shallow checkout lacks the base: fetch it, or check out with fetch-depth: 0):\n'
      printf '\n```\n'
      cat "$errors"
      printf '```\n'
    } >> "$summary"
    [ "$code" -eq 0 ] && code=2
  else
    { printf '\n'; cat "$report"; } >> "$summary"
    if [ "$diff_code" -eq 1 ]; then changed=true; else changed=false; fi
    echo "changed=$changed" >> "${GITHUB_OUTPUT:-/dev/null}"
  fi
  rm -f "$report" "$errors"
fi
exit "$code"
