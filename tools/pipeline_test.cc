// The whole pipeline on the tiny ImageNet, through the tools' libraries: valprep -> shard ->
// compute_stats -> train -> eval -> report. Training must learn: validation top-1 well above
// chance (10 classes) after a few CPU minutes. Eval's numbers must agree with each other and
// with its per-image predictions.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "proto/train_log.pb.h"
#include "testdata/tiny_imagenet.h"
#include "tools/compute_stats/compute_stats.h"
#include "tools/eval/eval.h"
#include "tools/report/report.h"
#include "tools/shard/shard.h"
#include "lib/engine/config.h"
#include "lib/engine/trainer.h"
#include "tools/valprep/valprep.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

// The tiny ImageNet through valprep, shard and compute_stats, once for all tests.
struct Prepared {
  std::string root, train_manifest, val_manifest, stats_path;
};

const Prepared& Prepare() {
  static const Prepared* prepared = [] {
    auto* p = new Prepared;
    [&] {
      const std::string root = testdata::NewScratchDir();
      fs::remove_all(root);
      testdata::TinyImageNetOptions data_options;
      ASSERT_TRUE(testdata::WriteTinyImageNet(root + "/data", data_options).ok());

      ValprepOptions valprep;
      valprep.val_dir = root + "/data/val";
      valprep.labels = root + "/data/LOC_val_solution.csv";
      ValprepReport valprep_report;
      ASSERT_TRUE(RunValprep(valprep, &valprep_report).ok());
      EXPECT_EQ(valprep_report.placed(), valprep_report.images_listed());

      ShardRunOptions shard;
      shard.data = root + "/data/train";
      shard.out_dir = root + "/shards";
      shard.num_shards = 2;
      shard.synset_mapping = root + "/data/LOC_synset_mapping.txt";
      shard.progress = false;
      absl::StatusOr<ShardResult> train_shards = RunShard(shard);
      ASSERT_TRUE(train_shards.ok()) << train_shards.status();
      shard.data = root + "/data/val";
      shard.num_shards = 1;
      shard.synset_mapping.clear();
      shard.classes_from = train_shards->manifest_path;
      absl::StatusOr<ShardResult> val_shards = RunShard(shard);
      ASSERT_TRUE(val_shards.ok()) << val_shards.status();

      ComputeStatsOptions stats_options;
      stats_options.data = train_shards->manifest_path;
      stats_options.resize_shorter = 73;
      stats_options.center_crop = 64;
      stats_options.progress = false;
      absl::StatusOr<ChannelStats> stats = ComputeStats(stats_options);
      ASSERT_TRUE(stats.ok()) << stats.status();
      const std::string stats_path = root + "/stats.txtpb";
      ASSERT_TRUE(WriteProtoFile(stats_path, *stats).ok());
      p->root = root;
      p->train_manifest = train_shards->manifest_path;
      p->val_manifest = val_shards->manifest_path;
      p->stats_path = stats_path;
    }();
    return p;
  }();
  return *prepared;
}

// Training on the prepared data with `config`, on the CPU, into <root>/<run>.
TrainOptions TrainOn(const Prepared& prepared, const TrainConfig& config, const std::string& run) {
  TrainOptions train;
  train.config = config;
  train.train_data = prepared.train_manifest;
  train.val_data = prepared.val_manifest;
  train.stats = prepared.stats_path;
  train.run_dir = prepared.root + "/" + run;
  train.device = "cpu";
  return train;
}

