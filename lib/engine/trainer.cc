#include "lib/engine/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/data/normalize.h"
#include "lib/engine/build.h"
#include "lib/engine/config.h"
#include "lib/engine/device_batch.h"
#include "lib/engine/epoch_plan.h"
#include "lib/engine/evaluate.h"
#include "lib/engine/input.h"
#include "lib/engine/run_dir.h"
#include "lib/engine/step.h"
#include "lib/engine/trained_model.h"
#include "lib/io/lock_file.h"
#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/model/summary.h"
#include "lib/train/checkpoint.h"
#include "lib/train/device.h"
#include "lib/train/ema.h"
#include "lib/train/metrics.h"
#include "lib/train/schedule.h"
#include "lib/util/progress.h"
#include "lib/util/stop_signals.h"
#include "proto/checkpoint.pb.h"
#include "proto/stats.pb.h"
#include "proto/train_log.pb.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// One phase (training or validation) of an epoch, as far as it went.
struct PhaseResult {
  ClassificationCounts counts;
  double seconds = 0;
  double wait_seconds = 0;
  int64_t skipped = 0;
  int64_t peak_memory_bytes = 0;
};

// The training phase so far, as a mid-epoch checkpoint stores it.
EpochProgress ToProgress(const PhaseResult& result, int64_t loader_batches, int64_t micro_batches, bool train_done) {
  EpochProgress progress;
  progress.set_loader_batches(loader_batches);
  progress.set_micro_batches(micro_batches);
  progress.set_images(result.counts.images);
  progress.set_top1(result.counts.top1);
  progress.set_top5(result.counts.top5);
  progress.set_loss_sum(result.counts.loss_sum);
  progress.set_seconds(result.seconds);
  progress.set_wait_seconds(result.wait_seconds);
  progress.set_skipped(result.skipped);
  progress.set_train_done(train_done);
  progress.set_peak_memory_bytes(result.peak_memory_bytes);
  return progress;
}

PhaseResult FromProgress(const EpochProgress& progress) {
  PhaseResult result;
  result.counts.images = progress.images();
  result.counts.top1 = progress.top1();
  result.counts.top5 = progress.top5();
  result.counts.loss_sum = progress.loss_sum();
  result.seconds = progress.seconds();
  result.wait_seconds = progress.wait_seconds();
  result.skipped = progress.skipped();
  result.peak_memory_bytes = progress.peak_memory_bytes();
  return result;
}

// Everything one run holds while training.
class Trainer {
 public:
  Trainer(const TrainOptions& options, torch::Device device, ProcessGroup& group)
      : options_(options), paths_(options.run_dir), device_(device), group_(group) {}

  absl::Status Run();

 private:
  // What the run directory holds and the command asks for: config_, resuming_, stats_.
  absl::Status ResolveRun(const std::vector<SavedState>& candidates);
  absl::Status OpenData(const std::vector<SavedState>& candidates);
  absl::Status ResolveRunConfig(const TrainConfig& saved);
  absl::Status LoadNewestGoodCheckpoint(const std::vector<SavedState>& candidates);
  // plan_ for the run's epochs (OpenData, and again when they change).
  absl::Status PlanEpochs();
  absl::Status BuildSchedule();
  absl::Status ApplyScheduleChanges();
  absl::Status StartLogs();
  absl::Status CheckSameCheckpoints(const std::vector<SavedState>& candidates);
  absl::Status Setup();
  absl::StatusOr<PhaseResult> TrainEpoch(int epoch);
  // Validation of `model` (the weights or their EMA), logged as `phase`; in a group, after
  // ShareBuffers.
  absl::StatusOr<PhaseResult> Validate(int epoch, const PhaseResult& train, ResNet& model, const std::string& phase);
  absl::Status EndEpoch(int epoch, const PhaseResult& train, const PhaseResult* val, const PhaseResult* val_ema);
  // A checkpoint of the run at `path` (every process calls it; rank 0 writes).
  absl::Status Save(const std::string& path, const std::string& kind);
  // Rank 0's write of what Save prepared.
  absl::Status WriteCheckpoint(const std::string& path, const std::string& kind);
  absl::Status SaveMidEpoch(const EpochProgress& progress);
  // The loop's decisions at a step boundary, the same in every process of the group.
  bool StopAgreed() const { return group_.Any(StopRequested()); }
  // Whether a mid-epoch checkpoint is due here (every_steps, every_minutes).
  bool MidEpochCheckpointDue() const;
  // {stop, write a mid-epoch checkpoint}, the same in every process: this boundary's flags for a
  // process alone; in a group, those agreed at the previous boundary (the agreement runs behind
  // the step, so reading it never waits for the step just queued on the device).
  ProcessGroup::Flags AgreeAtStepBoundary();
  // Gives every process rank 0's batch-norm running statistics (those saved and evaluated), and
  // its EMA's.
  absl::Status ShareBuffers();
  // Returns when every process has called it: after rank 0's writes, so that a process that
  // exits first (stopped, or done) cannot lead a launcher to end rank 0 while it writes.
  void WaitForRankZero();
  // Rank 0's files at the end of an epoch: the log, epoch checkpoints, the best checkpoint.
  absl::Status WriteEpochOutputs(int epoch, bool best);
  // This process's share of an epoch's batches.
  LoaderOptions Share(LoaderOptions options) const;
  // Counts of every process together.
  absl::StatusOr<ClassificationCounts> SumCounts(const DeviceClassificationCounts& counts, int64_t skipped,
                                                 int64_t* skipped_sum);
  absl::Status Stopped(const std::string& checkpoint) const;
  EpochMetrics Metrics(int epoch, const std::string& phase, const PhaseResult& result) const;
  // Calls `call` on every hook, the run's own first; the first error ends the call.
  template <typename Call>
  absl::Status ForEachHook(const Call& call);

