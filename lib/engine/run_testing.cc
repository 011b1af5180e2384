#include "lib/engine/run_testing.h"

#include <sys/wait.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/records/record_reader.h"
#include "lib/train/checkpoint.h"
#include "proto/tensorboard.pb.h"
#include "proto/train_log.pb.h"
#include "testdata/tool_runner.h"

namespace forge::train_testing {
namespace {

namespace fs = std::filesystem;

// The model's parameters and buffers in checkpoints/last.ckpt, then its EMA's when it holds one.
std::vector<std::pair<std::string, torch::Tensor>> Weights(const std::string& run_dir) {
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", 10);
  EXPECT_TRUE(options.ok());
  ResNet model(*options), ema(*options);
  const std::string path = run_dir + "/checkpoints/last.ckpt";
  absl::StatusOr<TrainState> state = ReadTrainState(path);
  EXPECT_TRUE(state.ok()) << path;
  const bool has_ema = state.ok() && state->has_ema();
  EXPECT_TRUE(LoadCheckpoint(path, nullptr, *model, nullptr, has_ema ? ema.get() : nullptr).ok()) << path;
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (ResNet* module : {&model, &ema}) {
    if (module == &ema && !has_ema) break;
    const std::string prefix = module == &ema ? "ema." : "";
    for (const auto& item : (*module)->named_parameters()) weights.emplace_back(prefix + item.key(), item.value());
    for (const auto& item : (*module)->named_buffers()) weights.emplace_back(prefix + item.key(), item.value());
  }
  return weights;
}

}  // namespace

void ExpectEachStepLoggedOnce(const TrainLog& log) {
  for (int i = 1; i < log.steps_size(); ++i) {
    EXPECT_EQ(log.steps(i).step(), log.steps(i - 1).step() + 1) << "steps must not repeat";
  }
  for (int i = 1; i < log.epochs_size(); ++i) {
    EXPECT_GE(log.epochs(i).epoch(), log.epochs(i - 1).epoch()) << "epochs must not repeat";
  }
}

void ExpectSameRun(const std::string& reference, const std::string& run_dir) {
  const auto a = Weights(reference), b = Weights(run_dir);
  ASSERT_EQ(a.size(), b.size());
  int different = 0;
  for (size_t i = 0; i < a.size(); ++i) different += !torch::equal(a[i].second, b[i].second);
  EXPECT_EQ(different, 0) << "tensors of " << run_dir << " differ from " << reference;

  TrainLog log_a, log_b;
  ASSERT_TRUE(ReadProtoFile(reference + "/train_log.pb", &log_a).ok());
  ASSERT_TRUE(ReadProtoFile(run_dir + "/train_log.pb", &log_b).ok());
  ExpectEachStepLoggedOnce(log_b);
  ASSERT_EQ(log_a.steps_size(), log_b.steps_size());
  for (int i = 0; i < log_a.steps_size(); ++i) {
    EXPECT_EQ(log_b.steps(i).step(), i);
    EXPECT_EQ(log_a.steps(i).loss(), log_b.steps(i).loss()) << "step " << i;
    EXPECT_EQ(log_a.steps(i).lr(), log_b.steps(i).lr()) << "step " << i;
  }
  ASSERT_EQ(log_a.epochs_size(), log_b.epochs_size());
  for (int i = 0; i < log_a.epochs_size(); ++i) {
    EXPECT_EQ(log_a.epochs(i).epoch(), log_b.epochs(i).epoch());
    EXPECT_EQ(log_a.epochs(i).loss(), log_b.epochs(i).loss()) << i;
    EXPECT_EQ(log_a.epochs(i).top1(), log_b.epochs(i).top1()) << i;
  }

  std::map<std::pair<std::string, int64_t>, int> seen;
  for (const auto& entry : fs::directory_iterator(run_dir + "/tensorboard")) {
    RecordReader reader(entry.path().string());
    std::string payload;
    while (reader.ReadRecord(&payload)) {
      Event event;
      ASSERT_TRUE(event.ParseFromString(payload));
      for (const Summary::Value& value : event.summary().value()) ++seen[{value.tag(), event.step()}];
    }
    EXPECT_TRUE(reader.status().ok()) << reader.status();
  }
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1) << key.first << " at step " << key.second;
  EXPECT_EQ(seen.count({"train/lr", log_a.steps_size() - 1}), 1u);
}

double RelativeWeightDifference(const std::string& run_dir, const std::string& other_run_dir, std::string* worst) {
  const std::vector<std::pair<std::string, torch::Tensor>> weights = Weights(run_dir);
  const std::vector<std::pair<std::string, torch::Tensor>> other = Weights(other_run_dir);
  EXPECT_EQ(weights.size(), other.size());
  double difference = 0, norm = 0, largest = -1;
  for (size_t i = 0; i < weights.size() && i < other.size(); ++i) {
    const torch::Tensor& a = weights[i].second;
    if (!a.is_floating_point()) continue;
    const double squared = (a - other[i].second).to(torch::kFloat64).square().sum().item<double>();
    difference += squared;
    norm += a.to(torch::kFloat64).square().sum().item<double>();
    if (squared > largest) {
      largest = squared;
      if (worst != nullptr) *worst = weights[i].first;
    }
  }
  return norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference);
}

bool WaitUntilTraining(pid_t pid, const std::string& run_dir, int* exit_code) {
  using Clock = std::chrono::steady_clock;
  const auto started = fs::file_time_type::clock::now();
  const auto deadline = Clock::now() + std::chrono::minutes(2);
  while (Clock::now() < deadline) {
    if (testdata::ProcessEnded(pid, exit_code)) return false;
    std::error_code error;
    for (const char* name : {"/checkpoints/mid_epoch.ckpt", "/checkpoints/last.ckpt"}) {
      const auto written = fs::last_write_time(run_dir + name, error);
      if (!error && written >= started) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "train made no checkpoint in 2 minutes; see " << run_dir << ".log";
  kill(pid, SIGKILL);
  *exit_code = testdata::WaitForProcess(pid);
  return false;
}

}  // namespace forge::train_testing