TEST(PipelineTest, TinyImageNetEndToEnd) {
  const Prepared& prepared = Prepare();
  ASSERT_FALSE(prepared.stats_path.empty());
  const std::string& root = prepared.root;
  absl::StatusOr<TrainConfig> config = LoadConfig("tools/train/recipes/tiny_cpu.txtpb", {"epochs=8"});
  ASSERT_TRUE(config.ok()) << config.status();
  TrainOptions train = TrainOn(prepared, *config, "run");
  absl::Status trained = RunTraining(train);
  ASSERT_TRUE(trained.ok()) << trained;
  TrainLog log;
  ASSERT_TRUE(ReadProtoFile(train.run_dir + "/train_log.pb", &log).ok());
  ASSERT_EQ(log.epochs_size(), 16);  // train and val for 8 epochs
  const EpochMetrics& last_val = log.epochs(15);
  EXPECT_EQ(last_val.phase(), "val");
  EXPECT_GT(last_val.top1(), 35.0) << "chance is 10%";
  EXPECT_LT(log.epochs(14).loss(), log.epochs(0).loss()) << "training loss must fall";
  // The same command again finds the run finished and changes nothing; another config is refused.
  EXPECT_TRUE(RunTraining(train).ok());
  TrainLog again;
  ASSERT_TRUE(ReadProtoFile(train.run_dir + "/train_log.pb", &again).ok());
  EXPECT_EQ(again.SerializeAsString(), log.SerializeAsString());
  TrainOptions other = train;
  other.config->set_label_smoothing(0.2);
  EXPECT_TRUE(absl::IsFailedPrecondition(RunTraining(other)));

  EvalToolOptions eval;
  eval.checkpoint = train.run_dir + "/checkpoints/best.ckpt";
  eval.data = prepared.val_manifest;
  eval.resize_shorter = 73;
  eval.center_crop = 64;
  eval.batch_size = 16;
  eval.device = "cpu";
  eval.predictions = true;
  absl::StatusOr<EvalResult> result = RunEval(eval);
  ASSERT_TRUE(result.ok()) << result.status();
  const int classes = result->classes_size();
  ASSERT_EQ(classes, 10);
  ASSERT_EQ(result->confusion_size(), classes * classes);
  ASSERT_EQ(result->predictions_size(), result->images());
  // The confusion matrix, hand-counted from the per-image predictions.
  std::vector<int64_t> counted(classes * classes, 0);
  int64_t hits = 0, top5_hits = 0;
  for (const ImagePrediction& p : result->predictions()) {
    ++counted[p.label() * classes + p.top5(0)];
    hits += p.top5(0) == p.label();
    top5_hits += std::count(p.top5().begin(), p.top5().end(), p.label());
  }
  EXPECT_EQ(std::vector<int64_t>(result->confusion().begin(), result->confusion().end()), counted);
  EXPECT_NEAR(result->top1(), 100.0 * hits / result->images(), 1e-9);
  EXPECT_NEAR(result->top5(), 100.0 * top5_hits / result->images(), 1e-9);
  int64_t support = 0;
  for (int c = 0; c < classes; ++c) {
    support += result->per_class(c).support();
    int64_t row = 0;
    for (int j = 0; j < classes; ++j) row += counted[c * classes + j];
    EXPECT_EQ(result->per_class(c).support(), row);
    EXPECT_EQ(result->per_class(c).top1_hits(), counted[c * classes + c]);
  }
  EXPECT_EQ(support, result->images());
  // The best checkpoint's own validation top-1 is what eval measures on the same data (up to one
  // image: batch sizes differ, so convolution kernels may round differently).
  double best = 0;
  for (const EpochMetrics& m : log.epochs()) {
    if (m.phase() == "val") best = std::max(best, m.top1());
  }
  EXPECT_NEAR(result->top1(), best, 100.0 / result->images() + 1e-6);
  const std::string eval_path = root + "/eval.pb";
  ASSERT_TRUE(WriteProtoFile(eval_path, *result).ok());

  ReportOptions report;
  report.run_dir = train.run_dir;
  report.eval = eval_path;
  report.synset_mapping = root + "/data/LOC_synset_mapping.txt";
  absl::StatusOr<ReportResult> rendered = RunReport(report);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  for (const char* file : {"train_log.csv", "logs.md", "loss.png", "accuracy.png", "classification_report.txt",
                           "confusion_matrix.csv", "model_summary.txt"}) {
    EXPECT_TRUE(fs::exists(train.run_dir + "/report/" + file)) << file;
  }
}

// The tiny recipe with every recipe feature on at once (stochastic depth, BlurPool, MixUp/CutMix,
// EMA, progressive resizing with a batch of its own, TrivialAugmentWide, random erasing, repeated
// augmentation) still learns, and the report shows the EMA's validation beside the weights'.
TEST(PipelineTest, EveryRecipeFeatureTogetherLearns) {
  const Prepared& prepared = Prepare();
  ASSERT_FALSE(prepared.stats_path.empty());
  absl::StatusOr<TrainConfig> config = LoadConfig(
      "tools/train/recipes/tiny_cpu.txtpb",
      {"epochs=6", "model.stochastic_depth=0.05", "model.blurpool=true",
       "mixing={mixup_alpha: 0.2 cutmix_alpha: 1.0 last_epoch: 5}", "ema={decay: 0.95 warmup: true}",
       "best_phase=\"val_ema\"",
       "data.progressive_resizing={start_size: 32 end_size: 64 start_epoch: 1 end_epoch: 4 size_step: 16 "
       "batch_sizes {size: 32 batch_size: 64}}",
       "data.auto_augment={policy: \"trivial_augment_wide\"}", "data.random_erasing={probability: 0.25}",
       "data.repeated_augmentations=2"});
  ASSERT_TRUE(config.ok()) << config.status();
  const TrainOptions train = TrainOn(prepared, *config, "every_feature");
  absl::Status trained = RunTraining(train);
  ASSERT_TRUE(trained.ok()) << trained;
  TrainLog log;
  ASSERT_TRUE(ReadProtoFile(train.run_dir + "/train_log.pb", &log).ok());
  ASSERT_EQ(log.epochs_size(), 18);  // train, val and val_ema for 6 epochs
  const EpochMetrics& val = log.epochs(16);
  const EpochMetrics& val_ema = log.epochs(17);
  ASSERT_EQ(val.phase(), "val");
  ASSERT_EQ(val_ema.phase(), "val_ema");
  EXPECT_GT(val.top1(), 25.0) << "chance is 10%";
  EXPECT_GT(val_ema.top1(), 25.0) << "chance is 10%";

  ReportOptions report;
  report.run_dir = train.run_dir;
  absl::StatusOr<ReportResult> rendered = RunReport(report);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  std::ifstream logs(train.run_dir + "/report/logs.md");
  const std::string markdown((std::istreambuf_iterator<char>(logs)), std::istreambuf_iterator<char>());
  EXPECT_NE(markdown.find("Best EMA val top-1"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("EMA top-1"), std::string::npos) << markdown;
}

}  // namespace
}  // namespace forge
