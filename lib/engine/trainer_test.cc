// train's loop on a very small dataset: the bf16 path on the CPU; resuming, stopping, extending
// and freezing runs; damaged checkpoints; locks; refusals.
#include "lib/engine/trainer.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/io/lock_file.h"
#include "lib/io/proto_file.h"
#include "lib/util/stop_signals.h"
#include "proto/train_log.pb.h"
#include "testdata/tiny_training_inputs.h"
#include "lib/train/checkpoint.h"
#include "lib/train/optimizer.h"
#include "lib/train/schedule.h"
#include "lib/model/resnet.h"
#include "proto/checkpoint.pb.h"
#include "lib/engine/config.h"
#include "lib/engine/hooks.h"
#include "lib/engine/run_testing.h"
#include "lib/engine/state_dict.h"
#include "lib/io/safetensors.h"
#include "lib/engine/step.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

const testdata::TinyTrainingInputs& Inputs() {
  static const testdata::TinyTrainingInputs* inputs = [] {
    absl::StatusOr<testdata::TinyTrainingInputs> written =
        testdata::WriteTinyTrainingInputs(testdata::NewScratchDir("inputs"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new testdata::TinyTrainingInputs(*written);
  }();
  return *inputs;
}

TrainOptions Options(const std::string& run, const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {"model.name=\"resnet18\"", "data.batch_size=8", "data.image_size=32",
                                  "data.eval_size=32", "data.loader_threads=2", "epochs=1",
                                  "optimizer.sgd.momentum=0.9", "schedule.peak_lr=0.01", "schedule.constant={}",
                                  "log_every_steps=1", "deterministic=true"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  absl::StatusOr<TrainConfig> config = LoadConfig("", all);
  EXPECT_TRUE(config.ok()) << config.status();
  TrainOptions options;
  options.config = *config;
  options.train_data = Inputs().train;
  options.val_data = Inputs().train;
  options.stats = Inputs().stats;
  options.run_dir = testdata::NewScratchDir(run);
  options.device = "cpu";
  fs::remove_all(options.run_dir);
  return options;
}

TrainLog ReadLog(const std::string& run_dir) {
  TrainLog log;
  EXPECT_TRUE(ReadProtoFile(run_dir + "/train_log.pb", &log).ok());
  return log;
}

// Records what the loop tells its hooks.
class RecordingHook : public TrainHook {
 public:
  absl::Status AfterStep(const StepEvent& step) override {
    steps.push_back(step.step);
    return absl::OkStatus();
  }
  absl::Status AfterEpoch(const EpochEvent& epoch) override {
    for (const EpochMetrics& metrics : epoch.metrics) phases.push_back(absl::StrCat(epoch.epoch, metrics.phase()));
    return absl::OkStatus();
  }
  absl::Status BeforeSave(TrainState* state) override {
    saved_at_steps.push_back(state->step());
    return absl::OkStatus();
  }
  absl::Status AfterLoad(const TrainState& state) override {
    loaded_at_steps.push_back(state.step());
    return absl::OkStatus();
  }
  std::vector<int64_t> steps, saved_at_steps, loaded_at_steps;
  std::vector<std::string> phases;
};

TEST(TrainerTest, Bf16OnTheCpuTrainsWithFiniteLossAndCallsItsHooks) {
  TrainOptions options = Options("bf16", {"precision=\"bf16\""});
  RecordingHook hook;
  options.hooks = {&hook};
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(hook.steps, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(hook.phases, (std::vector<std::string>{"1train", "1val"}));
  // Once at the end of the epoch, for last.ckpt and best.ckpt of the same state (mid-epoch
  // checkpoints are on a 2-minute timer).
  EXPECT_EQ(hook.saved_at_steps, (std::vector<int64_t>{5}));
  const TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.epochs_size(), 2);
  for (const EpochMetrics& m : log.epochs()) EXPECT_TRUE(std::isfinite(m.loss())) << m.phase();
  EXPECT_EQ(log.steps_size(), 5);  // 40 images / batch 8, every step logged
  for (const char* file : {"/config.txtpb", "/model_summary.txtpb", "/checkpoints/last.ckpt",
                           "/checkpoints/best.ckpt"}) {
    EXPECT_TRUE(fs::exists(options.run_dir + file)) << file;
  }
}

// The whole loop on a GPU: fp16 with loss scaling, channels_last, clipping, fused SGD, batches
// copied on the side stream, validation on the device; then a resume from a mid-epoch stop.
TEST(TrainerTest, TrainsAndResumesOnCudaInFp16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  // Not deterministic: some CUDA kernels of ResNet's backward have no deterministic version.
  const std::vector<std::string> overrides = {"precision=\"fp16\"", "channels_last=true", "grad_clip_norm=1.0",
                                              "deterministic=false", "epochs=2", "data.batch_size=4"};
  TrainOptions options = Options("cuda", overrides);
  options.device = "cuda";
  RequestStop();
  absl::Status status = RunTraining(options);
  ClearStopRequest();
  ASSERT_TRUE(absl::IsCancelled(status)) << status;
  options.config.reset();
  options.resume = true;
  status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  const TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.epochs_size(), 4);
  for (const EpochMetrics& m : log.epochs()) {
    EXPECT_TRUE(std::isfinite(m.loss())) << m.phase();
    EXPECT_EQ(m.images(), 40) << m.phase();
    EXPECT_GT(m.peak_memory_bytes(), 0);
  }
  EXPECT_EQ(log.device().substr(0, 4), "cuda");
}

using train_testing::ExpectEachStepLoggedOnce;

TEST(TrainerTest, RerunningAFinishedRunDoesNothingAndExtendingItContinues) {
  TrainOptions options = Options("extend", {});
  ASSERT_TRUE(RunTraining(options).ok());
  ASSERT_TRUE(RunTraining(options).ok()) << "the same command again: the run is finished";
  EXPECT_EQ(ReadLog(options.run_dir).epochs_size(), 2);

  options.extend_epochs = 2;
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.epochs_size(), 4);
  EXPECT_EQ(log.total_epochs(), 2);
  EXPECT_EQ(log.epochs(2).epoch(), 2);
  EXPECT_EQ(log.epochs(3).phase(), "val");
  EXPECT_EQ(log.epochs(3).step(), 10);
  EXPECT_EQ(log.steps_size(), 10);
  ExpectEachStepLoggedOnce(log);
  TrainConfig saved;
  ASSERT_TRUE(ReadProtoFile(options.run_dir + "/config.txtpb", &saved).ok());
  EXPECT_EQ(saved.epochs(), 2);
  ASSERT_EQ(saved.schedule_changes_size(), 1);
  EXPECT_EQ(saved.schedule_changes(0).at_step(), 5);

  // The original command, and the extension asked again, continue the same (finished) run.
  options.extend_epochs = 0;
  EXPECT_TRUE(RunTraining(options).ok());
  options.extend_epochs = 2;
  EXPECT_TRUE(RunTraining(options).ok());
  EXPECT_EQ(ReadLog(options.run_dir).epochs_size(), 4);
  options.extend_epochs = 1;
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(options))) << "extending to fewer epochs";
}

