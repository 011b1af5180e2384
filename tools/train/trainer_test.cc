// train's loop on a very small dataset: the bf16 path on the CPU, resuming, and refusals.
#include "tools/train/trainer.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "proto/stats.pb.h"
#include "proto/train_log.pb.h"
#include "testdata/tiny_imagenet.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "lib/train/optimizer.h"
#include "proto/checkpoint.pb.h"
#include "tools/train/config.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

// 10 classes x 4 images of 40-56 px, no pathological files; train/ doubles as validation.
const std::string& Data() {
  static const std::string* root = [] {
    auto* path = new std::string(::testing::TempDir() + "/trainer_test_data");
    fs::remove_all(*path);
    testdata::TinyImageNetOptions options;
    options.train_per_class = 4;
    options.val_per_class = 0;
    options.min_side = 40;
    options.max_side = 56;
    options.pathological = false;
    EXPECT_TRUE(testdata::WriteTinyImageNet(*path, options).ok());
    ChannelStats stats;
    for (double m : {0.45, 0.45, 0.45}) stats.add_mean(m);
    for (double s : {0.25, 0.25, 0.25}) stats.add_std(s);
    EXPECT_TRUE(WriteProtoFile(*path + "/stats.txtpb", stats).ok());
    return path;
  }();
  return *root;
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
  options.train_data = Data() + "/train";
  options.val_data = Data() + "/train";
  options.stats = Data() + "/stats.txtpb";
  options.run_dir = ::testing::TempDir() + "/trainer_test_" + run;
  options.device = "cpu";
  fs::remove_all(options.run_dir);
  return options;
}

TrainLog ReadLog(const std::string& run_dir) {
  TrainLog log;
  EXPECT_TRUE(ReadProtoFile(run_dir + "/train_log.pb", &log).ok());
  return log;
}

TEST(TrainerTest, Bf16OnTheCpuTrainsWithFiniteLoss) {
  const TrainOptions options = Options("bf16", {"precision=\"bf16\""});
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  const TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.epochs_size(), 2);
  for (const EpochMetrics& m : log.epochs()) EXPECT_TRUE(std::isfinite(m.loss())) << m.phase();
  EXPECT_EQ(log.steps_size(), 5);  // 40 images / batch 8, every step logged
  for (const char* file : {"/config.txtpb", "/model_summary.txtpb", "/checkpoints/last.ckpt",
                           "/checkpoints/best.ckpt"}) {
    EXPECT_TRUE(fs::exists(options.run_dir + file)) << file;
  }
}

// What a crash after epoch 1 of a 2-epoch run leaves behind: last.ckpt after epoch 1 whose
// config says 2 epochs. Made here by training 1 epoch and rewriting the checkpoint's config.
void PretendTheRunWasLaidOverTwoEpochs(const TrainOptions& options) {
  const std::string last = options.run_dir + "/checkpoints/last.ckpt";
  absl::StatusOr<TrainState> state = ReadTrainState(last);
  ASSERT_TRUE(state.ok()) << state.status();
  absl::StatusOr<ResNetOptions> model_options = ResNetOptionsFromName("resnet18", 10);
  ASSERT_TRUE(model_options.ok());
  ResNet model(*model_options);
  absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> optimizer =
      MakeOptimizer(state->config().optimizer(), *model, 0.01);
  ASSERT_TRUE(optimizer.ok());
  TrainState loaded;
  ASSERT_TRUE(LoadCheckpoint(last, &loaded, *model, optimizer->get()).ok());
  loaded.mutable_config()->set_epochs(2);
  ASSERT_TRUE(SaveCheckpoint(last, loaded, *model, optimizer->get()).ok());
}

TEST(TrainerTest, ResumeContinuesWithoutDuplicatingEpochsOrSteps) {
  TrainOptions options = Options("resume", {});
  ASSERT_TRUE(RunTraining(options).ok());
  EXPECT_EQ(ReadLog(options.run_dir).epochs_size(), 2);
  EXPECT_TRUE(absl::IsFailedPrecondition(RunTraining(options))) << "an existing run is not overwritten";
  PretendTheRunWasLaidOverTwoEpochs(options);
  options.resume = true;
  absl::Status status = RunTraining(options);
  ASSERT_TRUE(status.ok()) << status;
  const TrainLog log = ReadLog(options.run_dir);
  ASSERT_EQ(log.epochs_size(), 4);
  EXPECT_EQ(log.epochs(0).epoch(), 1);
  EXPECT_EQ(log.epochs(2).epoch(), 2);
  EXPECT_EQ(log.epochs(3).phase(), "val");
  EXPECT_EQ(log.epochs(3).step(), 10);
  for (int i = 1; i < log.steps_size(); ++i) {
    EXPECT_EQ(log.steps(i).step(), log.steps(i - 1).step() + 1) << "steps must not repeat";
  }
  EXPECT_EQ(log.steps_size(), 10);
}

TEST(TrainerTest, RefusesBadSetups) {
  TrainOptions fp16 = Options("fp16", {"precision=\"fp16\""});
  EXPECT_TRUE(absl::IsInvalidArgument(RunTraining(fp16))) << "fp16 needs CUDA";
  TrainOptions no_stats = Options("no_stats", {});
  no_stats.stats = Data() + "/absent.txtpb";
  EXPECT_TRUE(absl::IsNotFound(RunTraining(no_stats)));
  TrainOptions big_batch = Options("big_batch", {"data.batch_size=64"});
  absl::Status status = RunTraining(big_batch);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  TrainOptions resume_nothing = Options("resume_nothing", {});
  resume_nothing.resume = true;
  EXPECT_FALSE(RunTraining(resume_nothing).ok());
}

}  // namespace
}  // namespace forge
