// train (and eval) as jobs of several processes on the CPU: Open MPI's mpirun starts them on
// loopback (lib/distributed/mpi_testing.h), as users start them on CPU clusters.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/distributed/mpi_testing.h"
#include "lib/engine/run_testing.h"
#include "lib/io/proto_file.h"
#include "proto/eval.pb.h"
#include "proto/lr_curve.pb.h"
#include "proto/train_log.pb.h"
#include "testdata/tiny_training_inputs.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 40 images, global batch 8: 5 steps per epoch; 4 images per process in a job of two. 64 px, so
// that layer4's batch norms see 2 x 2 positions per image, not one.
constexpr char kRecipe[] = R"(
model { name: "resnet18" }
data { batch_size: 8 image_size: 64 eval_size: 64 }
optimizer { sgd { momentum: 0.9 } weight_decay: 1e-4 }
schedule { peak_lr: 0.01 one_cycle {} }
epochs: 1
deterministic: true
log_every_steps: 1
seed: 11
checkpoint { every_steps: 1 }
)";

// Two runs that differ only in where their sums are taken (the gradient all-reduce, batch-norm
// statistics from float64 sums of x and x^2 instead of one pass's Welford update, convolutions
// on 1 thread instead of 2) agree to float32 rounding in each step, which the steps amplify: the
// same one-process run on 1 and on 2 threads ends 5e-4 apart after 5 steps (relative L2 over all
// weights and buffers, measured), and 2 processes with sync_batchnorm end 2e-4 from one process.
// A run whose batch norms see other images (each process its own half) ends 4e-2 away.
constexpr double kRoundingTolerance = 3e-3;

// Batch norm over the global batch, random erasing (drawn per global position, so the same in any
// number of processes) and an EMA of the weights: one process and a job of several train the same
// model, EMA included, to rounding.
const char kSynced[] = "--set=sync_batchnorm=true;ema={decay: 0.9};data.random_erasing={probability: 0.5}";
// The same without sync_batchnorm: each process normalises with its own share's statistics.
const char kUnsynced[] = "--set=ema={decay: 0.9};data.random_erasing={probability: 0.5}";

double Difference(const std::string& run_dir, const std::string& other_run_dir, const char* what) {
  std::string worst;
  const double difference = train_testing::RelativeWeightDifference(run_dir, other_run_dir, &worst);
  std::printf("%s: largest relative weight difference %g (%s)\n", what, difference, worst.c_str());
  return difference;
}

const std::string& Inputs() {
  static const std::string* root = new std::string(testdata::ScratchTrainingInputs(kRecipe));
  return *root;
}

std::string RunDir(const std::string& name) {
  const std::string dir = Inputs() + "/" + name;
  fs::remove_all(dir);
  fs::remove(dir + ".log");
  return dir;
}

// train on `run_dir` in `processes` processes (1: without mpirun), output appended to
// run_dir + ".log".
pid_t StartTrain(const std::string& run_dir, int processes, const std::vector<std::string>& extra_flags = {}) {
  std::vector<std::string> args = testdata::TrainFlags(Inputs(), run_dir);
  args.insert(args.begin(), testdata::Runfile("tools/train/train"));
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  if (processes > 1) args = MpirunCommand(processes, args);
  return testdata::StartProcess(args, run_dir + ".log");
}

int Train(const std::string& run_dir, int processes, const std::vector<std::string>& extra_flags = {}) {
  return testdata::WaitForProcess(StartTrain(run_dir, processes, extra_flags));
}

std::string Log(const std::string& run_dir) { return testdata::ReadText(run_dir + ".log"); }

// The processes of the job `launcher` started (mpirun's children), by rank.
std::vector<pid_t> Ranks(pid_t launcher, int processes) {
  std::vector<pid_t> ranks(processes, -1);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    for (const fs::directory_entry& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string stat = testdata::ReadText(entry.path() / "stat");
      const size_t close = stat.rfind(')');
      if (close == std::string::npos) continue;
      const std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
      if (fields.size() < 2 || fields[1] != std::to_string(launcher)) continue;
      const std::string environ = testdata::ReadText(entry.path() / "environ");
      for (absl::string_view variable : absl::StrSplit(environ, absl::ByChar(0))) {
        int rank = -1;
        if (absl::StartsWith(variable, "OMPI_COMM_WORLD_RANK=") &&
            absl::SimpleAtoi(variable.substr(21), &rank) && rank >= 0 && rank < processes) {
          ranks[rank] = std::stoi(name);
        }
      }
    }
    if (std::find(ranks.begin(), ranks.end(), -1) == ranks.end()) return ranks;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "the job's processes did not appear";
  return ranks;
}