TEST(TrainerTest, AnotherConfigInTheSameRunDirIsRefused) {
  TrainOptions options = Options("other_config", {});
  ASSERT_TRUE(RunTraining(options).ok());
  TrainOptions other = Options("other_config_b", {"data.batch_size=4"});
  other.run_dir = options.run_dir;
  absl::Status status = RunTraining(other);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "batch_size")) << status;
  TrainOptions longer = Options("other_config_c", {"epochs=3"});
  longer.run_dir = options.run_dir;
  status = RunTraining(longer);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--extend_epochs")) << status;
  // Settings that do not change the computation may differ.
  TrainOptions threads = Options("other_config_d", {"data.loader_threads=1", "checkpoint.every_steps=2"});
  threads.run_dir = options.run_dir;
  EXPECT_TRUE(RunTraining(threads).ok());
}

// SGD and AdamW, both stepped by fused kernels (AdamW's step counts kept on the device and written
// into the checkpoint).
TEST(TrainerTest, StoppedMidEpochThenResumedEqualsAnUninterruptedRunBitForBit) {
 for (const char* optimizer : {"optimizer.sgd.momentum=0.9", "optimizer.adamw={}"}) {
  SCOPED_TRACE(optimizer);
  // Stochastic depth draws from torch's generator: the checkpoint's copy of it must resume too;
  // mixing draws from seeds of (seed, epoch, batch).
  const std::vector<std::string> overrides = {"data.batch_size=4", "epochs=2", "schedule.one_cycle={}",
                                              "schedule.peak_lr=0.05", "model.stochastic_depth=0.3",
                                              "model.blurpool=true",
                                              "mixing.mixup_alpha=0.2", "mixing.cutmix_alpha=1.0", optimizer};
  const TrainOptions straight = Options("straight", overrides);
  ASSERT_TRUE(RunTraining(straight).ok());

  TrainOptions stopped = Options("stopped", overrides);
  RequestStop();  // as a SIGTERM during the first step would
  absl::Status status = RunTraining(stopped);
  ClearStopRequest();
  ASSERT_TRUE(absl::IsCancelled(status)) << status;
  absl::StatusOr<TrainState> mid = ReadTrainState(stopped.run_dir + "/checkpoints/mid_epoch.ckpt");
  ASSERT_TRUE(mid.ok()) << mid.status();
  EXPECT_EQ(mid->step(), 1);
  EXPECT_EQ(mid->epoch_progress().loader_batches(), 1);
  EXPECT_FALSE(fs::exists(stopped.run_dir + "/checkpoints/last.ckpt"));

  stopped.config.reset();  // --resume with the run's own config
  stopped.resume = true;
  RecordingHook hook;
  stopped.hooks = {&hook};
  status = RunTraining(stopped);
  ASSERT_TRUE(status.ok()) << status;
  train_testing::ExpectSameRun(straight.run_dir, stopped.run_dir);
  // A hook keeping state of its own (a model-EMA) gets the checkpoint it resumes from, then
  // every step after it once.
  EXPECT_EQ(hook.loaded_at_steps, (std::vector<int64_t>{1}));
  ASSERT_FALSE(hook.steps.empty());
  EXPECT_EQ(hook.steps.front(), 1);
  EXPECT_EQ(hook.steps.back(), 19);  // 2 epochs of 40 images / batch 4
  EXPECT_EQ(hook.steps.size(), 19u);
 }
}

