#include "tools/valprep/valprep.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include <glog/logging.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/data/synset_mapping.h"
#include "lib/io/file.h"
#include "tools/valprep/plan.h"

namespace forge {
namespace {

using valprep::Action;
using valprep::GroundTruth;
using valprep::LabelsFormat;
using valprep::PlannedImage;

constexpr int kMaxReportedProblems = 1000;  // per list in the report (errors, warnings)
constexpr int kMaxLoggedNames = 10;         // per category in the log

template <typename Field>
void AddCapped(const std::vector<std::string>& problems, Field* field) {
  const int n = static_cast<int>(problems.size());
  for (int i = 0; i < std::min(n, kMaxReportedProblems); ++i) field->Add(std::string(problems[i]));
  if (n > kMaxReportedProblems) {
    field->Add(absl::StrCat("... and ", n - kMaxReportedProblems, " more (only the first ",
                            kMaxReportedProblems, " are listed)"));
  }
}

// "a, b, c and 7 more"
template <typename Container>
std::string SomeOf(const Container& names) {
  const int n = static_cast<int>(names.size());
  std::vector<std::string> shown;
  for (int i = 0; i < std::min(n, kMaxLoggedNames); ++i) shown.push_back(std::string(names[i]));
  std::string text = absl::StrJoin(shown, ", ");
  if (n > kMaxLoggedNames) absl::StrAppend(&text, " and ", n - kMaxLoggedNames, " more");
  return text;
}

void LogProblems(absl::string_view what, const std::vector<std::string>& problems) {
  const int n = static_cast<int>(problems.size());
  for (int i = 0; i < std::min(n, kMaxLoggedNames); ++i) LOG(ERROR) << problems[i];
  if (n > kMaxLoggedNames) {
    LOG(ERROR) << "... and " << n - kMaxLoggedNames << " more " << what
               << " (all of them, up to " << kMaxReportedProblems << ", are in --report)";
  }
}

absl::StatusOr<std::string> ReadInput(const std::string& path, absl::string_view flag) {
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("--", flag, ": ", contents.status().message()));
  }
  return contents;
}

// Refuses the run: the problems go to the report, the log and (the first) the Status.
absl::Status Refuse(absl::StatusCode code, absl::string_view what,
                    const std::vector<std::string>& problems, ValprepReport* report) {
  AddCapped(problems, report->mutable_errors());
  if (problems.size() == 1) {
    return absl::Status(code, absl::StrCat(problems.front(), "; nothing was touched"));
  }
  LogProblems("problems", problems);
  return absl::Status(code, absl::StrCat(what, ": ", problems.size(),
                                         " problems (listed above); nothing was touched"));
}

// Per-class counts of the images in their class folder once the run is done, the most common
// count (ties: the larger), and the classes that differ from it.
void ReportClassBalance(const std::vector<PlannedImage>& images, ValprepReport* report) {
  std::map<std::string, int64_t> per_class;  // sorted by WNID for a stable report
  for (const PlannedImage& p : images) {
    int64_t& count = per_class[p.wnid];
    if (p.action != Action::kMissing) ++count;
  }
  std::map<int64_t, int64_t> classes_with;
  for (const auto& [wnid, count] : per_class) ++classes_with[count];
  int64_t expected = 0, best = -1;
  for (const auto& [count, classes] : classes_with) {
    if (classes >= best) expected = count, best = classes;
  }
  report->set_expected_per_class(expected);
  for (const auto& [wnid, count] : per_class) {
    if (count == expected) continue;
    ClassCount* uneven = report->add_uneven_classes();
    uneven->set_wnid(wnid);
    uneven->set_images(count);
  }
}

