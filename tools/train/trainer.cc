#include "tools/train/trainer.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include <glog/logging.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/data/augment.h"
#include "lib/data/dataset.h"
#include "lib/data/loader.h"
#include "lib/data/normalize.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/model/memory_format.h"
#include "lib/model/resnet.h"
#include "lib/model/summary.h"
#include "lib/train/autocast.h"
#include "lib/train/checkpoint.h"
#include "lib/train/grad_scaler.h"
#include "lib/train/loss.h"
#include "lib/train/metrics.h"
#include "lib/train/optimizer.h"
#include "lib/train/schedule.h"
#include "lib/train/tensorboard.h"
#include "lib/util/progress.h"
#include "proto/checkpoint.pb.h"
#include "proto/stats.pb.h"
#include "proto/train_log.pb.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunPaths {
  explicit RunPaths(const std::string& run_dir)
      : config(run_dir + "/config.txtpb"),
        summary(run_dir + "/model_summary.txtpb"),
        log(run_dir + "/train_log.pb"),
        checkpoints(run_dir + "/checkpoints"),
        last(checkpoints + "/last.ckpt"),
        best(checkpoints + "/best.ckpt"),
        tensorboard(run_dir + "/tensorboard") {}
  std::string config, summary, log, checkpoints, last, best, tensorboard;
};

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t PeakHostMemoryBytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

absl::StatusOr<torch::Device> ChooseDevice(const std::string& name) {
  if (name.empty()) return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat("--device=", name, " but no CUDA device is available"));
    }
    return device;
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("--device=", name, " is not a device (cpu, cuda, cuda:N)"));
  }
}

// Classes of two datasets must be the same WNIDs in the same order, so labels mean the same.
absl::Status CheckSameClasses(const ImageDataset& train, const ImageDataset& val) {
  const auto& a = train.classes();
  const auto& b = val.classes();
  if (a.size() != b.size()) {
    return absl::InvalidArgumentError(absl::StrCat(val.source(), " has ", b.size(), " classes, ", train.source(),
                                                   " has ", a.size(), "; shard val with --classes_from"));
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].wnid() != b[i].wnid()) {
      return absl::InvalidArgumentError(absl::StrCat("class ", i, " is ", a[i].wnid(), " in ", train.source(),
                                                     " but ", b[i].wnid(), " in ", val.source()));
    }
  }
  return absl::OkStatus();
}

struct PhaseResult {
  ClassificationCounts counts;
  double seconds = 0;
  double wait_seconds = 0;
  int64_t skipped = 0;
};

// Everything one run holds while training.
class Trainer {
 public:
  Trainer(const TrainOptions& options, torch::Device device) : options_(options), paths_(options.run_dir), device_(device) {}

  absl::Status Run();

 private:
  absl::Status Setup();
  absl::StatusOr<PhaseResult> TrainEpoch(int epoch);
  absl::StatusOr<PhaseResult> Evaluate(int epoch);
  absl::Status EndEpoch(int epoch, const PhaseResult& train, const PhaseResult* val);
  EpochMetrics Metrics(int epoch, const std::string& phase, const PhaseResult& result) const;

  const TrainOptions& options_;
  const RunPaths paths_;
  const torch::Device device_;
  TrainConfig config_;
  ChannelStats stats_;
  std::unique_ptr<ImageDataset> train_data_, val_data_;
  std::unique_ptr<Normalizer> normalizer_;
  ResNet model_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  std::unique_ptr<GradScaler> scaler_;
  std::unique_ptr<EventWriter> events_;
  TrainState state_;
  int64_t micro_batch_ = 0;
  int64_t steps_per_epoch_ = 0;
  bool autocast_ = false;
  at::ScalarType autocast_dtype_ = at::kBFloat16;
};