  const TrainOptions& options_;
  const RunPaths paths_;
  const torch::Device device_;
  ProcessGroup& group_;
  TrainConfig config_;
  ChannelStats stats_;
  std::unique_ptr<ImageDataset> train_data_, val_data_;
  std::optional<Normalizer> normalizer_;
  ResNet model_{nullptr};
  ResNet ema_model_{nullptr};      // config.ema: the moving average of model_'s weights
  std::optional<ModelEma> ema_;    // ... and what updates it
  Optimization optimization_;
  std::unique_ptr<LrSchedule> schedule_;
  std::vector<std::unique_ptr<TrainHook>> own_hooks_;
  TrainState state_;
  bool resuming_ = false;
  int64_t micro_batch_ = 0;       // per process, of data.batch_size: validation's batch
  // Each epoch's batch and steps, and where a step sits on the schedule (whose unit is
  // plan_->steps_per_epoch(), data.batch_size's); made again when the run's epochs change.
  std::optional<EpochPlan> plan_;
  Clock::time_point last_checkpoint_ = Clock::now();
  std::function<ProcessGroup::Flags()> pending_agreement_;  // started at the last step boundary
};

template <typename Call>
absl::Status Trainer::ForEachHook(const Call& call) {
  for (const std::unique_ptr<TrainHook>& hook : own_hooks_) {
    if (absl::Status status = call(*hook); !status.ok()) return status;
  }
  for (TrainHook* hook : options_.hooks) {
    if (absl::Status status = call(*hook); !status.ok()) return status;
  }
  return absl::OkStatus();
}

// The config of an existing run continued by this command: the run's own, with the command's
// run settings, refused if the command describes another run.
absl::Status Trainer::ResolveRunConfig(const TrainConfig& saved) {
  TrainConfig given;
  if (options_.config) {
    given = *options_.config;
  } else {
    given = saved;
    if (!saved.schedule_changes().empty()) given.set_epochs(saved.schedule_changes(0).epochs_before());
    given.clear_schedule_changes();
    if (absl::Status status = ApplyOverrides(options_.overrides, &given); !status.ok()) return status;
    absl::StatusOr<TrainConfig> resolved = ResolveConfig(given);
    if (!resolved.ok()) return resolved.status();
    given = *resolved;
  }
  if (absl::Status status = CheckSameRun(saved, given); !status.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(options_.run_dir, " holds a run: ", status.message()));
  }
  config_ = ContinueRunWith(saved, given);
  return absl::OkStatus();
}

absl::Status Trainer::LoadNewestGoodCheckpoint(const std::vector<SavedState>& candidates) {
  std::vector<std::string> refused;
  for (const SavedState& candidate : candidates) {
    TrainState loaded;
    absl::Status status = LoadCheckpoint(candidate.path, &loaded, *model_, optimization_.optimizer.get(),
                                         ema_ ? &ema_->averaged() : nullptr);
    if (status.ok()) {
      state_ = std::move(loaded);
      LOG(INFO) << "resuming " << candidate.path << ": " << state_.epoch() << " epochs"
                << (state_.has_epoch_progress() ? " and part of the next" : "") << ", step " << state_.step();
      return absl::OkStatus();
    }
    if (status.code() != absl::StatusCode::kDataLoss && status.code() != absl::StatusCode::kInvalidArgument) {
      return status;
    }
    LOG(WARNING) << "skipping a damaged checkpoint: " << status.message();
    refused.emplace_back(status.message());
  }
  return absl::DataLossError(absl::StrCat("no checkpoint of ", options_.run_dir, " can be loaded: ",
                                          absl::StrJoin(refused, "; ")));
}

absl::Status Trainer::PlanEpochs() {
  absl::StatusOr<EpochPlan> plan = EpochPlan::Make(config_, static_cast<int64_t>(train_data_->size()), options_.train_data);
  if (!plan.ok()) return plan.status();
  plan_.emplace(std::move(*plan));
  return absl::OkStatus();
}