// Asks the loop to stop after step `at` (as a SIGTERM then would).
class StopAfterStep : public TrainHook {
 public:
  explicit StopAfterStep(int64_t at) : at_(at) {}
  absl::Status AfterStep(const StepEvent& step) override {
    if (step.step == at_) RequestStop();
    return absl::OkStatus();
  }

 private:
  const int64_t at_;
};

// Progressive resizing with a batch size of its own for one size, EMA with warm-up, mixing,
// TrivialAugmentWide, random erasing with noise and repeated augmentation: stopped in the middle
// of the ramp (epoch 2 of 3, at 48 px and batch 8) and resumed, the run equals an uninterrupted
// one, EMA weights included.
TEST(TrainerTest, StoppedMidRampWithEveryAugmentationThenResumedEqualsAnUninterruptedRun) {
  const std::vector<std::string> overrides = {
      "data.batch_size=4", "epochs=3", "schedule.one_cycle={}", "schedule.peak_lr=0.05",
      "data.progressive_resizing={start_size: 32 end_size: 64 start_epoch: 1 end_epoch: 3 size_step: 16 "
      "batch_sizes {size: 48 batch_size: 8}}",
      "ema={decay: 0.9 warmup: true}", "mixing.mixup_alpha=0.2", "mixing.cutmix_alpha=1.0",
      "data.auto_augment={policy: 'trivial_augment_wide'}", "data.random_erasing={probability: 0.5 random_value: true}",
      "data.repeated_augmentations=2"};
  const TrainOptions straight = Options("ramp_straight", overrides);
  ASSERT_TRUE(RunTraining(straight).ok());
  TrainLog log = ReadLog(straight.run_dir);
  // Epochs of 10, 5 and 10 steps; epoch 2's LR doubled by its batch of 8.
  ASSERT_EQ(log.steps_size(), 25);
  std::vector<std::string> phases;
  for (const EpochMetrics& m : log.epochs()) phases.push_back(absl::StrCat(m.epoch(), m.phase()));
  EXPECT_EQ(phases, (std::vector<std::string>{"1train", "1val", "1val_ema", "2train", "2val", "2val_ema", "3train",
                                              "3val", "3val_ema"}));
  absl::StatusOr<TrainState> state = ReadTrainState(straight.run_dir + "/checkpoints/last.ckpt");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->has_ema());

  TrainOptions stopped = Options("ramp_stopped", overrides);
  StopAfterStep stop(12);  // the third step of epoch 2
  stopped.hooks = {&stop};
  absl::Status status = RunTraining(stopped);
  ClearStopRequest();
  ASSERT_TRUE(absl::IsCancelled(status)) << status;
  absl::StatusOr<TrainState> mid = ReadTrainState(stopped.run_dir + "/checkpoints/mid_epoch.ckpt");
  ASSERT_TRUE(mid.ok()) << mid.status();
  EXPECT_EQ(mid->step(), 13);
  EXPECT_EQ(mid->epoch(), 1);
  EXPECT_TRUE(mid->has_ema());
  stopped.hooks = {};
  stopped.config.reset();
  stopped.resume = true;
  ASSERT_TRUE(RunTraining(stopped).ok());
  train_testing::ExpectSameRun(straight.run_dir, stopped.run_dir);
}