// The TrainLog of a run.
TrainLog ReadLog(const std::string& run_dir) {
  TrainLog log;
  EXPECT_TRUE(ReadProtoFile(run_dir + "/train_log.pb", &log).ok());
  return log;
}

const std::string& OneProcessSynced() {
  static const std::string* dir = [] {
    auto* run_dir = new std::string(RunDir("one_synced"));
    EXPECT_EQ(Train(*run_dir, 1, {kSynced}), 0) << Log(*run_dir);
    return run_dir;
  }();
  return *dir;
}

const std::string& TwoProcesses() {
  static const std::string* dir = [] {
    auto* run_dir = new std::string(RunDir("two"));
    EXPECT_EQ(Train(*run_dir, 2, {kUnsynced}), 0) << Log(*run_dir);
    return run_dir;
  }();
  return *dir;
}

TEST(DistributedTrainTest, TwoProcessesWithSyncBatchNormTrainLikeOneWithTheWholeBatch) {
  const std::string synced = RunDir("two_synced");
  ASSERT_EQ(Train(synced, 2, {kSynced}), 0) << Log(synced);
  EXPECT_TRUE(absl::StrContains(Log(synced), "4 images per micro-batch of the global batch 8, batch norm synchronised"))
      << Log(synced);
  EXPECT_LT(Difference(OneProcessSynced(), synced, "two processes with sync_batchnorm vs one"), kRoundingTolerance);
  train_testing::ExpectEachStepLoggedOnce(ReadLog(synced));
  // The same steps with the same LR, and validation counting all 40 images once.
  const TrainLog one = ReadLog(OneProcessSynced()), two = ReadLog(synced);
  ASSERT_EQ(one.steps_size(), two.steps_size());
  for (int i = 0; i < one.steps_size(); ++i) EXPECT_DOUBLE_EQ(one.steps(i).lr(), two.steps(i).lr());
  ASSERT_EQ(two.epochs_size(), 3);  // train, val, val_ema
  for (const EpochMetrics& metrics : two.epochs()) EXPECT_EQ(metrics.images(), 40) << metrics.phase();

  // Without it each process normalises with its own half's statistics: another model.
  EXPECT_GT(Difference(OneProcessSynced(), TwoProcesses(), "two processes without sync_batchnorm vs one"),
            5 * kRoundingTolerance);
}

TEST(DistributedTrainTest, EvalInThreeProcessesCountsEveryImageOnceAsOneProcessDoes) {
  const std::string checkpoint = TwoProcesses() + "/checkpoints/last.ckpt";
  const std::string out = Inputs() + "/eval";
  std::vector<std::string> args = {testdata::Runfile("tools/eval/eval"), "--checkpoint=" + checkpoint,
                                   "--data=" + Inputs() + "/data/train", "--device=cpu", "--batch_size=4",
                                   "--center_crop=32", "--resize_shorter=32"};
  std::vector<std::string> one = args, three = args;
  one.push_back("--out=" + out + "_one.pb");
  three.push_back("--out=" + out + "_three.pb");
  ASSERT_EQ(testdata::WaitForProcess(testdata::StartProcess(one, out + "_one.log")), 0)
      << testdata::ReadText(out + "_one.log");
  // 40 images over 3 processes: 14, 13 and 13.
  ASSERT_EQ(testdata::WaitForProcess(testdata::StartProcess(MpirunCommand(3, three), out + "_three.log")), 0)
      << testdata::ReadText(out + "_three.log");
  EvalResult alone, together;
  ASSERT_TRUE(ReadProtoFile(out + "_one.pb", &alone).ok());
  ASSERT_TRUE(ReadProtoFile(out + "_three.pb", &together).ok());
  EXPECT_EQ(together.images(), 40);
  EXPECT_EQ(together.top1(), alone.top1());
  EXPECT_EQ(together.top5(), alone.top5());
  // Each batch's mean loss is a float32 sum: batches made of other images round differently.
  EXPECT_NEAR(together.loss(), alone.loss(), 1e-6 * alone.loss());
  EXPECT_EQ(together.confusion().size(), alone.confusion().size());
  EXPECT_TRUE(std::equal(together.confusion().begin(), together.confusion().end(), alone.confusion().begin()));
  for (int c = 0; c < alone.per_class_size(); ++c) {
    EXPECT_EQ(together.per_class(c).support(), alone.per_class(c).support());
    EXPECT_EQ(together.per_class(c).top5_hits(), alone.per_class(c).top5_hits());
  }
}