absl::Status Trainer::BuildSchedule() {
  if (absl::Status status = PlanEpochs(); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule =
      MakeRunSchedule(config_, PeakLr(config_.schedule(), config_.data().batch_size()), plan_->steps_per_epoch());
  if (!schedule.ok()) return schedule.status();
  schedule_ = std::move(*schedule);
  return absl::OkStatus();
}

// --extend_epochs and --freeze_lr: a ScheduleChange at the next step, unless already made.
absl::Status Trainer::ApplyScheduleChanges() {
  // Changes are laid out on the schedule's steps (EpochPlan): the position of the next step.
  ScheduleChange change;
  change.set_at_step(static_cast<int64_t>(std::floor(plan_->SchedulePosition(state_.step()))));
  change.set_epochs_before(config_.epochs());
  change.set_epochs_after(config_.epochs());
  bool changed = false;
  if (options_.extend_epochs > 0) {
    if (options_.extend_epochs < config_.epochs()) {
      return absl::InvalidArgumentError(absl::StrCat("--extend_epochs=", options_.extend_epochs, " is fewer than the ",
                                                     config_.epochs(), " epochs of the run in ", options_.run_dir));
    }
    if (options_.extend_epochs > config_.epochs()) {
      change.set_epochs_after(options_.extend_epochs);
      changed = true;
    }
  }
  if (!options_.freeze_lr.empty()) {
    double lr = 0;
    if (options_.freeze_lr == "last") {
      lr = schedule_->LrAtPosition(plan_->SchedulePosition(std::max<int64_t>(0, state_.step() - 1)));
    } else if (!absl::SimpleAtod(options_.freeze_lr, &lr) || !std::isfinite(lr) || lr <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--freeze_lr=", options_.freeze_lr, " is neither 'last' nor a positive learning rate"));
    }
    const ScheduleChange* frozen = nullptr;
    for (const ScheduleChange& earlier : config_.schedule_changes()) {
      if (earlier.freeze()) frozen = &earlier;
    }
    if (frozen == nullptr || frozen->frozen_lr() != lr) {
      change.set_freeze(true);
      change.set_frozen_lr(lr);
      changed = true;
    }
  }
  if (!changed) return absl::OkStatus();
  *config_.add_schedule_changes() = change;
  config_.set_epochs(change.epochs_after());
  if (absl::Status status = BuildSchedule(); !status.ok()) return status;
  LOG(INFO) << "schedule changed at step " << change.at_step() << ": "
            << (change.epochs_after() > change.epochs_before()
                    ? absl::StrCat("extended from ", change.epochs_before(), " to ", change.epochs_after(), " epochs")
                    : "")
            << (change.freeze() && change.epochs_after() > change.epochs_before() ? ", " : "")
            << (change.freeze() ? absl::StrFormat("LR frozen at %g", change.frozen_lr()) : "");
  return absl::OkStatus();
}


// Whether the run continues from a checkpoint, its config, and its statistics.
absl::Status Trainer::ResolveRun(const std::vector<SavedState>& candidates) {
  resuming_ = !candidates.empty();
  if (!options_.init_from.empty()) {
    if (options_.resume || options_.extend_epochs > 0 || !options_.freeze_lr.empty()) {
      return absl::InvalidArgumentError(
          "--init_from starts a new run; it cannot go with --resume, --extend_epochs or --freeze_lr");
    }
    if (resuming_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--init_from starts a new run, but ", options_.run_dir,
          " already holds one: continue it without --init_from (its weights are in its checkpoints), or give "
          "another --run_dir"));
    }
  } else if (options_.init_reset_head) {
    return absl::InvalidArgumentError("--init_reset_head needs --init_from");
  }
  if (!resuming_) {
    if (options_.resume || options_.extend_epochs > 0 || !options_.freeze_lr.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(paths_.checkpoints, " holds no checkpoint to continue"));
    }
    if (!options_.config) return absl::InvalidArgumentError("--config is required to start a run");
    config_ = *options_.config;
  } else if (absl::Status status = ResolveRunConfig(candidates.front().state.config()); !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckPrecision(config_, device_); !status.ok()) return status;

  if (!options_.stats.empty()) {
    if (absl::Status status = ReadProtoFile(options_.stats, &stats_); !status.ok()) return status;
    if (resuming_ && stats_.SerializeAsString() != candidates.front().state.stats().SerializeAsString()) {
      return absl::FailedPreconditionError(absl::StrCat(options_.stats, " differs from the statistics the run in ",
                                                        options_.run_dir, " was trained with; leave --stats out to use those"));
    }
  } else if (resuming_) {
    stats_ = candidates.front().state.stats();
  } else {
    return absl::InvalidArgumentError("--stats is required to start a run");
  }
  absl::StatusOr<Normalizer> normalizer = BuildNormalizer(stats_, device_, options_.stats);
  if (!normalizer.ok()) return normalizer.status();
  normalizer_.emplace(std::move(*normalizer));
  return absl::OkStatus();
}

// The datasets and the batch arithmetic; a resumed run's data must be the data it trains on.
absl::Status Trainer::OpenData(const std::vector<SavedState>& candidates) {
  absl::StatusOr<std::unique_ptr<ImageDataset>> train = OpenImageDataset(options_.train_data);
  if (!train.ok()) return train.status();
  train_data_ = std::move(*train);
  if (!options_.val_data.empty()) {
    absl::StatusOr<std::unique_ptr<ImageDataset>> val = OpenImageDataset(options_.val_data);
    if (!val.ok()) return val.status();
    val_data_ = std::move(*val);
    if (absl::Status status = CheckClasses(ClassWnids(*train_data_), train_data_->source(), *val_data_); !status.ok()) {
      return status;
    }
  }
  const int64_t batch = config_.data().batch_size();
  absl::StatusOr<int64_t> micro_batch = MicroBatchSize(config_, batch, group_.size());
  if (!micro_batch.ok()) return micro_batch.status();
  micro_batch_ = *micro_batch;
  for (const SizeBatch& size_batch : config_.data().progressive_resizing().batch_sizes()) {
    if (absl::Status status = MicroBatchSize(config_, size_batch.batch_size(), group_.size()).status(); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = PlanEpochs(); !status.ok()) return status;
  const int64_t steps_per_epoch = plan_->steps_per_epoch();
  if (resuming_) {
    const TrainState& saved = candidates.front().state;
    const std::vector<std::string> classes = ClassWnids(*train_data_);
    if (!std::equal(classes.begin(), classes.end(), saved.classes().begin(), saved.classes().end()) ||
        saved.steps_per_epoch() != steps_per_epoch) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.train_data, " is not the data the run in ", options_.run_dir, " trains on (", classes.size(),
          " classes and ", steps_per_epoch, " steps per epoch; the run has ", saved.classes_size(), " and ",
          saved.steps_per_epoch(), ")"));
    }
  }
  return absl::OkStatus();
}