// EMA weights are validated each epoch as val_ema, can choose best.ckpt, and eval reads them.
TEST(TrainerTest, TheEmaIsValidatedAndCanChooseTheBestCheckpoint) {
  TrainOptions options = Options("ema_best", {"epochs=2", "ema.decay=0.5", "best_phase=\"val_ema\""});
  ASSERT_TRUE(RunTraining(options).ok());
  const TrainLog log = ReadLog(options.run_dir);
  double best_ema = -1;
  int best_epoch = 0;
  for (const EpochMetrics& m : log.epochs()) {
    if (m.phase() == "val_ema" && m.top1() > best_ema) {
      best_ema = m.top1();
      best_epoch = m.epoch();
    }
  }
  absl::StatusOr<TrainState> best = ReadTrainState(options.run_dir + "/checkpoints/best.ckpt");
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->best_top1(), best_ema);
  EXPECT_EQ(best->best_epoch(), best_epoch);
  // The EMA differs from the weights after 10 steps of decay 0.5.
  absl::StatusOr<ResNetOptions> model_options = ResNetOptionsFromName("resnet18", 10);
  ResNet model(*model_options), ema(*model_options);
  ASSERT_TRUE(LoadCheckpoint(options.run_dir + "/checkpoints/last.ckpt", nullptr, *model, nullptr, ema.get()).ok());
  EXPECT_FALSE(torch::equal(model->fc->weight, ema->fc->weight));

  for (const char* bad : {"best_phase=\"val_ema\"", "best_phase=\"train\"", "ema.decay=1"}) {
    absl::Status status =
        LoadConfig("", {"data.batch_size=8", "epochs=1", "optimizer.sgd={}", "schedule.constant={}", bad}).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), std::string(bad).substr(0, std::string(bad).find('='))))
        << status;
  }
}

TEST(TrainerTest, DamagedCheckpointsAreSkippedForTheNewestGoodOne) {
  TrainOptions options = Options("damaged", {"epochs=2", "checkpoint.every_epochs=1", "checkpoint.keep=1"});
  ASSERT_TRUE(RunTraining(options).ok());
  const std::string checkpoints = options.run_dir + "/checkpoints/";
  EXPECT_FALSE(fs::exists(checkpoints + "epoch_0001.ckpt")) << "keep=1 keeps the newest only";
  ASSERT_TRUE(fs::exists(checkpoints + "epoch_0002.ckpt"));
  for (const char* name : {"last.ckpt", "best.ckpt"}) {  // flip a byte near the end of each
    const std::string path = checkpoints + name;
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(-100, std::ios::end);
    char byte = 0;
    file.get(byte);
    file.seekp(-100, std::ios::end);
    file.put(static_cast<char>(byte ^ 0x40));
  }
  // What a writer killed mid-checkpoint leaves: removed by the next run (names of other files stay).
  std::ofstream(checkpoints + "last.ckpt.tmp.Ab12Cd") << "half-written";
  std::ofstream(checkpoints + "notes.tmp.Ab12Cd") << "not a checkpoint";
  options.extend_epochs = 3;
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_FALSE(fs::exists(checkpoints + "last.ckpt.tmp.Ab12Cd"));
  EXPECT_TRUE(fs::exists(checkpoints + "notes.tmp.Ab12Cd"));
  fs::remove(checkpoints + "notes.tmp.Ab12Cd");
  EXPECT_EQ(ReadLog(options.run_dir).epochs_size(), 6);
  ExpectEachStepLoggedOnce(ReadLog(options.run_dir));

  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << "garbage";
  }
  status = RunTraining(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
}