absl::Status Trainer::Setup() {
  const bool resuming = options_.resume;
  const bool has_run = fs::exists(paths_.last) || fs::exists(paths_.log);
  if (!resuming && has_run) {
    return absl::FailedPreconditionError(absl::StrCat(
        options_.run_dir, " already holds a run; pass --resume to continue it or choose another --run_dir"));
  }
  if (resuming) {
    absl::StatusOr<TrainState> state = ReadTrainState(paths_.last);
    if (!state.ok()) return state.status();
    state_ = std::move(*state);
    config_ = state_.config();
    LOG(INFO) << "resuming " << paths_.last << " after epoch " << state_.epoch() << ", step " << state_.step();
  } else {
    config_ = options_.config;
    state_.set_kind("last");
  }
  if (config_.precision() == "fp16" && !device_.is_cuda()) {
    return absl::InvalidArgumentError("precision fp16 needs CUDA; use bf16 (or fp32) on the CPU");
  }
  autocast_ = config_.precision() != "fp32";
  autocast_dtype_ = config_.precision() == "fp16" ? at::kHalf : at::kBFloat16;

  if (absl::Status status = ReadProtoFile(options_.stats, &stats_); !status.ok()) return status;
  absl::StatusOr<Normalizer> normalizer = Normalizer::Create(stats_, device_);
  if (!normalizer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(options_.stats, ": ", normalizer.status().message()));
  }
  normalizer_ = std::make_unique<Normalizer>(std::move(*normalizer));

  absl::StatusOr<std::unique_ptr<ImageDataset>> train = OpenImageDataset(options_.train_data);
  if (!train.ok()) return train.status();
  train_data_ = std::move(*train);
  if (!options_.val_data.empty()) {
    absl::StatusOr<std::unique_ptr<ImageDataset>> val = OpenImageDataset(options_.val_data);
    if (!val.ok()) return val.status();
    val_data_ = std::move(*val);
    if (absl::Status status = CheckSameClasses(*train_data_, *val_data_); !status.ok()) return status;
  }

  const int64_t batch = config_.data().batch_size();
  if (batch % config_.grad_accumulation() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("data.batch_size ", batch, " is not a multiple of grad_accumulation ",
                                                   config_.grad_accumulation()));
  }
  micro_batch_ = batch / config_.grad_accumulation();
  steps_per_epoch_ = static_cast<int64_t>(train_data_->size()) / batch;
  if (steps_per_epoch_ == 0) {
    return absl::InvalidArgumentError(absl::StrCat(options_.train_data, " has ", train_data_->size(),
                                                   " images, fewer than one batch of ", batch));
  }

  absl::StatusOr<ResNetOptions> model_options =
      ResNetOptionsFromName(config_.model().name(), static_cast<int64_t>(train_data_->classes().size()));
  if (!model_options.ok()) return model_options.status();
  model_options->zero_init_residual = config_.model().zero_init_residual();
  torch::manual_seed(config_.seed());
  if (config_.deterministic()) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  model_ = ResNet(*model_options);
  if (!resuming) {
    fs::create_directories(paths_.checkpoints);
    const int image = config_.data().eval_size();
    if (absl::Status status = WriteProtoFile(paths_.summary, SummarizeResNet(model_, {1, 3, image, image}));
        !status.ok()) {
      return status;
    }
    if (absl::Status status = WriteProtoFile(paths_.config, config_); !status.ok()) return status;
  }
  model_->to(device_);
  if (config_.channels_last()) ConvertToChannelsLast(*model_);

  const double peak = PeakLr(config_.schedule(), batch);
  const int64_t total_steps = steps_per_epoch_ * config_.epochs();
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule =
      MakeSchedule(config_.schedule(), peak, total_steps, steps_per_epoch_);
  if (!schedule.ok()) return schedule.status();
  schedule_ = std::move(*schedule);
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(config_.optimizer(), *model_, schedule_->LrAt(0));
  if (!optimizer.ok()) return optimizer.status();
  optimizer_ = std::move(*optimizer);
  scaler_ = std::make_unique<GradScaler>(config_.precision() == "fp16");

  if (resuming) {
    TrainState loaded;
    if (absl::Status status = LoadCheckpoint(paths_.last, &loaded, *model_, optimizer_.get()); !status.ok()) {
      return status;
    }
    std::vector<double> scaler_state(loaded.grad_scaler_state().begin(), loaded.grad_scaler_state().end());
    if (!scaler_state.empty()) {
      if (absl::Status status = scaler_->LoadState(scaler_state); !status.ok()) return status;
    }
    if (absl::Status status = RewriteEventsWithoutStepsAfter(paths_.tensorboard, state_.step()); !status.ok()) {
      return status;
    }
  } else {
    TrainLog* log = state_.mutable_log();
    log->set_run_name(config_.name());
    log->set_model(config_.model().name());
    log->set_total_epochs(config_.epochs());
    log->set_batch_size(batch);
    log->set_device(device_.str());
    *state_.mutable_config() = config_;
    *state_.mutable_stats() = stats_;
    for (const ClassInfo& info : train_data_->classes()) state_.add_classes(info.wnid());
  }
  fs::create_directories(paths_.tensorboard);
  absl::StatusOr<std::unique_ptr<EventWriter>> events = EventWriter::Create(paths_.tensorboard);
  if (!events.ok()) return events.status();
  events_ = std::move(*events);
  LOG(INFO) << absl::StrFormat("%s on %s: %d classes, %d train images, %d steps/epoch x %d epochs, peak lr %g",
                               config_.model().name(), device_.str(), train_data_->classes().size(),
                               train_data_->size(), steps_per_epoch_, config_.epochs(), peak);
  return absl::OkStatus();
}