// config.txtpb, train_log.pb as of the checkpoint, and the run's own hooks.
absl::Status Trainer::StartLogs() {
  *state_.mutable_config() = config_;
  state_.mutable_log()->set_total_epochs(config_.epochs());
  if (!group_.writes_outputs()) return absl::OkStatus();
  if (absl::Status status = WriteProtoFile(paths_.config, config_); !status.ok()) return status;
  if (resuming_ || fs::exists(paths_.log)) {
    if (absl::Status status = WriteProtoFile(paths_.log, state_.log()); !status.ok()) return status;
  }
  // Events after the checkpoint (or, starting afresh, of an attempt that never saved one) are
  // dropped: they will be logged again.
  absl::StatusOr<std::unique_ptr<TrainHook>> tensorboard = MakeTensorBoardHook(
      paths_.tensorboard, resuming_ ? state_.step() : 0, resuming_ && !state_.has_epoch_progress());
  if (!tensorboard.ok()) return tensorboard.status();
  own_hooks_.push_back(std::move(*tensorboard));
  own_hooks_.push_back(MakeEpochLogHook());
  return absl::OkStatus();
}

// Every process must resume from the checkpoint rank 0 resumes from (-1: none).
absl::Status Trainer::CheckSameCheckpoints(const std::vector<SavedState>& candidates) {
  if (group_.size() == 1) return absl::OkStatus();
  const int64_t newest = candidates.empty() ? -1 : candidates.front().state.step();
  torch::Tensor rank_zeros = torch::full({1}, newest, torch::TensorOptions(torch::kInt64).device(device_));
  if (absl::Status status = group_.Broadcast({rank_zeros}); !status.ok()) return status;
  const int64_t theirs = rank_zeros.item<int64_t>();
  if (!group_.Any(theirs != newest)) return absl::OkStatus();
  const auto described = [](int64_t step) {
    return step < 0 ? std::string("no checkpoint") : absl::StrCat("a checkpoint at step ", step);
  };
  return absl::FailedPreconditionError(absl::StrCat(
      "the processes do not see the same run in ", paths_.checkpoints, " (rank ", group_.rank(), " finds ",
      described(newest), ", rank 0 ", described(theirs),
      "): the run directory must be on storage every machine sees"));
}