TEST(DistributedTrainTest, AStopSignalToOneProcessStopsBothAtOneStepAndTheRerunEndsAsAnUninterruptedRun) {
  const std::string run_dir = RunDir("stopped");
  const pid_t launcher = StartTrain(run_dir, 2, {kUnsynced});
  const std::vector<pid_t> ranks = Ranks(launcher, 2);
  int code = -1;
  ASSERT_TRUE(train_testing::WaitUntilTraining(launcher, run_dir, &code)) << code << Log(run_dir);
  kill(ranks[1], SIGTERM);
  EXPECT_EQ(testdata::WaitForProcess(launcher), 75) << Log(run_dir);
  // Both processes stopped after the same step.
  const std::string log = Log(run_dir);
  std::vector<std::string> stops;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    const size_t at = line.find(" after step ");
    if (line.find("stopped by ") != absl::string_view::npos && at != absl::string_view::npos) {
      stops.emplace_back(line.substr(at, line.find(';', at) - at));
    }
  }
  ASSERT_EQ(stops.size(), 2u) << log;
  EXPECT_EQ(stops[0], stops[1]);
  ASSERT_EQ(Train(run_dir, 2, {kUnsynced}), 0) << Log(run_dir);
  train_testing::ExpectSameRun(TwoProcesses(), run_dir);  // EMA weights included
}

TEST(DistributedTrainTest, ARunOfTwoProcessesContinuesInOneAtTheSameGlobalStep) {
  const std::string run_dir = RunDir("two_then_one");
  const std::vector<std::string> synced = {kSynced};
  const pid_t launcher = StartTrain(run_dir, 2, synced);
  const std::vector<pid_t> ranks = Ranks(launcher, 2);
  int code = -1;
  ASSERT_TRUE(train_testing::WaitUntilTraining(launcher, run_dir, &code)) << code << Log(run_dir);
  kill(ranks[0], SIGTERM);
  EXPECT_EQ(testdata::WaitForProcess(launcher), 75) << Log(run_dir);
  ASSERT_EQ(Train(run_dir, 1, synced), 0) << Log(run_dir);
  EXPECT_TRUE(absl::StrContains(Log(run_dir), "resuming")) << Log(run_dir);
  train_testing::ExpectEachStepLoggedOnce(ReadLog(run_dir));
  // The same images at every global step: the weights of one process throughout, to rounding.
  EXPECT_LT(Difference(OneProcessSynced(), run_dir, "two processes, then one, vs one"), kRoundingTolerance);
}

TEST(DistributedTrainTest, AProcessThatHangsEndsTheJobWithItsRankNamedWithinTheTimeout) {
  const std::string run_dir = RunDir("hung");
  const pid_t launcher = StartTrain(run_dir, 2, {"--dist_timeout=5"});
  const std::vector<pid_t> ranks = Ranks(launcher, 2);
  int code = -1;
  ASSERT_TRUE(train_testing::WaitUntilTraining(launcher, run_dir, &code)) << code << Log(run_dir);
  kill(ranks[1], SIGSTOP);
  const auto stopped = Clock::now();
  EXPECT_NE(testdata::WaitForProcess(launcher), 0);
  const double seconds = std::chrono::duration<double>(Clock::now() - stopped).count();
  EXPECT_LT(seconds, 5 + 20) << "timeout 5 s, heartbeats every second, mpirun's clean-up";
  EXPECT_TRUE(absl::StrContains(Log(run_dir), "rank 1 has posted no heartbeat")) << Log(run_dir);
  kill(ranks[1], SIGKILL);  // in case mpirun left it stopped
}