absl::StatusOr<PhaseResult> Trainer::TrainEpoch(int epoch) {
  model_->train();
  LoaderOptions loader_options;
  loader_options.sampler.seed = config_.seed();
  loader_options.sampler.batch_size = static_cast<int>(micro_batch_);
  loader_options.sampler.drop_last_batch = true;
  loader_options.height = loader_options.width = config_.data().image_size();
  TrainTransformOptions transform;
  transform.size = config_.data().image_size();
  transform.min_scale = config_.data().min_scale();
  transform.flip = config_.data().flip();
  loader_options.transform = [transform](absl::string_view encoded, uint64_t seed, uint8_t* out) {
    return TrainTransform(encoded, transform, seed, out);
  };
  loader_options.threads = config_.data().loader_threads();
  loader_options.prefetch_batches = config_.data().prefetch_batches();
  loader_options.skip_corrupt = config_.data().skip_corrupt();
  Loader loader(*train_data_, loader_options, epoch);
  const int64_t micro_batches = steps_per_epoch_ * config_.grad_accumulation();

  PhaseResult result;
  const auto start = Clock::now();
  ProgressBar progress(absl::StrCat("epoch ", epoch, "/", config_.epochs(), " train"), steps_per_epoch_ * config_.data().batch_size());
  Batch batch;
  int64_t micro = 0;
  double running_loss = 0;
  while (micro < micro_batches && loader.Next(&batch)) {
    if (batch.labels.size(0) == 0) continue;
    torch::Tensor x = (*normalizer_)(batch.images, config_.channels_last());
    torch::Tensor y = batch.labels.to(device_);
    torch::Tensor logits, loss;
    {
      AutocastGuard autocast(device_.type(), autocast_dtype_, autocast_);
      logits = model_->forward(x);
    }
    loss = CrossEntropy(logits, y, config_.label_smoothing());
    scaler_->Scale(loss / static_cast<double>(config_.grad_accumulation())).backward();
    const double loss_value = loss.item<double>();
    CountBatch(logits.detach(), y, loss_value, &result.counts);
    running_loss = running_loss == 0 ? loss_value : 0.9 * running_loss + 0.1 * loss_value;
    ++micro;
    if (micro % config_.grad_accumulation() == 0) {
      const int64_t step = state_.step();
      const double lr = schedule_->LrAt(step);
      SetLearningRate(*optimizer_, lr);
      if (config_.grad_clip_norm() > 0) {
        scaler_->Unscale(*optimizer_);
        torch::nn::utils::clip_grad_norm_(model_->parameters(), config_.grad_clip_norm());
      }
      scaler_->Step(*optimizer_);
      scaler_->Update();
      optimizer_->zero_grad();
      state_.set_step(step + 1);
      if (step % config_.log_every_steps() == 0) {
        StepPoint* point = state_.mutable_log()->add_steps();
        point->set_step(step);
        point->set_epoch(epoch - 1 + static_cast<double>(micro) / micro_batches);
        point->set_lr(lr);
        point->set_loss(loss_value);
        const double now = WallTime();
        events_->AddScalar("train/step_loss", step, loss_value, now).IgnoreError();
        events_->AddScalar("train/lr", step, lr, now).IgnoreError();
      }
    }
    progress.Add(batch.labels.size(0));
    progress.SetNote(absl::StrFormat("loss %.4f", running_loss));
  }
  progress.Finish();
  if (!loader.status().ok()) return loader.status();
  result.seconds = Seconds(start);
  result.wait_seconds = loader.wait_seconds();
  result.skipped = loader.skipped();
  return result;
}

