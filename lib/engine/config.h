// The resolved TrainConfig of a run: a recipe textproto, then single-field overrides from flags,
// then defaults for every field left unset, then validation.
#ifndef FORGE_LIB_ENGINE_CONFIG_H_
#define FORGE_LIB_ENGINE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/train_config.pb.h"

namespace forge {

// Applies overrides written as "field.path=value" (text-format values, e.g.
// "data.batch_size=64", "schedule.one_cycle.pct_start=0.3", "precision=bf16",
// "optimizer.sgd.nesterov=true"). InvalidArgument naming the override that does not fit.
absl::Status ApplyOverrides(const std::vector<std::string>& overrides, TrainConfig* config);

// Fills every unset field with the documented default (see train_config.proto) and checks the
// result: known model, positive sizes and epochs, a schedule and an optimizer chosen, precision
// one of fp32/fp16/bf16. InvalidArgument naming the field otherwise.
absl::StatusOr<TrainConfig> ResolveConfig(TrainConfig config);

// Whether `given` (resolved) describes the same run as `saved`, a run's own config: equal except
// for the settings that do not change what the run computes (data.loader_threads,
// data.prefetch_batches, checkpoint, log_every_steps), with the epochs the run had before its
// schedule changes (so the command that started a run, rerun unchanged, continues it even after
// --extend_epochs), and without the fields the run's config predates (a OneCycle run saved
// before cycle_momentum existed continues with its fixed momentum). FailedPrecondition listing
// the differences otherwise.
absl::Status CheckSameRun(const TrainConfig& saved, const TrainConfig& given);

// `saved` with the run settings (see CheckSameRun) of `given`.
TrainConfig ContinueRunWith(const TrainConfig& saved, const TrainConfig& given);

// The overrides of a --set flag: "a.b=1;c=2" -> {"a.b=1", "c=2"} (empty items dropped).
std::vector<std::string> SplitOverrides(absl::string_view set);

// Reads `path` (a recipe, .txtpb; none if empty) over `base` (the recipe's set fields win),
// applies `overrides`, resolves. Resolution errors are prefixed with `path`.
absl::StatusOr<TrainConfig> LoadConfig(const std::string& path, const std::vector<std::string>& overrides,
                                       const TrainConfig& base = TrainConfig());

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_CONFIG_H_