absl::Status Trainer::Setup() {
  if (group_.writes_outputs()) {
    for (const std::string& path : RemoveCheckpointTemporaries(paths_.checkpoints)) {
      LOG(INFO) << "removed " << path << ", a checkpoint an interrupted run did not finish writing";
    }
  }
  std::vector<std::string> unreadable;
  const std::vector<SavedState> candidates = FindCheckpoints(paths_.checkpoints, &unreadable);
  for (const std::string& problem : unreadable) LOG(WARNING) << "skipping a damaged checkpoint: " << problem;
  if (absl::Status status = CheckSameCheckpoints(candidates); !status.ok()) return status;
  if (candidates.empty() && !unreadable.empty()) {
    return absl::DataLossError(
        absl::StrCat("no checkpoint of ", options_.run_dir, " can be read: ", absl::StrJoin(unreadable, "; ")));
  }
  if (absl::Status status = ResolveRun(candidates); !status.ok()) return status;
  if (absl::Status status = OpenData(candidates); !status.ok()) return status;

  absl::StatusOr<ResNet> model = BuildModel(config_, static_cast<int64_t>(train_data_->classes().size()));
  if (!model.ok()) return model.status();
  model_ = std::move(*model);
  if (!options_.init_from.empty()) {
    if (absl::Status status = InitializeWeightsFrom(options_.init_from, options_.init_reset_head, model_);
        !status.ok()) {
      return status;
    }
    LOG(INFO) << "weights from " << options_.init_from
              << (options_.init_reset_head ? ", the classifier head initialised afresh" : "");
  }
  if (group_.writes_outputs()) fs::create_directories(paths_.checkpoints);
  if (!resuming_ && group_.writes_outputs()) {
    const int image = config_.data().eval_size();
    if (absl::Status status = WriteProtoFile(paths_.summary, SummarizeResNet(model_, {1, 3, image, image}));
        !status.ok()) {
      return status;
    }
  }
  PlaceModel(config_, device_, model_);
  if (config_.ema().decay() > 0) {
    absl::StatusOr<EmaSchedule> schedule = EmaScheduleOf(config_);
    if (!schedule.ok()) return schedule.status();
    ema_model_ = ResNet(std::dynamic_pointer_cast<ResNetImpl>(model_->clone()));
    PlaceModel(config_, device_, ema_model_);
    ema_model_->eval();
    ema_.emplace(*ema_model_, *schedule);
    const std::string warning = EmaHorizonWarning(*schedule, plan_->steps_per_epoch(), plan_->TotalSteps());
    if (!warning.empty()) LOG(WARNING) << warning;
    LOG(INFO) << absl::StrFormat("EMA of the weights: decay %.6g every %d steps, reaching back about %.3g epochs%s%s",
                                 schedule->decay, schedule->every_steps,
                                 schedule->HorizonSteps() / static_cast<double>(plan_->steps_per_epoch()),
                                 schedule->warmup ? ", with warm-up" : "",
                                 schedule->copy_epochs > 0
                                     ? absl::StrCat(", copying the weights through epoch ", schedule->copy_epochs)
                                     : "");
  }
  const int64_t batch = config_.data().batch_size();
  absl::StatusOr<Optimization> optimization =
      BuildOptimization(config_, model_, PeakLr(config_.schedule(), batch), device_, &group_);
  if (!optimization.ok()) return optimization.status();
  optimization_ = std::move(*optimization);

  if (resuming_) {
    if (absl::Status status = LoadNewestGoodCheckpoint(candidates); !status.ok()) return status;
    // The loaded state may be an older checkpoint than the newest readable one.
    if (absl::Status status = ResolveRunConfig(state_.config()); !status.ok()) return status;
    std::vector<double> scaler_state(state_.grad_scaler_state().begin(), state_.grad_scaler_state().end());
    if (!scaler_state.empty()) {
      if (absl::Status status = optimization_.scaler->LoadState(scaler_state); !status.ok()) return status;
    }
    if (absl::Status status = RestoreRngState(state_); !status.ok()) return status;
    if (absl::Status status = BuildSchedule(); !status.ok()) return status;
    if (absl::Status status = ApplyScheduleChanges(); !status.ok()) return status;
  } else {
    if (absl::Status status = BuildSchedule(); !status.ok()) return status;
    TrainLog* log = state_.mutable_log();
    log->set_run_name(config_.name());
    log->set_model(config_.model().name());
    log->set_batch_size(batch);
    log->set_device(device_.str());
    *state_.mutable_stats() = stats_;
    for (const std::string& wnid : ClassWnids(*train_data_)) state_.add_classes(wnid);
    state_.set_steps_per_epoch(plan_->steps_per_epoch());
  }
  if (config_.sync_batchnorm() && group_.size() > 1) {
    model_->SyncBatchNorm([this](const torch::Tensor& sums) { return group_.SumWithGradient(sums); });
  }
  if (absl::Status status = group_.ShareModel(*model_); !status.ok()) return status;
  if (ema_ && !resuming_) ema_->Copy(*model_);
  if (absl::Status status = StartLogs(); !status.ok()) return status;
  if (resuming_) {
    if (absl::Status status = ForEachHook([&](TrainHook& hook) { return hook.AfterLoad(state_); }); !status.ok()) {
      return status;
    }
  }
  LOG(INFO) << absl::StrFormat("%s on %s: %d classes, %d train images, %d steps/epoch x %d epochs, peak lr %g",
                               config_.model().name(), device_.str(), train_data_->classes().size(),
                               train_data_->size(), plan_->steps_per_epoch(), config_.epochs(),
                               PeakLr(config_.schedule(), batch));
  if (config_.mixing().mixup_alpha() > 0 || config_.mixing().cutmix_alpha() > 0) {
    LOG(INFO) << absl::StrFormat(
        "mixing batches: MixUp alpha %g, CutMix alpha %g%s; training top-1/top-5 count each image's dominant label",
        config_.mixing().mixup_alpha(), config_.mixing().cutmix_alpha(),
        config_.mixing().last_epoch() > 0 ? absl::StrCat(", until epoch ", config_.mixing().last_epoch()) : "");
  }
  if (group_.size() > 1) {
    LOG(INFO) << absl::StrFormat("rank %d of %d: %d images per micro-batch of the global batch %d%s", group_.rank(),
                                 group_.size(), micro_batch_, batch,
                                 config_.sync_batchnorm() ? ", batch norm synchronised" : "");
  }
  last_checkpoint_ = Clock::now();
  return absl::OkStatus();
}

absl::Status Trainer::Save(const std::string& path, const std::string& kind) {
  if (absl::Status status = ForEachHook([&](TrainHook& hook) { return hook.BeforeSave(&state_); }); !status.ok()) {
    return status;
  }
  if (absl::Status status = ShareBuffers(); !status.ok()) return status;
  if (group_.writes_outputs()) {
    if (absl::Status status = WriteCheckpoint(path, kind); !status.ok()) return status;
  }
  last_checkpoint_ = Clock::now();
  return absl::OkStatus();
}

absl::Status Trainer::WriteCheckpoint(const std::string& path, const std::string& kind) {
  const std::vector<double> scaler_state = optimization_.scaler->State();
  state_.mutable_grad_scaler_state()->Assign(scaler_state.begin(), scaler_state.end());
  if (absl::Status status = CaptureRngState(&state_); !status.ok()) return status;
  state_.set_kind(kind);
  optimization_.step->SyncOptimizerState();
  return SaveCheckpoint(path, state_, *model_, optimization_.optimizer.get(), ema_ ? &ema_->averaged() : nullptr);
}

absl::Status Trainer::SaveMidEpoch(const EpochProgress& progress) {
  *state_.mutable_epoch_progress() = progress;
  absl::Status status = Save(paths_.mid_epoch, "mid_epoch");
  state_.clear_epoch_progress();
  if (status.ok()) WaitForRankZero();
  return status;
}