absl::StatusOr<PhaseResult> Trainer::Evaluate(int epoch) {
  model_->eval();
  torch::NoGradGuard no_grad;
  LoaderOptions loader_options;
  loader_options.sampler.shuffle = false;
  loader_options.sampler.batch_size = static_cast<int>(micro_batch_);
  loader_options.height = loader_options.width = config_.data().eval_size();
  EvalTransformOptions transform;
  transform.size = config_.data().eval_size();
  transform.crop_ratio = config_.data().eval_crop_ratio();
  loader_options.transform = [transform](absl::string_view encoded, uint64_t, uint8_t* out) {
    return EvalTransform(encoded, transform, out);
  };
  loader_options.threads = config_.data().loader_threads();
  loader_options.prefetch_batches = config_.data().prefetch_batches();
  loader_options.skip_corrupt = config_.data().skip_corrupt();
  Loader loader(*val_data_, loader_options, /*epoch=*/0);
  PhaseResult result;
  const auto start = Clock::now();
  ProgressBar progress(absl::StrCat("epoch ", epoch, "/", config_.epochs(), " val"), val_data_->size());
  Batch batch;
  while (loader.Next(&batch)) {
    if (batch.labels.size(0) == 0) continue;
    torch::Tensor x = (*normalizer_)(batch.images, config_.channels_last());
    torch::Tensor y = batch.labels.to(device_);
    torch::Tensor logits;
    {
      AutocastGuard autocast(device_.type(), autocast_dtype_, autocast_);
      logits = model_->forward(x);
    }
    const double loss = CrossEntropy(logits, y, 0.0).item<double>();
    CountBatch(logits, y, loss, &result.counts);
    progress.Add(batch.labels.size(0) + batch.skipped);
  }
  progress.Finish();
  if (!loader.status().ok()) return loader.status();
  result.seconds = Seconds(start);
  result.wait_seconds = loader.wait_seconds();
  result.skipped = loader.skipped();
  return result;
}

EpochMetrics Trainer::Metrics(int epoch, const std::string& phase, const PhaseResult& result) const {
  EpochMetrics metrics;
  metrics.set_epoch(epoch);
  metrics.set_phase(phase);
  metrics.set_loss(result.counts.MeanLoss());
  metrics.set_top1(result.counts.Top1Percent());
  metrics.set_top5(result.counts.Top5Percent());
  metrics.set_lr(schedule_->LrAt(std::max<int64_t>(0, state_.step() - 1)));
  metrics.set_images(result.counts.images);
  metrics.set_seconds(result.seconds);
  metrics.set_images_per_sec(result.seconds > 0 ? result.counts.images / result.seconds : 0);
  metrics.set_data_wait_fraction(result.seconds > 0 ? result.wait_seconds / result.seconds : 0);
  metrics.set_peak_memory_bytes(PeakHostMemoryBytes());
  metrics.set_step(state_.step());
  return metrics;
}