void LogReport(const ValprepReport& report, const std::vector<PlannedImage>& images) {
  if (report.missing_size() > 0) {
    LOG(WARNING) << report.missing_size() << " listed images are missing (neither in "
                 << report.val_dir() << " nor in their class folder): " << SomeOf(report.missing());
  }
  if (report.unlisted_size() > 0) {
    LOG(WARNING) << report.unlisted_size() << " files in " << report.val_dir()
                 << " are not in the ground truth (left alone): " << SomeOf(report.unlisted());
  }
  if (report.conflicts_size() > 0) {
    std::vector<std::string> details;
    for (const PlannedImage& p : images) {
      if (p.action == Action::kConflict) {
        details.push_back(absl::StrCat(p.source, " vs ", p.destination, " (", p.conflict, ")"));
      }
    }
    LOG(WARNING) << report.conflicts_size()
                 << " images exist both in val_dir and, different, in their class folder; both "
                    "were left alone: "
                 << SomeOf(details);
  }
  if (report.uneven_classes_size() > 0) {
    std::vector<std::string> details;
    for (const ClassCount& c : report.uneven_classes()) {
      details.push_back(absl::StrCat(c.wnid(), "=", c.images()));
    }
    LOG(WARNING) << report.uneven_classes_size() << " of " << report.classes()
                 << " classes do not have the usual " << report.expected_per_class()
                 << " images: " << SomeOf(details);
  }
}