void Trainer::WaitForRankZero() {
  if (group_.size() > 1) group_.Any(false);
}

absl::Status Trainer::ShareBuffers() {
  if (group_.size() == 1) return absl::OkStatus();
  std::vector<torch::Tensor> buffers = model_->buffers();
  if (ema_) {
    for (const torch::Tensor& buffer : ema_model_->buffers()) buffers.push_back(buffer);
  }
  return group_.Broadcast(buffers);
}

LoaderOptions Trainer::Share(LoaderOptions options) const {
  return RankShare(std::move(options), group_.rank(), group_.size(), options_.local_processes);
}

absl::StatusOr<ClassificationCounts> Trainer::SumCounts(const DeviceClassificationCounts& counts, int64_t skipped,
                                                        int64_t* skipped_sum) {
  torch::Tensor sums = counts.Sums(device_);
  torch::Tensor skipped_here = torch::full({1}, skipped, torch::TensorOptions(torch::kInt64).device(device_));
  if (group_.size() > 1) {
    if (absl::Status status = group_.Sum({sums, skipped_here}); !status.ok()) return status;
  }
  *skipped_sum = skipped_here.item<int64_t>();
  return DeviceClassificationCounts::FromSums(sums);
}

bool Trainer::MidEpochCheckpointDue() const {
  const CheckpointConfig& checkpoint = config_.checkpoint();
  return (checkpoint.every_steps() > 0 && state_.step() % checkpoint.every_steps() == 0) ||
         (checkpoint.every_minutes() > 0 && Seconds(last_checkpoint_) >= 60 * checkpoint.every_minutes());
}

ProcessGroup::Flags Trainer::AgreeAtStepBoundary() {
  std::function<ProcessGroup::Flags()> agreement = group_.AnyLater({StopRequested(), MidEpochCheckpointDue()});
  if (group_.size() == 1) return agreement();
  std::function<ProcessGroup::Flags()> previous = std::move(pending_agreement_);
  pending_agreement_ = std::move(agreement);
  return previous ? previous() : ProcessGroup::Flags{false, false};
}

absl::Status Trainer::Stopped(const std::string& checkpoint) const {
  const std::string by = StopRequested() ? StopSignalName() : "a stop request to another process of the job";
  return absl::CancelledError(absl::StrCat("stopped by ", by, " after step ", state_.step(),
                                           "; saved ", checkpoint, ". Run the same command again to continue."));
}

absl::StatusOr<PhaseResult> Trainer::TrainEpoch(int epoch) {
  model_->train();
  const EpochProgress resumed = state_.epoch_progress();  // empty unless resuming mid-epoch
  state_.clear_epoch_progress();
  const int64_t micro_batch = *MicroBatchSize(config_, plan_->BatchSize(epoch), group_.size());  // checked by OpenData
  if (config_.data().has_progressive_resizing()) {
    LOG(INFO) << absl::StrFormat("epoch %d: training crops of %d px, batch %d, %d steps, LR x %g", epoch,
                                 TrainImageSize(config_, epoch), plan_->BatchSize(epoch), plan_->StepsIn(epoch),
                                 static_cast<double>(plan_->BatchSize(epoch)) / config_.data().batch_size());
  }
  Loader loader(*train_data_, Share(TrainLoaderOptions(config_, static_cast<int>(micro_batch), epoch)), epoch,
                resumed.loader_batches());
  const int64_t micro_batches = plan_->StepsIn(epoch) * config_.grad_accumulation();

  const PhaseResult before = FromProgress(resumed);  // of the attempts before this one
  PhaseResult result = before;
  DeviceClassificationCounts counts;  // this attempt's, on the device
  ResetPeakMemory(device_);
  const auto start = Clock::now();
  // Reads the counts back from the device (summed over the processes): only when checkpointing
  // and at the end, which every process does at the same step.
  const auto update_result = [&]() -> absl::Status {
    int64_t skipped = 0;
    absl::StatusOr<ClassificationCounts> summed = SumCounts(counts, loader.skipped(), &skipped);
    if (!summed.ok()) return summed.status();
    result.counts = before.counts;
    result.counts.Merge(*summed);
    result.seconds = resumed.seconds() + Seconds(start);
    result.wait_seconds = resumed.wait_seconds() + loader.wait_seconds();
    result.skipped = resumed.skipped() + skipped;
    result.peak_memory_bytes = std::max(resumed.peak_memory_bytes(), PeakMemoryBytes(device_));
    return absl::OkStatus();
  };
  ProgressBar progress(absl::StrCat("epoch ", epoch, "/", config_.epochs(), " train"),
                       (micro_batches - resumed.micro_batches()) * micro_batch);
  TrainStep& step_arithmetic = *optimization_.step;
  DeviceBatchCopier copier(device_);
  Batch batch;
  int64_t micro = resumed.micro_batches();
  int64_t loader_batches = resumed.loader_batches();
  while (micro < micro_batches && loader.Next(&batch)) {
    loader_batches = batch.index + 1;
    if (batch.labels.size(0) == 0) continue;
    const DeviceBatch on_device = copier.Copy(batch);
    const MicroBatchResult micro_result =
        step_arithmetic.Accumulate((*normalizer_)(on_device.images, config_.channels_last()), on_device.labels,
                                   MicroBatchAugmentOf(config_, epoch, batch.index, micro_batch, group_.rank(),
                                                       group_.size()));
    counts.Add(micro_result.logits, micro_result.labels, micro_result.loss);
    ++micro;
    progress.Add(batch.labels.size(0));
    if (micro % config_.grad_accumulation() != 0) continue;

    StepEvent event;
    event.epoch = epoch;
    event.step = state_.step();
    event.epochs = epoch - 1 + static_cast<double>(micro) / micro_batches;
    event.lr = plan_->LrAt(*schedule_, event.step);
    event.logged = event.step % config_.log_every_steps() == 0;
    if (absl::Status status = step_arithmetic.Apply(event.lr, plan_->MomentumAt(*schedule_, event.step));
        !status.ok()) {
      return status;
    }
    state_.set_step(event.step + 1);
    if (ema_) ema_->AfterStep(*model_, event.step, epoch);
    if (event.logged) {
      // The one read from the device in a logged step; the others read nothing.
      event.loss = micro_result.loss.item<double>();
      progress.SetNote(absl::StrFormat("loss %.4f", event.loss));
      StepPoint* point = state_.mutable_log()->add_steps();
      point->set_step(event.step);
      point->set_epoch(event.epochs);
      point->set_lr(event.lr);
      point->set_loss(event.loss);
    }
    if (absl::Status status = ForEachHook([&](TrainHook& hook) { return hook.AfterStep(event); }); !status.ok()) {
      return status;
    }
    const ProcessGroup::Flags agreed = AgreeAtStepBoundary();
    const bool stop = agreed[0];
    if (stop || agreed[1]) {
      if (absl::Status status = update_result(); !status.ok()) return status;
      if (absl::Status status = SaveMidEpoch(ToProgress(result, loader_batches, micro, /*train_done=*/false));
          !status.ok()) {
        return status;
      }
      if (stop) {
        progress.Finish();
        return Stopped(paths_.mid_epoch);
      }
    }
  }
  progress.Finish();
  if (!loader.status().ok()) return loader.status();
  if (absl::Status status = update_result(); !status.ok()) return status;
  // The last step's agreement, still pending in a group: a stop asked for then ends the run here.
  if (pending_agreement_) {
    const bool stop = pending_agreement_()[0];
    pending_agreement_ = nullptr;
    if (stop) {
      if (absl::Status status = SaveMidEpoch(ToProgress(result, loader_batches, micro, /*train_done=*/false));
          !status.ok()) {
        return status;
      }
      return Stopped(paths_.mid_epoch);
    }
  }
  return result;
}

