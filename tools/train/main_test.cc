// The train binary killed (kill -9) and stopped (SIGTERM, SIGINT, SIGUSR1) at random points and
// run again until it finishes: the run ends with the same weights, bit for bit, as one never
// interrupted (CPU, deterministic), and its log and TensorBoard events hold every step once.
// The random points come from a seeded generator; the seed is printed so a failure can be rerun
// (FORGE_TEST_SEED=<seed>).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/io/proto_file.h"
#include "proto/train_config.pb.h"
#include "testdata/tiny_training_inputs.h"
#include "lib/engine/run_testing.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kRecipe[] = R"(
model { name: "resnet18" }
data { batch_size: 4 image_size: 32 eval_size: 32 loader_threads: 2 }
optimizer { sgd { momentum: 0.9 } weight_decay: 1e-4 }
schedule { peak_lr: 0.02 one_cycle {} }
epochs: 2
label_smoothing: 0.1
deterministic: true
log_every_steps: 1
seed: 7
checkpoint { every_steps: 4 }
)";

std::string BinaryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "resnet_forge", "/tools/train/train");
}

// The tiny training inputs (10 steps per epoch at batch 4) and the recipe.
const std::string& Inputs() {
  static const std::string* root = new std::string(testdata::ScratchTrainingInputs(kRecipe));
  return *root;
}

std::string RunDir(const std::string& name) {
  const std::string dir = Inputs() + "/" + name;
  fs::remove_all(dir);
  return dir;
}

// Starts train on `run_dir`, its output appended to run_dir + ".log".
pid_t StartTrain(const std::string& run_dir, const std::vector<std::string>& extra_flags = {}) {
  std::vector<std::string> args = testdata::TrainFlags(Inputs(), run_dir);
  args.insert(args.begin(), BinaryPath());
  args.push_back("--threads=2");
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  return testdata::StartProcess(args, run_dir + ".log");
}

int Wait(pid_t pid) { return testdata::WaitForProcess(pid); }

using testdata::ReadText;
using train_testing::WaitUntilTraining;

std::mt19937_64& Random() {
  static std::mt19937_64* random = [] {
    const char* seed_text = std::getenv("FORGE_TEST_SEED");
    const uint64_t seed = seed_text ? std::strtoull(seed_text, nullptr, 10) : std::random_device()();
    std::printf("FORGE_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
    return new std::mt19937_64(seed);
  }();
  return *random;
}

// Runs train on `run_dir`, interrupting each attempt but the last `interruptions` times: once
// it is training, after a random delay, with `signal_number` (SIGKILL: kill -9). Returns the
// exit codes of all attempts.
std::vector<int> TrainInterrupted(const std::string& run_dir, int interruptions, int signal_number) {
  std::vector<int> codes;
  std::uniform_int_distribution<int> delay_ms(0, 1000);
  for (int attempt = 0; attempt <= interruptions; ++attempt) {
    const pid_t pid = StartTrain(run_dir);
    if (attempt == interruptions) {
      codes.push_back(Wait(pid));
      break;
    }
    int code = -1;
    if (!WaitUntilTraining(pid, run_dir, &code)) {
      codes.push_back(code);  // finished before it could be interrupted
      if (code == 0) break;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(Random())));
    kill(pid, signal_number);
    codes.push_back(Wait(pid));
  }
  return codes;
}

// Where each attempt resumed, for the test log.
void PrintResumePoints(const std::string& run_dir) {
  std::istringstream log(ReadText(run_dir + ".log"));
  for (std::string line; std::getline(log, line);) {
    const size_t at = line.find("] resuming ");
    if (at != std::string::npos) std::printf("%s: %s\n", fs::path(run_dir).filename().c_str(), line.c_str() + at + 2);
  }
}

const std::string& Reference() {
  static const std::string* dir = [] {
    auto* run_dir = new std::string(RunDir("reference"));
    EXPECT_EQ(Wait(StartTrain(*run_dir)), 0) << ReadText(*run_dir + ".log");
    return run_dir;
  }();
  return *dir;
}

TEST(TrainMainTest, KilledAtRandomPointsAndRerunEndsBitForBitAsAnUninterruptedRun) {
  for (int trial = 0; trial < 2; ++trial) {
    const std::string run_dir = RunDir(absl::StrCat("killed_", trial));
    const std::vector<int> codes = TrainInterrupted(run_dir, 3, SIGKILL);
    ASSERT_EQ(codes.back(), 0) << ReadText(run_dir + ".log");
    PrintResumePoints(run_dir);
    train_testing::ExpectSameRun(Reference(), run_dir);
  }
}

