// report: renders a training run (and optionally its evaluation and LR range test) as CSV,
// Markdown, text and PNG files, and refreshes a block of results in a README. Needs no
// LibTorch, so it rebuilds and reruns in seconds.
#ifndef FORGE_TOOLS_REPORT_REPORT_H_
#define FORGE_TOOLS_REPORT_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge {

// The README markers between which RunReport keeps its block of results.
inline constexpr char kReadmeStartMarker[] = "<!-- forge-report:start -->";
inline constexpr char kReadmeEndMarker[] = "<!-- forge-report:end -->";

struct ReportOptions {
  // The run directory: train_log.pb (required), config.txtpb and model_summary.txtpb (optional).
  std::string run_dir;
  std::string eval;            // an EvalResult file (.pb/.txtpb/.json); empty: none
  std::string lr_curve;        // an LrCurve file; empty: none
  std::string synset_mapping;  // LOC_synset_mapping.txt; its names override the eval's
  std::string out_dir;         // empty: <run_dir>/report
  std::string readme;          // a Markdown file whose marked block to fill; empty: none
  int digits = 2;              // decimals of the classification report (0..10)
  int top_confused = 20;       // most-confused pairs listed in logs.md (>= 0)
  int plot_width = 1000;       // PNG size in pixels
  int plot_height = 600;
};

struct ReportResult {
  std::string out_dir;
  std::vector<std::string> written;  // file names under out_dir, in the order written
  std::vector<std::string> left_out; // outputs not made this time
  std::vector<std::string> removed;  // outputs of an earlier run that this one left out
  std::vector<std::string> notes;    // why things were left out, for stderr
  std::string readme;                // the README refreshed, if any
};

// Reads the inputs, checks them all, renders every output in memory, then writes each one
// atomically (logs.md last), removes outputs of an earlier run into the same directory that
// this run leaves out (so the directory never mixes two runs' results) and finally refreshes
// the README block. Same inputs give byte-identical files.
//
// Fails with NotFound for a missing run directory, train log or given input; InvalidArgument
// naming the file for a malformed input or README markers (nothing is written then); and with
// the file system's error for a write that fails.
absl::StatusOr<ReportResult> RunReport(const ReportOptions& options);

// The one-line summary on stdout, e.g. "report: out_dir=run/report wrote=train_log.csv,...
// left_out=lr_range_test.png readme=README.md".
std::string SummaryLine(const ReportResult& result);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_REPORT_H_
