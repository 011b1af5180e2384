#include "lib/engine/hooks.h"

#include <chrono>
#include <utility>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/train/tensorboard.h"

namespace forge {
namespace {

// Tags of the per-step scalars, logged at the step's index; the per-epoch ones are logged at the
// step count that ends the epoch, which is also the next step's index.
constexpr char kStepLossTag[] = "train/step_loss";
constexpr char kLrTag[] = "train/lr";

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class TensorBoardHook : public TrainHook {
 public:
  explicit TensorBoardHook(std::unique_ptr<EventWriter> events) : events_(std::move(events)) {}

  // A failed event write is not worth stopping a run for; Flush reports it before a checkpoint.
  absl::Status AfterStep(const StepEvent& step) override {
    if (!step.logged) return absl::OkStatus();
    const double now = WallTime();
    events_->AddScalar(kStepLossTag, step.step, step.loss, now).IgnoreError();
    events_->AddScalar(kLrTag, step.step, step.lr, now).IgnoreError();
    return absl::OkStatus();
  }

  absl::Status AfterEpoch(const EpochEvent& epoch) override {
    const double now = WallTime();
    for (const EpochMetrics& metrics : epoch.metrics) {
      const std::string& phase = metrics.phase();
      events_->AddScalar(phase + "/loss", epoch.step, metrics.loss(), now).IgnoreError();
      events_->AddScalar(phase + "/top1", epoch.step, metrics.top1(), now).IgnoreError();
      events_->AddScalar(phase + "/top5", epoch.step, metrics.top5(), now).IgnoreError();
      events_->AddScalar(phase + "/images_per_sec", epoch.step, metrics.images_per_sec(), now).IgnoreError();
    }
    return absl::OkStatus();
  }

  // Events up to this step become durable before the checkpoint that a resume keeps them for.
  absl::Status BeforeSave(TrainState*) override { return events_->Flush(); }

 private:
  std::unique_ptr<EventWriter> events_;
};

class EpochLogHook : public TrainHook {
 public:
  absl::Status AfterEpoch(const EpochEvent& epoch) override {
    for (size_t i = 0; i < epoch.metrics.size(); ++i) {
      const EpochMetrics& m = epoch.metrics[i];
      const int64_t skipped = i < epoch.skipped.size() ? epoch.skipped[i] : 0;
      LOG(INFO) << absl::StrFormat(
          "epoch %d %s: loss %.4f top-1 %.2f%% top-5 %.2f%% %.1f img/s (%.0f%% waiting for data)%s", epoch.epoch,
          m.phase(), m.loss(), m.top1(), m.top5(), m.images_per_sec(), 100 * m.data_wait_fraction(),
          skipped ? absl::StrCat(", ", skipped, " images skipped") : "");
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<TrainHook>> MakeTensorBoardHook(const std::string& dir, int64_t steps_done,
                                                               bool epoch_done) {
  // With S steps done, steps 0..S-1 logged theirs (at their index); the epoch that ended at S
  // logged its metrics at S, and is done only if the checkpoint is from its end.
  const auto keep = [steps_done, epoch_done](const std::string& tag, int64_t step) {
    return step < steps_done || (step == steps_done && epoch_done && tag != kStepLossTag && tag != kLrTag);
  };
  EventRewriteResult rewrite;
  if (absl::Status status = RewriteEvents(dir, keep, &rewrite); !status.ok()) return status;
  for (const std::string& damage : rewrite.damaged) {
    LOG(WARNING) << "TensorBoard events from a damaged record on are dropped: " << damage;
  }
  if (rewrite.events_dropped > 0) {
    LOG(INFO) << "dropped " << rewrite.events_dropped << " TensorBoard events of steps after the checkpoint";
  }
  absl::StatusOr<std::unique_ptr<EventWriter>> events = EventWriter::Create(dir);
  if (!events.ok()) return events.status();
  return std::make_unique<TensorBoardHook>(std::move(*events));
}

std::unique_ptr<TrainHook> MakeEpochLogHook() { return std::make_unique<EpochLogHook>(); }

}  // namespace forge
