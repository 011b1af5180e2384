// The named points of the training loop where features attach, instead of growing `if`s inside
// the loop: after every optimizer step, after every epoch, before a checkpoint is written and
// after one was loaded to resume. The loop calls its hooks in order at each point; a hook's error
// ends the run with that error.
//
// `train` attaches TensorBoard events and the epoch summary lines this way (hooks.h's
// MakeTensorBoardHook, MakeEpochLogHook). The model EMA is not a hook: its weights are validated
// and saved with the model's, so the loop holds it (lib/train/ema.h).
//
//   class CountSteps : public TrainHook {
//    public:
//     absl::Status AfterStep(const StepEvent& step) override { ++steps; return absl::OkStatus(); }
//     int steps = 0;
//   };
#ifndef FORGE_LIB_ENGINE_HOOKS_H_
#define FORGE_LIB_ENGINE_HOOKS_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "proto/train_log.pb.h"

namespace forge {

// One optimizer step, just taken: the model holds its new weights.
struct StepEvent {
  int epoch = 0;          // the epoch in progress, 1-based
  int64_t step = 0;       // the step's index, 0-based (steps done = step + 1)
  double epochs = 0;      // training progress in epochs, e.g. 2.5 halfway through the third
  double lr = 0;          // the learning rate the step used
  bool logged = false;    // whether the run logs this step (every config.log_every_steps)
  // The mean loss of the step's last micro-batch when `logged`, else NaN: reading it waits for the
  // device, which the loop does only for the steps it logs.
  double loss = std::numeric_limits<double>::quiet_NaN();
};

// One epoch, trained and (when due) validated; its checkpoint is written after the hooks ran.
struct EpochEvent {
  int epoch = 0;
  int64_t step = 0;                     // steps done at the end of the epoch
  std::vector<EpochMetrics> metrics;    // "train", then "val" when validated
  std::vector<int64_t> skipped;         // images skipped in each phase of `metrics`
};

class TrainHook {
 public:
  virtual ~TrainHook() = default;
  virtual absl::Status AfterStep(const StepEvent& step) { return absl::OkStatus(); }
  virtual absl::Status AfterEpoch(const EpochEvent& epoch) { return absl::OkStatus(); }
  // Before a checkpoint of `state` is written: make durable what the checkpoint must not get
  // ahead of, and add the hook's own state to `state`.
  virtual absl::Status BeforeSave(TrainState* state) { return absl::OkStatus(); }
  // After the checkpoint `state` was loaded to continue the run from it.
  virtual absl::Status AfterLoad(const TrainState& state) { return absl::OkStatus(); }
};

// TensorBoard scalars in `dir`: per logged step "train/step_loss" and "train/lr" at the step's
// index; per epoch "<phase>/loss", "/top1", "/top5", "/images_per_sec" at the step count that
// ends the epoch. Events are flushed before each checkpoint. Created for a run with `steps_done`
// steps (0 when starting) and, when `epoch_done`, the epoch ending there finished: events of later
// steps, left by an attempt that was interrupted after its checkpoint, are dropped first, so no
// (tag, step) is ever logged twice. Errors: the file system's, naming the path.
absl::StatusOr<std::unique_ptr<TrainHook>> MakeTensorBoardHook(const std::string& dir, int64_t steps_done,
                                                               bool epoch_done);

// One log line per phase of each epoch: loss, top-1, top-5, images/s, the share of time spent
// waiting for data and skipped images.
std::unique_ptr<TrainHook> MakeEpochLogHook();

}  // namespace forge

#endif  // FORGE_LIB_ENGINE_HOOKS_H_
