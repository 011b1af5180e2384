// What valprep will do to each listed image, decided by looking at the folders before anything
// is touched, and the step that then does it.
//
//   absl::StatusOr<Plan> plan = MakePlan(truth.images, options);
//   if (!plan.ok()) return plan.status();
//   ExecuteCounts counts;
//   absl::Status status;
//   if (plan->errors.empty()) status = ExecutePlan(*plan, options.out_dir, options.mode, &counts);
#ifndef FORGE_TOOLS_VALPREP_PLAN_H_
#define FORGE_TOOLS_VALPREP_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/valprep/labels.h"
#include "tools/valprep/place.h"

namespace forge {
namespace valprep {

struct PlanOptions {
  std::string val_dir;  // the flat folder; must be a directory
  std::string out_dir;  // where the class folders go; may not exist yet (created on execution)
  PlaceMode mode = PlaceMode::kMove;
  // Files that may lie in val_dir without being reported as unlisted (the labels file, ...).
  std::vector<std::string> ignored_files;
};

enum class Action {
  kPlace,          // the source exists and the destination does not
  kAlreadyPlaced,  // the destination exists; it is never overwritten
  kMissing,        // neither exists
  kConflict,       // move mode: the destination exists and the source, still there, differs
};

struct PlannedImage {
  std::string image;
  std::string wnid;
  std::string source;       // val_dir/image
  std::string destination;  // out_dir/wnid/image
  Action action = Action::kMissing;
  // Move mode, kAlreadyPlaced: the source is a byte-identical copy of the destination (a move
  // across file systems was interrupted after the copy); removing it completes the move.
  bool remove_source = false;
  std::string conflict;  // why, for kConflict
};

struct Plan {
  std::vector<PlannedImage> images;  // in ground-truth order
  // Regular files directly in val_dir that are not listed, sorted; hidden files, directories
  // and the ignored files are not counted.
  std::vector<std::string> unlisted;
  // Why nothing may be touched (a class folder name taken by a file, a listed image that is a
  // directory, hard links across file systems); empty when the plan can be executed.
  std::vector<std::string> errors;
};

// Looks at val_dir and out_dir (reading, never writing) and decides an Action for each image.
// Fails with NotFound / InvalidArgument if val_dir is missing or not a directory, and with the
// error of a stat or read that fails for another reason than absence.
absl::StatusOr<Plan> MakePlan(const std::vector<LabeledImage>& images, const PlanOptions& options);

struct ExecuteCounts {
  int64_t placed = 0;
  int64_t sources_removed = 0;  // leftover sources of interrupted moves
};

// Carries out `plan` (which must have no errors) in `mode`: creates out_dir and the class
// folders as needed, places each kPlace image and removes each remove_source leftover, then
// fsyncs the directories it changed. Stops at the first failure and returns it (naming the
// file); what was done so far is complete and counted in `counts`, so a rerun finishes the job.
absl::Status ExecutePlan(const Plan& plan, const std::string& out_dir, PlaceMode mode,
                         ExecuteCounts* counts);

}  // namespace valprep
}  // namespace forge

#endif  // FORGE_TOOLS_VALPREP_PLAN_H_