absl::StatusOr<PhaseResult> Trainer::Validate(int epoch, const PhaseResult& train, ResNet& model,
                                              const std::string& phase) {
  model->eval();
  ResetPeakMemory(device_);
  EvaluateOptions options;
  options.channels_last = config_.channels_last();
  options.progress_label = absl::StrCat("epoch ", epoch, "/", config_.epochs(), " ", phase);
  options.stop = StopRequested;  // Evaluate agrees on it with the group
  options.group = &group_;
  TrainStep& step_arithmetic = *optimization_.step;
  absl::StatusOr<Evaluation> evaluation =
      Evaluate([&](const torch::Tensor& images) { return step_arithmetic.Forward(model, images); }, *val_data_,
               Share(EvalLoaderOptions(config_, static_cast<int>(micro_batch_))), *normalizer_, options);
  if (absl::IsCancelled(evaluation.status())) {
    // Validation is not saved part-way: the resumed run validates these weights again.
    if (absl::Status status = SaveMidEpoch(ToProgress(train, 0, 0, /*train_done=*/true)); !status.ok()) {
      return status;
    }
    return Stopped(paths_.mid_epoch);
  }
  if (!evaluation.ok()) return evaluation.status();
  PhaseResult result;
  result.counts = evaluation->counts;
  result.seconds = evaluation->seconds;
  result.wait_seconds = evaluation->wait_seconds;
  result.skipped = evaluation->result.images_skipped();
  result.peak_memory_bytes = PeakMemoryBytes(device_);
  return result;
}

EpochMetrics Trainer::Metrics(int epoch, const std::string& phase, const PhaseResult& result) const {
  EpochMetrics metrics;
  metrics.set_epoch(epoch);
  metrics.set_phase(phase);
  metrics.set_loss(result.counts.MeanLoss());
  metrics.set_top1(result.counts.Top1Percent());
  metrics.set_top5(result.counts.Top5Percent());
  metrics.set_lr(plan_->LrAt(*schedule_, std::max<int64_t>(0, state_.step() - 1)));
  metrics.set_images(result.counts.images);
  metrics.set_seconds(result.seconds);
  metrics.set_images_per_sec(result.seconds > 0 ? result.counts.images / result.seconds : 0);
  metrics.set_data_wait_fraction(result.seconds > 0 ? result.wait_seconds / result.seconds : 0);
  metrics.set_peak_memory_bytes(result.peak_memory_bytes);
  metrics.set_step(state_.step());
  return metrics;
}