TEST(TrainerTest, FreezingTheLrContinuesAtTheLastOrAGivenValue) {
  TrainOptions options = Options("freeze", {"data.batch_size=4", "schedule.one_cycle={}", "schedule.peak_lr=0.05"});
  ASSERT_TRUE(RunTraining(options).ok());
  const double last_lr = ReadLog(options.run_dir).steps(9).lr();
  options.extend_epochs = 2;
  options.freeze_lr = "last";
  ASSERT_TRUE(RunTraining(options).ok());
  TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.steps_size(), 20);
  for (int i = 10; i < 20; ++i) EXPECT_EQ(log.steps(i).lr(), last_lr) << i;
  options.extend_epochs = 3;
  options.freeze_lr = "0.002";
  ASSERT_TRUE(RunTraining(options).ok());
  log = ReadLog(options.run_dir);
  ASSERT_EQ(log.steps_size(), 30);
  for (int i = 20; i < 30; ++i) EXPECT_EQ(log.steps(i).lr(), 0.002) << i;
  options.extend_epochs = 4;
  options.freeze_lr = "fast";
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(options)));
}

TEST(MixingConfigTest, MixesUntilTheLastEpochAndRefusesBadValuesNamingTheField) {
  TrainConfig config;
  EXPECT_FALSE(MixesIn(config, 1));
  config.mutable_mixing()->set_cutmix_alpha(1.0);
  config.mutable_mixing()->set_last_epoch(3);
  EXPECT_TRUE(MixesIn(config, 3));
  EXPECT_FALSE(MixesIn(config, 4));
  absl::StatusOr<MixingOptions> options = MixingOptionsOf(config);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->probability, 1.0);
  EXPECT_EQ(options->switch_probability, 0.5);
  for (const char* bad : {"mixing.mixup_alpha=-1", "mixing.probability=1.5", "mixing.switch_probability=-0.1",
                          "mixing.last_epoch=-2"}) {
    const absl::Status status = RunTraining(Options("bad_mixing", {bad}));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), std::string(bad).substr(0, std::string(bad).find('='))))
        << status;
  }
}

// OneCycle cycles the momentum by default: the checkpoint's optimizer holds the momentum of the
// last step's position on the cycle, as PyTorch's OneCycleLR leaves it.
TEST(TrainerTest, OneCycleCyclesTheMomentumIntoTheOptimizer) {
  const TrainOptions options = Options("momentum", {"schedule.one_cycle={}", "schedule.peak_lr=0.05"});
  ASSERT_TRUE(RunTraining(options).ok());
  absl::StatusOr<TrainState> state = ReadTrainState(options.run_dir + "/checkpoints/last.ckpt");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->config().schedule().one_cycle().cycle_momentum());
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule = MakeRunSchedule(state->config(), 0.05, 5);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  ASSERT_TRUE((*schedule)->MomentumAt(4).has_value());
  absl::StatusOr<ResNetOptions> model_options = ResNetOptionsFromName("resnet18", 10);
  ASSERT_TRUE(model_options.ok());
  ResNet model(*model_options);
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(state->config().optimizer(), *model, 0.05);
  ASSERT_TRUE(optimizer.ok());
  ASSERT_TRUE(LoadCheckpoint(options.run_dir + "/checkpoints/last.ckpt", nullptr, *model, optimizer->get()).ok());
  const auto& sgd = static_cast<torch::optim::SGDOptions&>((*optimizer)->param_groups()[0].options());
  EXPECT_DOUBLE_EQ(sgd.momentum(), *(*schedule)->MomentumAt(4));
  EXPECT_NE(sgd.momentum(), 0.9) << "not the configured momentum";
}

