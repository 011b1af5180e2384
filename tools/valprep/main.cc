// valprep: flags and wiring only; the work is in valprep.h.
#include <cstdio>
#include <string>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/io/proto_file.h"
#include "lib/util/exit_code.h"
#include "lib/util/tool_init.h"
#include "proto/valprep.pb.h"
#include "tools/valprep/valprep.h"

DEFINE_string(val_dir, "", "Required. The flat ImageNet validation folder (ILSVRC2012_val_*.JPEG).");
DEFINE_string(labels, "", "Required. The ground truth: LOC_val_solution.csv, valprep.sh, one WNID "
                          "per line, or ILSVRC2012_validation_ground_truth.txt.");
DEFINE_string(labels_format, "auto", "auto|kaggle_csv|valprep_sh|wnid_lines|devkit.");
DEFINE_string(synsets, "", "devkit format: file whose k-th non-empty line names the WNID of "
                           "ILSVRC2012_ID k (devkit order, NOT sorted order).");
DEFINE_string(synset_mapping, "", "Optional LOC_synset_mapping.txt; WNIDs not in it are refused.");
DEFINE_string(mode, "move", "move|copy|hardlink|symlink.");
DEFINE_bool(dry_run, false, "Decide and report what would be placed; touch nothing.");
DEFINE_string(out_dir, "", "Where the <wnid>/ folders go. Default: --val_dir itself (in place).");
DEFINE_string(report, "", "Optional report path (.pb, .txtpb/.textproto, .json or - for stdout).");

namespace forge {
namespace {

constexpr char kUsage[] =
    "Sorts ImageNet's flat validation folder into <wnid>/ class folders.\n"
    "  valprep --val_dir=val --labels=LOC_val_solution.csv [--mode=copy --out_dir=val_sorted]\n"
    "Exit codes: 0 done, 2 bad usage or unusable input (nothing touched), 1 failure while "
    "placing files (rerun to finish).";

absl::Status OptionsFromFlags(ValprepOptions* options) {
  if (FLAGS_val_dir.empty()) return absl::InvalidArgumentError("--val_dir is required");
  if (FLAGS_labels.empty()) return absl::InvalidArgumentError("--labels is required");
  absl::StatusOr<valprep::LabelsFormat> format = valprep::ParseLabelsFormat(FLAGS_labels_format);
  if (!format.ok()) return format.status();
  absl::StatusOr<valprep::PlaceMode> mode = valprep::ParsePlaceMode(FLAGS_mode);
  if (!mode.ok()) return mode.status();
  if (!FLAGS_report.empty()) {
    // Refuse a report path of unknown format now, not after all the work is done.
    absl::StatusOr<ProtoFormat> report_format = ProtoFormatForPath(FLAGS_report);
    if (!report_format.ok()) return report_format.status();
  }
  options->val_dir = FLAGS_val_dir;
  options->labels = FLAGS_labels;
  options->labels_format = *format;
  options->synsets = FLAGS_synsets;
  options->synset_mapping = FLAGS_synset_mapping;
  options->mode = *mode;
  options->dry_run = FLAGS_dry_run;
  options->out_dir = FLAGS_out_dir;
  if (!FLAGS_report.empty() && FLAGS_report != "-") options->ignored_files.push_back(FLAGS_report);
  return absl::OkStatus();
}

int Main() {
  ValprepOptions options;
  ValprepReport report;
  absl::Status status = OptionsFromFlags(&options);
  if (status.ok()) {
    status = RunValprep(options, &report);
  } else {
    report.set_failure(std::string(status.message()));
  }
  if (!status.ok()) LOG(ERROR) << status.message();
  if (!FLAGS_report.empty()) {
    absl::Status written = WriteProtoFile(FLAGS_report, report);
    if (!written.ok()) LOG(ERROR) << "cannot write --report: " << written.message();
    if (status.ok()) status = written;
  }
  // With --report=- stdout carries the report, so the summary moves to stderr.
  std::fprintf(FLAGS_report == "-" ? stderr : stdout, "%s\n", SummaryLine(report).c_str());
  return ExitCodeFor(status);
}

}  // namespace
}  // namespace forge

int main(int argc, char** argv) {
  forge::InitTool(forge::kUsage, &argc, &argv);
  return forge::Main();
}