absl::Status Trainer::EndEpoch(int epoch, const PhaseResult& train, const PhaseResult* val) {
  TrainLog* log = state_.mutable_log();
  const double now = WallTime();
  // Epoch metrics are logged at the global step, like the per-step values, so that a resumed
  // run's rewrite (which drops events after the checkpoint's step) covers them too.
  const int64_t step = state_.step();
  for (const auto& [phase, result] : {std::pair<std::string, const PhaseResult*>{"train", &train}, {"val", val}}) {
    if (result == nullptr) continue;
    const EpochMetrics metrics = Metrics(epoch, phase, *result);
    *log->add_epochs() = metrics;
    log->set_total_seconds(log->total_seconds() + result->seconds);
    events_->AddScalar(phase + "/loss", step, metrics.loss(), now).IgnoreError();
    events_->AddScalar(phase + "/top1", step, metrics.top1(), now).IgnoreError();
    events_->AddScalar(phase + "/top5", step, metrics.top5(), now).IgnoreError();
    events_->AddScalar(phase + "/images_per_sec", step, metrics.images_per_sec(), now).IgnoreError();
    LOG(INFO) << absl::StrFormat("epoch %d %s: loss %.4f top-1 %.2f%% top-5 %.2f%% %.1f img/s (%.0f%% waiting for data)%s",
                                 epoch, phase, metrics.loss(), metrics.top1(), metrics.top5(),
                                 metrics.images_per_sec(), 100 * metrics.data_wait_fraction(),
                                 result->skipped ? absl::StrCat(", ", result->skipped, " images skipped") : "");
  }
  state_.set_epoch(epoch);
  state_.set_batch_in_epoch(0);
  const std::vector<double> scaler_state = scaler_->State();
  state_.mutable_grad_scaler_state()->Assign(scaler_state.begin(), scaler_state.end());
  bool best = false;
  if (val != nullptr && (state_.best_epoch() == 0 || val->counts.Top1Percent() > state_.best_top1())) {
    state_.set_best_top1(val->counts.Top1Percent());
    state_.set_best_epoch(epoch);
    best = true;
  }
  if (absl::Status status = events_->Flush(); !status.ok()) return status;
  if (absl::Status status = WriteProtoFile(paths_.log, *log); !status.ok()) return status;
  state_.set_kind("last");
  if (absl::Status status = SaveCheckpoint(paths_.last, state_, *model_, optimizer_.get()); !status.ok()) return status;
  if (best) {
    TrainState best_state = state_;
    best_state.set_kind("best");
    if (absl::Status status = SaveCheckpoint(paths_.best, best_state, *model_, optimizer_.get()); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status Trainer::Run() {
  if (absl::Status status = Setup(); !status.ok()) return status;
  for (int epoch = state_.epoch() + 1; epoch <= config_.epochs(); ++epoch) {
    absl::StatusOr<PhaseResult> train = TrainEpoch(epoch);
    if (!train.ok()) return train.status();
    std::optional<PhaseResult> val;
    if (val_data_ != nullptr && (epoch % config_.eval_every_epochs() == 0 || epoch == config_.epochs())) {
      absl::StatusOr<PhaseResult> evaluated = Evaluate(epoch);
      if (!evaluated.ok()) return evaluated.status();
      val = std::move(*evaluated);
    }
    if (absl::Status status = EndEpoch(epoch, *train, val ? &*val : nullptr); !status.ok()) return status;
  }
  LOG(INFO) << absl::StrFormat("done: best val top-1 %.2f%% at epoch %d; run in %s", state_.best_top1(),
                               state_.best_epoch(), options_.run_dir);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunTraining(const TrainOptions& options) {
  absl::StatusOr<torch::Device> device = ChooseDevice(options.device);
  if (!device.ok()) return device.status();
  if (options.threads > 0) torch::set_num_threads(options.threads);
  std::error_code error;
  fs::create_directories(options.run_dir, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("cannot create --run_dir ", options.run_dir, ": ", error.message()));
  try {
    Trainer trainer(options, *device);
    return trainer.Run();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace forge
