#!/usr/bin/env bash
# Regenerates report's golden files in testdata/golden/expected/ from the inputs beside them,
# with the built tool, in the layout report_test uses (README.md next to run/). Review the diff
# before committing it. classification_report.txt is not rewritten: it comes from scikit-learn
# (check_sklearn.py --write), and this script fails if the tool disagrees with it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
bazel build //tools/report:report
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
golden=tools/report/testdata/golden
mkdir -p "$tmp/run"
protoc --proto_path=. --encode=forge.TrainLog proto/train_log.proto \
  <"$golden/train_log.txtpb" >"$tmp/run/train_log.pb"
cp "$golden/config.txtpb" "$golden/model_summary.txtpb" "$tmp/run/"
cp "$golden/README.in.md" "$tmp/README.md"
bazel-bin/tools/report/report --run_dir="$tmp/run" --eval="$golden/eval.txtpb" \
  --lr_curve="$golden/lr_curve.txtpb" --synset_mapping="$golden/synset_mapping.txt" \
  --readme="$tmp/README.md"
for file in train_log.csv train_log_full.csv logs.md confusion_matrix.csv model_summary.txt; do
  cp "$tmp/run/report/$file" "$golden/expected/$file"
done
cp "$tmp/README.md" "$golden/expected/README.md"
if ! cmp -s "$tmp/run/report/classification_report.txt" "$golden/expected/classification_report.txt"; then
  echo "update_goldens: classification_report.txt differs from scikit-learn's (expected/):" >&2
  diff "$golden/expected/classification_report.txt" "$tmp/run/report/classification_report.txt" >&2 || true
  exit 1
fi
echo "update_goldens: wrote $golden/expected/"
