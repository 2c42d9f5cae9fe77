#!/usr/bin/env bash
# The action's lint step: `stockade lint` on the paths given, the findings as text in the
# log, as SARIF in $STOCKADE_SARIF (for upload-sarif) and as Markdown in the job summary;
# exits as lint does (0 clean, 1 findings at or above fail-on, 2 bad input).
set -uo pipefail
stockade="$RUNNER_TEMP/stockade-venv/bin/stockade"
sarif="${STOCKADE_SARIF:-stockade.sarif}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
read -r -a paths <<< "$(printf '%s' "${STOCKADE_PATHS:-.}" | tr '\n' ' ')"
echo "sarif-file=$sarif" >> "${GITHUB_OUTPUT:-/dev/null}"

if [ -n "${STOCKADE_BASE:-}" ]; then
  echo "::notice title=stockade::the base input needs stockade diff, which this version lacks; ignored"
fi

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
exit "$code"
