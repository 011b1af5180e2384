// report: flags and wiring only; the work is in report.h.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <string>

#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "tools/report/report.h"

DEFINE_string(run_dir, "",
              "Required. The training run: train_log.pb, and config.txtpb and model_summary.txtpb "
              "when present.");
DEFINE_string(eval, "", "EvalResult written by eval (.pb, .txtpb, .json): classification report, "
                        "confusion matrix, most-confused pairs.");
DEFINE_string(lr_curve, "", "LrCurve written by lr_find: the LR range test plot.");
DEFINE_string(synset_mapping, "",
              "LOC_synset_mapping.txt; its class names override those in --eval.");
DEFINE_string(out_dir, "", "Where the report goes. Default: <run_dir>/report.");
DEFINE_string(readme, "",
              "A Markdown file whose block between <!-- forge-report:start --> and "
              "<!-- forge-report:end --> gets the headline results, the epoch table and the "
              "curves (appended when the markers are absent; created when the file is).");
DEFINE_int32(digits, 2, "Decimals in classification_report.txt (as scikit-learn's digits).");
DEFINE_int32(top_confused, 20, "Most-confused class pairs listed in logs.md.");
DEFINE_int32(plot_width, 1000, "PNG width in pixels.");
DEFINE_int32(plot_height, 600, "PNG height in pixels.");

namespace forge {
namespace {

constexpr char kUsage[] =
    "Renders a training run as CSV, Markdown, text and PNG curves; rerun it as often as you like.\n"
    "  report --run_dir=runs/r50 [--eval=eval.pb --synset_mapping=LOC_synset_mapping.txt]\n"
    "         [--lr_curve=lr_curve.pb] [--out_dir=runs/r50/report] [--readme=README.md]\n"
    "Exit codes: 0 done, 1 failure at run time (e.g. a write error), 2 bad usage or input "
    "(missing or malformed file, named).";

int Main() {
  if (FLAGS_run_dir.empty()) {
    return ExitWithUsageError("--run_dir is required");
  }
  ReportOptions options;
  options.run_dir = FLAGS_run_dir;
  options.eval = FLAGS_eval;
  options.lr_curve = FLAGS_lr_curve;
  options.synset_mapping = FLAGS_synset_mapping;
  options.out_dir = FLAGS_out_dir;
  options.readme = FLAGS_readme;
  options.digits = FLAGS_digits;
  options.top_confused = FLAGS_top_confused;
  options.plot_width = FLAGS_plot_width;
  options.plot_height = FLAGS_plot_height;
  absl::StatusOr<ReportResult> result = RunReport(options);
  if (!result.ok()) {
    return ExitWithError(result.status());
  }
  for (const std::string& note : result->notes) LOG(WARNING) << "note: " << note;
  return ExitWithSummary(SummaryLine(*result));
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  forge::InitTool(forge::kUsage, &argc, &argv);
  return forge::Main();
}
