// valprep: turns ImageNet's flat validation folder into val/<wnid>/ class folders, driven by any
// of the common ground-truth files, idempotently and resumably.
//
//   ValprepOptions options;
//   options.val_dir = "imagenet/val";
//   options.labels = "LOC_val_solution.csv";
//   ValprepReport report;
//   absl::Status status = RunValprep(options, &report);  // report is filled even on failure
//   std::cout << SummaryLine(report) << "\n";
#ifndef FORGE_TOOLS_VALPREP_VALPREP_H_
#define FORGE_TOOLS_VALPREP_VALPREP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/valprep.pb.h"
#include "tools/valprep/labels.h"
#include "tools/valprep/place.h"

namespace forge {

struct ValprepOptions {
  std::string val_dir;  // required: the flat folder of ILSVRC2012_val_*.JPEG
  std::string labels;   // required: the ground-truth file
  valprep::LabelsFormat labels_format = valprep::LabelsFormat::kAuto;
  std::string synsets;         // devkit format only: line k = WNID of ILSVRC2012_ID k
  std::string synset_mapping;  // optional LOC_synset_mapping.txt: WNIDs outside it are refused
  valprep::PlaceMode mode = valprep::PlaceMode::kMove;
  bool dry_run = false;  // decide and report, touch nothing
  std::string out_dir;   // where the class folders go; default (empty): val_dir itself
  // Files that may lie in val_dir without being reported as unlisted, besides the labels,
  // synsets and mapping files (e.g. the report being written).
  std::vector<std::string> ignored_files;
};

// Places each listed image val_dir/<image> at out_dir/<wnid>/<image> and fills `report` (always,
// also on failure, so that it can be written). Existing destinations are never overwritten and
// count as already placed, so a rerun completes an interrupted run and changes nothing on a
// finished one. Missing, unlisted and conflicting images and uneven classes are reported, not
// failures; class sizes count the images in their class folder after the run (with dry_run: as
// they would be), so missing images make their class uneven.
//
// Fails before touching anything with InvalidArgument if the ground truth is unusable (every
// problem in report->errors), NotFound / InvalidArgument for a missing val_dir or input file,
// FailedPrecondition if the folders cannot take the result (e.g. a class folder name taken by a
// file). Fails during execution with the error of the file that could not be placed
// (PermissionDenied, Internal, ...); what was placed so far stays valid.
absl::Status RunValprep(const ValprepOptions& options, ValprepReport* report);

// The one-line summary for stdout, e.g. "valprep: listed=50000 placed=0 already_placed=50000
// missing=0 unlisted=0 conflicts=0 classes=1000 uneven_classes=0 errors=0 dry_run=false ok=true".
// With dry_run=true, placed counts what would be placed; errors counts report.errors.
std::string SummaryLine(const ValprepReport& report);

}  // namespace forge

#endif  // FORGE_TOOLS_VALPREP_VALPREP_H_
