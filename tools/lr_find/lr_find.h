// lr_find: the LR range test. Trains a freshly initialised model exactly as `train` would from the
// same TrainConfig (model, optimizer, input pipeline, normalisation, autocast, label-smoothed
// cross-entropy, loss scaling, gradient clipping), but with the LR raised step by step from
// start_lr to end_lr, and records the loss at every LR. The curve and its suggested LR
// (curve.h) are what `train` can take its peak LR from and `report` plots.
#ifndef FORGE_TOOLS_LR_FIND_LR_FIND_H_
#define FORGE_TOOLS_LR_FIND_LR_FIND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/engine/process_group.h"
#include "proto/lr_curve.pb.h"
#include "proto/train_config.pb.h"
#include "tools/lr_find/curve.h"

namespace forge {

// LoadConfig (lib/engine/config.h) for a range test: reads the recipe `path` (none if empty),
// applies `overrides`, and resolves, except that what only a full run uses may be left unset:
// epochs (taken as 1) and the schedule (taken as constant). Errors as LoadConfig's.
absl::StatusOr<TrainConfig> LoadLrFindConfig(const std::string& path, const std::vector<std::string>& overrides);

struct LrFindOptions {
  TrainConfig config;        // resolved (LoadLrFindConfig); its epochs and schedule are not used
  std::string train_data;    // manifest or ImageFolder directory
  std::string stats;         // ChannelStats proto (compute_stats)
  // The range, smoothing and stopping rule (curve.h); batch_size 0 takes config.data.batch_size.
  LrFindSettings settings = DefaultLrFindSettings();
  std::string device;        // "cpu", "cuda", "cuda:1"; empty: CUDA when present
  int threads = 0;           // intra-op threads on the CPU; 0: LibTorch's default
  // The processes running the test together, each on its share of every global batch (as in
  // train; every process gets the same curve); null: this process alone. Not owned.
  ProcessGroup* group = nullptr;
  int local_processes = 1;   // of the group on this machine: loader threads 0 share the cores
};

// Runs the range test and returns the curve with its suggestion (Suggest in curve.h); writes no
// file. The weights start from config.seed as train's do; steps run on into further epochs of
// the data when num_iter exceeds one epoch (config.data.batch_size images per step, the last
// partial batch of an epoch dropped). Fails with InvalidArgument for bad settings (naming the
// flag), a batch size that grad_accumulation does not divide, data smaller than one batch or fp16
// without CUDA; NotFound/InvalidArgument naming the file for unreadable data or statistics;
// Internal for errors inside LibTorch.
absl::StatusOr<LrCurve> RunLrFind(const LrFindOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_LR_FIND_LR_FIND_H_