TEST(DistributedTrainTest, AProcessKilledEndsTheJobWithItsRankNamed) {
  const std::string run_dir = RunDir("killed");
  const pid_t launcher = StartTrain(run_dir, 2, {"--dist_timeout=5"});
  const std::vector<pid_t> ranks = Ranks(launcher, 2);
  int code = -1;
  ASSERT_TRUE(train_testing::WaitUntilTraining(launcher, run_dir, &code)) << code << Log(run_dir);
  kill(ranks[1], SIGKILL);
  const auto killed = Clock::now();
  EXPECT_NE(testdata::WaitForProcess(launcher), 0);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed).count(), 5 + 20);
  EXPECT_TRUE(absl::StrContains(Log(run_dir), "rank 1")) << Log(run_dir);
}

TEST(DistributedTrainTest, ProcessesThatSeeDifferentRunDirectoriesRefuseToStart) {
  // As when the run directory is on each machine's own disk: rank 0 sees a run, rank 1 none.
  const std::string seen = RunDir("seen"), unseen = RunDir("unseen");
  fs::copy(TwoProcesses(), seen, fs::copy_options::recursive);
  std::vector<std::string> rank_zero = testdata::TrainFlags(Inputs(), seen);
  std::vector<std::string> rank_one = testdata::TrainFlags(Inputs(), unseen);
  rank_zero.insert(rank_zero.begin(), testdata::Runfile("tools/train/train"));
  rank_one.insert(rank_one.begin(), testdata::Runfile("tools/train/train"));
  std::vector<std::string> command = MpirunCommand(1, rank_zero);
  command.insert(command.end(), {":", "-np", "1"});
  command.insert(command.end(), rank_one.begin(), rank_one.end());
  EXPECT_NE(testdata::WaitForProcess(testdata::StartProcess(command, seen + ".log")), 0);
  EXPECT_TRUE(absl::StrContains(Log(seen), "rank 1 finds no checkpoint, rank 0 a checkpoint at step 5")) << Log(seen);
}

TEST(DistributedTrainTest, AJobOfOneProcessTrainsBitForBitAsAProcessAlone) {
  // The whole machinery (MPI, the store, the Reducer's buckets) with nobody to average with.
  const std::string run_dir = RunDir("mpi_alone");
  ASSERT_EQ(Train(run_dir, 1, {kSynced, "--dist_engine=mpi"}), 0) << Log(run_dir);
  train_testing::ExpectSameRun(OneProcessSynced(), run_dir);
}

TEST(DistributedTrainTest, LrFindInTwoProcessesDrawsTheCurveOfOne) {
  const std::string out = Inputs() + "/lr_find";
  const std::vector<std::string> args = {testdata::Runfile("tools/lr_find/lr_find"),
                                         "--config=" + Inputs() + "/recipe.txtpb",
                                         kSynced,
                                         "--train=" + Inputs() + "/data/train",
                                         "--stats=" + Inputs() + "/stats.txtpb",
                                         "--device=cpu",
                                         "--start_lr=1e-4",
                                         "--end_lr=0.01",
                                         "--num_iter=5"};  // one epoch
  std::vector<std::string> one = args, two = args;
  one.push_back("--out=" + out + "_one.txtpb");
  two.push_back("--out=" + out + "_two.txtpb");
  ASSERT_EQ(testdata::WaitForProcess(testdata::StartProcess(one, out + "_one.log")), 0)
      << testdata::ReadText(out + "_one.log");
  ASSERT_EQ(testdata::WaitForProcess(testdata::StartProcess(MpirunCommand(2, two), out + "_two.log")), 0)
      << testdata::ReadText(out + "_two.log");
  LrCurve alone, together;
  ASSERT_TRUE(ReadProtoFile(out + "_one.txtpb", &alone).ok());
  ASSERT_TRUE(ReadProtoFile(out + "_two.txtpb", &together).ok());
  ASSERT_EQ(together.points_size(), alone.points_size());
  for (int i = 0; i < alone.points_size(); ++i) {
    EXPECT_DOUBLE_EQ(together.points(i).lr(), alone.points(i).lr());
    // The loss of the whole global batch in both, to rounding (see kRoundingTolerance).
    EXPECT_NEAR(together.points(i).loss(), alone.points(i).loss(), kRoundingTolerance * alone.points(i).loss()) << i;
  }
}

}  // namespace
}  // namespace forge