TEST(TrainerTest, AStochasticDepthOutsideZeroToOneIsRefusedNamingTheField) {
  for (const char* rate : {"model.stochastic_depth=1", "model.stochastic_depth=-0.1"}) {
    const absl::Status status = RunTraining(Options("stochastic_depth", {rate}));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "model.stochastic_depth")) << status;
  }
}

TEST(TrainerTest, ALockedRunDirIsRefused) {
  const TrainOptions options = Options("locked", {});
  fs::create_directories(options.run_dir);
  absl::StatusOr<std::unique_ptr<LockFile>> lock = LockFile::Acquire(options.run_dir + "/train.lock");
  ASSERT_TRUE(lock.ok());
  absl::Status status = RunTraining(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "locked")) << status;
}

TEST(TrainerTest, RefusesBadSetups) {
  TrainOptions fp16 = Options("fp16", {"precision=\"fp16\""});
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(fp16))) << "fp16 needs CUDA";
  TrainOptions no_stats = Options("no_stats", {});
  no_stats.stats = fs::path(Inputs().stats).parent_path().string() + "/absent.txtpb";
  EXPECT_TRUE(absl::IsNotFound(RunTraining(no_stats)));
  TrainOptions big_batch = Options("big_batch", {"data.batch_size=64"});
  absl::Status status = RunTraining(big_batch);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  TrainOptions resume_nothing = Options("resume_nothing", {});
  resume_nothing.resume = true;
  EXPECT_TRUE(absl::IsFailedPrecondition(RunTraining(resume_nothing)));
  TrainOptions no_config = Options("no_config", {});
  no_config.config.reset();
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(no_config))) << "a new run needs a config";
}

// A ResNet-18 for the tiny inputs' 10 classes (or `classes`), unlike the run's own initialisation,
// as a safetensors file saved the way PyTorch saves a state dict.
std::string InitFile(int64_t classes, ResNet* model) {
  torch::manual_seed(77);
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", classes);
  EXPECT_TRUE(options.ok());
  *model = ResNet(*options);
  absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(**model);
  EXPECT_TRUE(tensors.ok());
  Safetensors file;
  file.tensors = *tensors;
  const std::string path = testdata::NewScratchDir("init") + "/init.safetensors";
  EXPECT_TRUE(WriteSafetensors(path, file).ok());
  return path;
}

// The weights of the run's last.ckpt.
ResNet LastWeights(const std::string& run_dir) {
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", 10);
  EXPECT_TRUE(options.ok());
  ResNet model(*options);
  EXPECT_TRUE(LoadCheckpoint(run_dir + "/checkpoints/last.ckpt", nullptr, *model, nullptr).ok());
  return model;
}

// With an LR of 1e-9 training moves no weight by 1e-6: what last.ckpt holds is where it started.
TEST(TrainerTest, InitFromStartsANewRunFromTheFilesWeights) {
  ResNet source{nullptr};
  TrainOptions options = Options("init", {"schedule.peak_lr=1e-9"});
  options.init_from = InitFile(10, &source);
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  ResNet trained = LastWeights(options.run_dir);
  EXPECT_TRUE(torch::allclose(trained->conv1->weight, source->conv1->weight, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(trained->fc->weight, source->fc->weight, 0, 1e-6));

  // The run exists now: rerunning with --init_from is refused (continue it without), as are the
  // flags that continue runs.
  status = RunTraining(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "already holds one")) << status;
  options.resume = true;
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(options))) << status;
  options.resume = false;
  options.init_from.clear();
  options.init_reset_head = true;
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(options)));
}

TEST(TrainerTest, InitFromAnotherClassCountNeedsInitResetHead) {
  ResNet source{nullptr};
  TrainOptions options = Options("init_head", {"schedule.peak_lr=1e-9"});
  options.init_from = InitFile(4, &source);
  absl::Status status = RunTraining(options);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "pass --init_reset_head")) << status;
  EXPECT_FALSE(fs::exists(options.run_dir + "/checkpoints/last.ckpt"));

  options.init_reset_head = true;
  status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  ResNet trained = LastWeights(options.run_dir);
  EXPECT_TRUE(torch::allclose(trained->layer4->named_parameters()["1.conv2.weight"],
                              source->layer4->named_parameters()["1.conv2.weight"], 0, 1e-6));
  EXPECT_EQ(trained->fc->weight.size(0), 10);
}

}  // namespace
}  // namespace forge