absl::Status Trainer::EndEpoch(int epoch, const PhaseResult& train, const PhaseResult* val,
                               const PhaseResult* val_ema) {
  TrainLog* log = state_.mutable_log();
  // Epoch metrics are logged at the global step, like the per-step values, so that a resumed
  // run's rewrite (which drops events after the checkpoint's step) covers them too.
  EpochEvent event;
  event.epoch = epoch;
  event.step = state_.step();
  for (const auto& [phase, result] :
       {std::pair<std::string, const PhaseResult*>{"train", &train}, {"val", val}, {"val_ema", val_ema}}) {
    if (result == nullptr) continue;
    event.metrics.push_back(Metrics(epoch, phase, *result));
    event.skipped.push_back(result->skipped);
    *log->add_epochs() = event.metrics.back();
    log->set_total_seconds(log->total_seconds() + result->seconds);
  }
  if (absl::Status status = ForEachHook([&](TrainHook& hook) { return hook.AfterEpoch(event); }); !status.ok()) {
    return status;
  }
  state_.set_epoch(epoch);
  state_.clear_epoch_progress();
  bool best = false;
  const PhaseResult* judged = config_.best_phase() == "val_ema" ? val_ema : val;
  if (judged != nullptr && (state_.best_epoch() == 0 || judged->counts.Top1Percent() > state_.best_top1())) {
    state_.set_best_top1(judged->counts.Top1Percent());
    state_.set_best_epoch(epoch);
    best = true;
  }
  if (absl::Status status = Save(paths_.last, "last"); !status.ok()) return status;
  if (group_.writes_outputs()) {
    if (absl::Status status = WriteEpochOutputs(epoch, best); !status.ok()) return status;
  }
  WaitForRankZero();
  return absl::OkStatus();
}

absl::Status Trainer::WriteEpochOutputs(int epoch, bool best) {
  if (absl::Status status = WriteProtoFile(paths_.log, state_.log()); !status.ok()) return status;
  const CheckpointConfig& checkpoint = config_.checkpoint();
  if (checkpoint.every_epochs() > 0 && epoch % checkpoint.every_epochs() == 0) {
    if (absl::Status status = WriteCheckpoint(paths_.EpochCheckpoint(epoch), absl::StrCat("epoch_", epoch));
        !status.ok()) {
      return status;
    }
    std::vector<std::string> kept = EpochCheckpoints(paths_.checkpoints);
    for (size_t i = 0; checkpoint.keep() > 0 && i + checkpoint.keep() < kept.size(); ++i) {
      std::error_code error;
      fs::remove(kept[i], error);
      if (error) LOG(WARNING) << "cannot remove " << kept[i] << ": " << error.message();
    }
  }
  if (best) {
    if (absl::Status status = WriteCheckpoint(paths_.best, "best"); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Trainer::Run() {
  if (absl::Status status = Setup(); !status.ok()) return status;
  if (state_.epoch() >= config_.epochs()) {
    LOG(INFO) << "the run in " << options_.run_dir << " is finished (" << config_.epochs()
              << " epochs); --extend_epochs=N trains it further";
    return absl::OkStatus();
  }
  for (int epoch = state_.epoch() + 1; epoch <= config_.epochs(); ++epoch) {
    PhaseResult train;
    if (state_.epoch_progress().train_done()) {
      train = FromProgress(state_.epoch_progress());
      state_.clear_epoch_progress();
    } else {
      absl::StatusOr<PhaseResult> trained = TrainEpoch(epoch);
      if (!trained.ok()) return trained.status();
      train = *trained;
    }
    std::optional<PhaseResult> val, val_ema;
    if (val_data_ != nullptr && (epoch % config_.eval_every_epochs() == 0 || epoch == config_.epochs())) {
      if (absl::Status status = ShareBuffers(); !status.ok()) return status;  // rank 0's, for both phases
      absl::StatusOr<PhaseResult> validated = Validate(epoch, train, model_, "val");
      if (!validated.ok()) return validated.status();
      val = std::move(*validated);
      if (ema_) {
        validated = Validate(epoch, train, ema_model_, "val_ema");
        if (!validated.ok()) return validated.status();
        val_ema = std::move(*validated);
      }
    }
    if (absl::Status status = EndEpoch(epoch, train, val ? &*val : nullptr, val_ema ? &*val_ema : nullptr);
        !status.ok()) {
      return status;
    }
    if (StopAgreed() && epoch < config_.epochs()) return Stopped(paths_.last);
  }
  LOG(INFO) << absl::StrFormat("done: best %s top-1 %.2f%% at epoch %d; run in %s",
                               config_.best_phase().empty() ? "val" : config_.best_phase(), state_.best_top1(),
                               state_.best_epoch(), options_.run_dir);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunTraining(const TrainOptions& options) {
  absl::StatusOr<torch::Device> device = ParseDevice(options.device);
  if (!device.ok()) return device.status();
  if (options.threads > 0) torch::set_num_threads(options.threads);
  SingleProcess single_process;
  ProcessGroup& group = options.process_group != nullptr ? *options.process_group : single_process;
  std::unique_ptr<LockFile> lock;
  if (group.writes_outputs()) {
    std::error_code error;
    fs::create_directories(options.run_dir, error);
    if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot create --run_dir ", options.run_dir));
    absl::StatusOr<std::unique_ptr<LockFile>> locked = LockFile::Acquire(RunPaths(options.run_dir).lock);
    if (!locked.ok()) return locked.status();
    lock = std::move(*locked);
  }
  try {
    Trainer trainer(options, *device, group);
    return trainer.Run();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace forge