absl::Status Run(const ValprepOptions& options, ValprepReport* report,
                 std::vector<PlannedImage>* planned) {
  if (options.val_dir.empty()) return absl::InvalidArgumentError("--val_dir is required");
  if (options.labels.empty()) return absl::InvalidArgumentError("--labels is required");
  struct stat info;
  if (::stat(options.val_dir.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("--val_dir ", options.val_dir, " does not exist"));
  }
  if (!S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("--val_dir ", options.val_dir,
                                                   " is not a directory"));
  }

  absl::StatusOr<std::string> labels = ReadInput(options.labels, "labels");
  if (!labels.ok()) return labels.status();
  std::vector<std::string> synsets;
  if (!options.synsets.empty()) {
    absl::StatusOr<std::string> contents = ReadInput(options.synsets, "synsets");
    if (!contents.ok()) return contents.status();
    absl::StatusOr<std::vector<std::string>> parsed =
        valprep::ParseSynsets(*contents, options.synsets);
    if (!parsed.ok()) return parsed.status();
    synsets = *std::move(parsed);
  }
  std::map<std::string, std::string> known_wnids;  // WNID -> name; the names are not needed
  if (!options.synset_mapping.empty()) {
    absl::StatusOr<std::string> contents = ReadInput(options.synset_mapping, "synset_mapping");
    if (!contents.ok()) return contents.status();
    absl::StatusOr<std::map<std::string, std::string>> parsed =
        ParseSynsetMapping(*contents, options.synset_mapping);
    if (!parsed.ok()) return parsed.status();
    known_wnids = *std::move(parsed);
  }

  GroundTruth truth = valprep::ParseGroundTruth(*labels, options.labels, options.labels_format,
                                                options.synsets.empty() ? nullptr : &synsets);
  report->set_labels_format(std::string(valprep::LabelsFormatName(truth.format)));
  if (!options.synsets.empty()) {
    if (truth.format != LabelsFormat::kDevkit) {
      truth.warnings.push_back(absl::StrCat("--synsets ", options.synsets, " is ignored: the ",
                                            valprep::LabelsFormatName(truth.format),
                                            " format names WNIDs itself"));
    } else if (synsets.size() > 1 && std::is_sorted(synsets.begin(), synsets.end())) {
      truth.warnings.push_back(absl::StrCat(
          "--synsets ", options.synsets,
          " is in sorted-WNID order, but the devkit's ILSVRC2012_ID order is not (ID 1 is "
          "n02119789, kit fox); unless this is not ILSVRC2012, every image will be mislabelled"));
    }
  }
  // Unknown WNIDs, each once, in the order they first appear.
  if (!options.synset_mapping.empty()) {
    absl::flat_hash_set<std::string> seen;
    for (const valprep::LabeledImage& image : truth.images) {
      if (known_wnids.count(image.wnid) > 0 || !seen.insert(image.wnid).second) continue;
      report->add_unknown_wnids(image.wnid);
      truth.errors.push_back(absl::StrCat(options.labels, ":", image.line, ": WNID ", image.wnid,
                                          " is not in --synset_mapping ", options.synset_mapping));
    }
  }
  AddCapped(truth.warnings, report->mutable_warnings());
  for (int i = 0; i < std::min<int>(truth.warnings.size(), kMaxLoggedNames); ++i) {
    LOG(WARNING) << truth.warnings[i];
  }
  if (truth.warnings.size() > static_cast<size_t>(kMaxLoggedNames)) {
    LOG(WARNING) << "... and " << truth.warnings.size() - kMaxLoggedNames << " more warnings";
  }
  if (!truth.errors.empty()) {
    return Refuse(absl::StatusCode::kInvalidArgument,
                  absl::StrCat(options.labels, ": the ground truth is unusable"), truth.errors,
                  report);
  }
  LOG(INFO) << options.labels << ": " << valprep::LabelsFormatName(truth.format) << ", "
            << truth.images.size() << " images";

  valprep::PlanOptions plan_options;
  plan_options.val_dir = options.val_dir;
  plan_options.out_dir = report->out_dir();
  plan_options.mode = options.mode;
  plan_options.ignored_files = options.ignored_files;
  for (const std::string* input : {&options.labels, &options.synsets, &options.synset_mapping}) {
    plan_options.ignored_files.push_back(*input);
  }
  absl::StatusOr<valprep::Plan> plan = valprep::MakePlan(truth.images, plan_options);
  if (!plan.ok()) return plan.status();
  report->set_images_listed(static_cast<int64_t>(truth.images.size()));
  absl::flat_hash_set<absl::string_view> classes;
  for (const valprep::LabeledImage& image : truth.images) classes.insert(image.wnid);
  report->set_classes(static_cast<int64_t>(classes.size()));
  if (!plan->errors.empty()) {
    return Refuse(absl::StatusCode::kFailedPrecondition,
                  "the folders cannot take the result", plan->errors, report);
  }
  int64_t to_place = 0, already = 0;
  for (const PlannedImage& p : plan->images) {
    switch (p.action) {
      case Action::kPlace:
        ++to_place;
        break;
      case Action::kAlreadyPlaced:
        ++already;
        break;
      case Action::kMissing:
        report->add_missing(p.image);
        break;
      case Action::kConflict:
        report->add_conflicts(p.image);
        break;
    }
  }
  for (const std::string& name : plan->unlisted) report->add_unlisted(name);
  report->set_already_placed(already);
  *planned = plan->images;

  if (options.dry_run) {
    report->set_placed(to_place);
  } else {
    valprep::ExecuteCounts counts;
    absl::Status status = valprep::ExecutePlan(*plan, report->out_dir(), options.mode, &counts);
    report->set_placed(counts.placed);
    report->set_leftover_sources_removed(counts.sources_removed);
    if (!status.ok()) return status;
  }
  ReportClassBalance(plan->images, report);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunValprep(const ValprepOptions& options, ValprepReport* report) {
  report->Clear();
  report->set_val_dir(options.val_dir);
  report->set_out_dir(options.out_dir.empty() ? options.val_dir : options.out_dir);
  report->set_labels(options.labels);
  report->set_labels_format(std::string(valprep::LabelsFormatName(options.labels_format)));
  report->set_mode(std::string(valprep::PlaceModeName(options.mode)));
  report->set_dry_run(options.dry_run);
  std::vector<PlannedImage> planned;
  absl::Status status = Run(options, report, &planned);
  LogReport(*report, planned);
  if (!status.ok()) report->set_failure(std::string(status.message()));
  return status;
}

std::string SummaryLine(const ValprepReport& report) {
  return absl::StrCat(
      "valprep: listed=", report.images_listed(), " placed=", report.placed(),
      " already_placed=", report.already_placed(), " missing=", report.missing_size(),
      " unlisted=", report.unlisted_size(), " conflicts=", report.conflicts_size(),
      " classes=", report.classes(), " uneven_classes=", report.uneven_classes_size(),
      " errors=", report.errors_size(), " dry_run=", report.dry_run() ? "true" : "false",
      " ok=", report.failure().empty() ? "true" : "false");
}

}  // namespace forge