TEST(TrainMainTest, StopSignalsSaveAndExit75ThenTheRunContinuesExactly) {
  const std::string run_dir = RunDir("stopped");
  const std::vector<int> codes = TrainInterrupted(run_dir, 1, SIGTERM);
  ASSERT_EQ(codes.back(), 0) << ReadText(run_dir + ".log");
  const std::string log = ReadText(run_dir + ".log");
  if (codes.size() == 2) {
    EXPECT_EQ(codes[0], 75) << log;
    EXPECT_TRUE(absl::StrContains(log, "SIGTERM received")) << log;
    EXPECT_TRUE(absl::StrContains(log, "Run the same command again to continue")) << log;
  }
  train_testing::ExpectSameRun(Reference(), run_dir);

  for (int signal_number : {SIGINT, SIGUSR1}) {
    const std::string dir = RunDir(absl::StrCat("stopped_", signal_number));
    const pid_t pid = StartTrain(dir);
    int code = -1;
    ASSERT_TRUE(WaitUntilTraining(pid, dir, &code)) << code;
    kill(pid, signal_number);
    EXPECT_EQ(Wait(pid), 75) << ReadText(dir + ".log");
    EXPECT_TRUE(fs::exists(dir + "/checkpoints/mid_epoch.ckpt") || fs::exists(dir + "/checkpoints/last.ckpt"));
  }
}

TEST(TrainMainTest, ASecondSignalExitsAtOnceAndTheRunStillContinuesExactly) {
  const std::string run_dir = RunDir("second_signal");
  const pid_t pid = StartTrain(run_dir);
  int code = -1;
  ASSERT_TRUE(WaitUntilTraining(pid, run_dir, &code)) << code;
  kill(pid, SIGTERM);
  // Signals of one kind arriving together merge into one: send the second once the first is in.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!absl::StrContains(ReadText(run_dir + ".log"), "SIGTERM received") && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(Wait(pid), 128 + SIGTERM) << ReadText(run_dir + ".log");
  EXPECT_EQ(Wait(StartTrain(run_dir)), 0) << ReadText(run_dir + ".log");
  train_testing::ExpectSameRun(Reference(), run_dir);
}

TEST(TrainMainTest, ASecondProcessOnTheSameRunDirIsRefused) {
  const std::string run_dir = RunDir("locked");
  const pid_t first = StartTrain(run_dir);
  int code = -1;
  ASSERT_TRUE(WaitUntilTraining(first, run_dir, &code)) << code;
  const std::string log_before = ReadText(run_dir + ".log");
  const pid_t second = StartTrain(run_dir);
  EXPECT_EQ(Wait(second), 2);
  kill(first, SIGKILL);
  Wait(first);
  const std::string log = ReadText(run_dir + ".log");
  EXPECT_TRUE(absl::StrContains(log, absl::StrCat("train.lock is locked by process ", first))) << log;
}

TEST(TrainMainTest, LrFromTakesTheCurvesSuggestionAsThePeakLr) {
  const std::string curve = Inputs() + "/lr_curve.txtpb";
  std::ofstream(curve) << "suggested_lr: 0.0123\nmin_loss_lr_div10: 0.002\n";
  const std::string run_dir = RunDir("lr_from");
  const pid_t pid = StartTrain(run_dir, {"--lr_from=" + curve, "--epochs=1"});
  ASSERT_EQ(Wait(pid), 0) << ReadText(run_dir + ".log");
  TrainConfig config;
  ASSERT_TRUE(ReadProtoFile(run_dir + "/config.txtpb", &config).ok());
  EXPECT_EQ(config.schedule().peak_lr(), 0.0123);

  std::ofstream(curve) << "min_loss_lr: 0.1\n";  // no suggestion
  const std::string refused = RunDir("lr_from_refused");
  EXPECT_EQ(Wait(StartTrain(refused, {"--lr_from=" + curve})), 2);
  EXPECT_TRUE(absl::StrContains(ReadText(refused + ".log"), "holds no suggested LR")) << ReadText(refused + ".log");
  EXPECT_EQ(Wait(StartTrain(refused, {"--lr_from=" + curve, "--lr=0.1"})), 2) << "--lr and --lr_from conflict";
}

}  // namespace
}  // namespace forge
