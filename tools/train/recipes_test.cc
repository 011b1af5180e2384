// The recipes shipped with train: every one loads, resolves, lays out its schedule and says where
// it comes from, and each published recipe holds the numbers of its source (checked here against
// the source's own formulas where ours differ in form).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lib/engine/config.h"
#include "lib/train/schedule.h"

namespace forge {
namespace {

constexpr char kRecipeDir[] = "tools/train/recipes";
constexpr int64_t kImageNetTrainImages = 1281167;
constexpr double kPi = 3.14159265358979323846;

// A recipe and what its header promises. Every file of kRecipeDir has an entry (checked by
// EveryRecipeIsListed), so that a new recipe is tested too.
struct Recipe {
  const char* file;
  const char* model;
  int epochs;
  int batch_size;  // global
  int gpus;        // the processes it is written for: each takes batch_size / gpus
  const char* source;  // a phrase its header comment must contain; nullptr: not from a source
};

const Recipe kRecipes[] = {
    {"resnet18_ffcv_16ep_1gpu.txtpb", "resnet18", 16, 1024, 1, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_16ep_8gpu.txtpb", "resnet50", 16, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_24ep_8gpu.txtpb", "resnet50", 24, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_32ep_8gpu.txtpb", "resnet50", 32, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_40ep_8gpu.txtpb", "resnet50", 40, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_56ep_8gpu.txtpb", "resnet50", 56, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_ffcv_88ep_8gpu.txtpb", "resnet50", 88, 4096, 8, "libffcv/ffcv-imagenet"},
    {"resnet50_imagenet_1gpu.txtpb", "resnet50", 40, 256, 1, nullptr},
    {"resnet50_nvidia_90ep_8gpu.txtpb", "resnet50", 90, 2048, 8, "NVIDIA/DeepLearningExamples"},
    {"resnet50_seed_ablation_100ep_1gpu.txtpb", "resnet50", 100, 128, 1, "the runs that seeded this project"},
    {"resnet50_seed_onecycle_150ep_1gpu.txtpb", "resnet50", 150, 256, 1, "the run that seeded this project"},
    {"resnet50_seed_onecycle_50ep_1gpu.txtpb", "resnet50", 50, 448, 1, "run that seeded this project"},
    {"resnet50_torchvision_600ep_8gpu.txtpb", "resnet50", 600, 1024, 8, "pytorch/vision"},
    {"tiny_cpu.txtpb", "resnet18", 10, 32, 1, nullptr},
};

void PrintTo(const Recipe& recipe, std::ostream* os) { *os << recipe.file; }

std::string RecipePath(const std::string& file) { return std::string(kRecipeDir) + "/" + file; }

TrainConfig Load(const std::string& file) {
  absl::StatusOr<TrainConfig> config = LoadConfig(RecipePath(file), {});
  EXPECT_TRUE(config.ok()) << file << ": " << config.status();
  return config.ok() ? *config : TrainConfig();
}

// The leading comment lines of `file`, joined by spaces with their "# " removed.
std::string HeaderComment(const std::string& file) {
  std::ifstream in(RecipePath(file));
  std::string header, line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    header += line.substr(line.rfind("# ", 0) == 0 ? 2 : 1) + " ";
  }
  return header;
}

// The schedule of `config` over an ImageNet run, as train lays it out: steps per epoch with the
// last partial batch dropped.
std::unique_ptr<LrSchedule> ImageNetSchedule(const TrainConfig& config, int64_t* steps_per_epoch) {
  *steps_per_epoch = kImageNetTrainImages / config.data().batch_size();
  absl::StatusOr<std::unique_ptr<LrSchedule>> schedule =
      MakeSchedule(config.schedule(), PeakLr(config.schedule(), config.data().batch_size()),
                   config.epochs() * *steps_per_epoch, *steps_per_epoch);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  return schedule.ok() ? std::move(*schedule) : nullptr;
}

TEST(RecipesTest, EveryRecipeIsListed) {
  std::vector<std::string> found, listed;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(kRecipeDir)) {
    found.push_back(entry.path().filename().string());
  }
  for (const Recipe& recipe : kRecipes) listed.push_back(recipe.file);
  std::sort(found.begin(), found.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(found, listed) << "every recipe in " << kRecipeDir << " needs an entry in kRecipes";
}

class RecipeTest : public ::testing::TestWithParam<Recipe> {};

TEST_P(RecipeTest, LoadsResolvesAndLaysOutItsSchedule) {
  const Recipe& recipe = GetParam();
  const TrainConfig config = Load(recipe.file);
  EXPECT_EQ(config.model().name(), recipe.model);
  EXPECT_EQ(config.epochs(), recipe.epochs);
  EXPECT_EQ(config.data().batch_size(), recipe.batch_size);
  EXPECT_TRUE(config.data().flip());
  // Each of the recipe's processes gets a whole share of every batch, at every training size.
  const int share = recipe.gpus * config.grad_accumulation();
  EXPECT_EQ(config.data().batch_size() % share, 0);
  for (const SizeBatch& size_batch : config.data().progressive_resizing().batch_sizes()) {
    EXPECT_EQ(size_batch.batch_size() % share, 0) << "size " << size_batch.size();
  }
  int64_t steps_per_epoch = 0;
  EXPECT_NE(ImageNetSchedule(config, &steps_per_epoch), nullptr);
}

TEST_P(RecipeTest, StartsWithAHeaderThatNamesItsSource) {
  const Recipe& recipe = GetParam();
  const std::string header = HeaderComment(recipe.file);
  EXPECT_FALSE(header.empty()) << recipe.file << " has no header comment";
  if (recipe.source != nullptr) {
    EXPECT_NE(header.find(recipe.source), std::string::npos) << recipe.file << ": " << header;
  }
}

std::string RecipeName(const ::testing::TestParamInfo<Recipe>& info) {
  std::string name = info.param.file;
  name = name.substr(0, name.find('.'));
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(All, RecipeTest, ::testing::ValuesIn(kRecipes), RecipeName);

// FFCV's ResNet-50 budgets (libffcv/ffcv-imagenet rn50_configs/rn50_<epochs>_epochs.yaml) and
// their resizing ramps, which FFCV counts from epoch 0.
struct FfcvRun {
  int epochs;
  int start_ramp;
  int end_ramp;
};

void PrintTo(const FfcvRun& run, std::ostream* os) {
  *os << run.epochs << " epochs, ramp " << run.start_ramp << " to " << run.end_ramp;
}

class FfcvResNet50Test : public ::testing::TestWithParam<FfcvRun> {};

TEST_P(FfcvResNet50Test, HoldsFfcvsConfig) {
  const FfcvRun& run = GetParam();
  const TrainConfig config = Load("resnet50_ffcv_" + std::to_string(run.epochs) + "ep_8gpu.txtpb");
  EXPECT_EQ(config.epochs(), run.epochs);
  EXPECT_TRUE(config.model().blurpool());
  EXPECT_EQ(config.data().batch_size(), 8 * 512);  // FFCV's batch_size is per GPU
  EXPECT_DOUBLE_EQ(config.data().min_scale(), 0.08);
  EXPECT_TRUE(config.optimizer().has_sgd());
  EXPECT_DOUBLE_EQ(config.optimizer().sgd().momentum(), 0.9);
  EXPECT_FALSE(config.optimizer().sgd().nesterov());
  EXPECT_DOUBLE_EQ(config.optimizer().weight_decay(), 1e-4);
  EXPECT_TRUE(config.optimizer().no_weight_decay_on_bn_and_bias());
  EXPECT_DOUBLE_EQ(config.schedule().peak_lr(), 1.7);
  ASSERT_TRUE(config.schedule().has_linear());
  EXPECT_DOUBLE_EQ(config.schedule().linear().warmup_epochs(), 2);  // FFCV's lr_peak_epoch default
  EXPECT_DOUBLE_EQ(config.schedule().linear().final_lr(), 0);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0.1);
  EXPECT_EQ(config.precision(), "fp16");
  EXPECT_TRUE(config.channels_last());
  EXPECT_FALSE(config.sync_batchnorm());
  // Validation at 256 px: FFCV's val_res 256 with its DEFAULT_CROP_RATIO 224/256.
  EXPECT_EQ(config.data().eval_size(), 256);
  EXPECT_DOUBLE_EQ(config.data().eval_crop_ratio(), 224.0 / 256);
  // 160 px through FFCV's epoch start_ramp (ours start_ramp + 1), 192 from end_ramp (+ 1).
  const ProgressiveResizingConfig& resizing = config.data().progressive_resizing();
  EXPECT_EQ(resizing.start_size(), 160);
  EXPECT_EQ(resizing.end_size(), 192);
  EXPECT_EQ(resizing.start_epoch(), run.start_ramp + 1);
  EXPECT_EQ(resizing.end_epoch(), run.end_ramp + 1);
  EXPECT_EQ(resizing.size_step(), 32);
  EXPECT_TRUE(resizing.batch_sizes().empty());
}

// FFCV's get_cyclic_lr, np.interp(epoch, [0, peak_epoch, epochs], [1e-4 * lr, lr, 0]) at the
// epoch boundaries, interpolated linearly over each epoch's steps (train_loop): the same line in
// the fractional epoch, since the corner falls on an epoch boundary.
double FfcvLr(int64_t step, int64_t steps_per_epoch, int epochs, double lr, int peak_epoch) {
  const double epoch = static_cast<double>(step) / steps_per_epoch;
  if (epoch <= peak_epoch) return 1e-4 * lr + (lr - 1e-4 * lr) * epoch / peak_epoch;
  return lr * (epochs - epoch) / (epochs - peak_epoch);
}

TEST_P(FfcvResNet50Test, LrIsFfcvsTriangleButForItsFirstStep) {
  const TrainConfig config = Load("resnet50_ffcv_" + std::to_string(GetParam().epochs) + "ep_8gpu.txtpb");
  int64_t steps_per_epoch = 0;
  const std::unique_ptr<LrSchedule> schedule = ImageNetSchedule(config, &steps_per_epoch);
  ASSERT_NE(schedule, nullptr);
  EXPECT_EQ(steps_per_epoch, 312);  // 1,281,167 / 4096, FFCV's too (8 GPUs x 512, drop_last)
  EXPECT_DOUBLE_EQ(schedule->LrAt(2 * steps_per_epoch), 1.7);
  // Schedule.linear starts from 0 where FFCV starts from 1e-4 x peak: that is the whole gap.
  double largest_gap = 0;
  for (int64_t step = 0; step < config.epochs() * steps_per_epoch; ++step) {
    const double ffcv = FfcvLr(step, steps_per_epoch, config.epochs(), 1.7, 2);
    largest_gap = std::max(largest_gap, std::abs(schedule->LrAt(step) - ffcv));
  }
  EXPECT_NEAR(largest_gap, 1e-4 * 1.7, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Budgets, FfcvResNet50Test,
                         ::testing::Values(FfcvRun{16, 11, 13}, FfcvRun{24, 17, 20}, FfcvRun{32, 23, 27},
                                           FfcvRun{40, 29, 34}, FfcvRun{56, 41, 48}, FfcvRun{88, 65, 76}),
                         [](const ::testing::TestParamInfo<FfcvRun>& info) {
                           return std::to_string(info.param.epochs) + "Epochs";
                         });

TEST(RecipesTest, OneGpuRecipeHoldsItsSettings) {
  const TrainConfig config = Load("resnet50_imagenet_1gpu.txtpb");
  EXPECT_DOUBLE_EQ(config.optimizer().sgd().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(config.optimizer().weight_decay(), 1e-4);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0.1);
  EXPECT_EQ(config.precision(), "fp16");
  EXPECT_TRUE(config.schedule().has_one_cycle());
}

TEST(RecipesTest, FfcvResNet18HoldsFfcvsConfig) {
  const TrainConfig config = Load("resnet18_ffcv_16ep_1gpu.txtpb");
  EXPECT_TRUE(config.model().blurpool());
  EXPECT_EQ(config.data().batch_size(), 1024);
  EXPECT_DOUBLE_EQ(config.optimizer().sgd().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(config.optimizer().weight_decay(), 5e-5);
  EXPECT_TRUE(config.optimizer().no_weight_decay_on_bn_and_bias());
  EXPECT_DOUBLE_EQ(config.schedule().peak_lr(), 0.5);
  EXPECT_DOUBLE_EQ(config.schedule().linear().warmup_epochs(), 2);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0.1);
  EXPECT_EQ(config.data().eval_size(), 256);
  EXPECT_DOUBLE_EQ(config.data().eval_crop_ratio(), 0.875);
  EXPECT_EQ(config.data().progressive_resizing().start_epoch(), 11 + 1);
  EXPECT_EQ(config.data().progressive_resizing().end_epoch(), 13 + 1);
  EXPECT_EQ(config.eval_every_epochs(), 16);  // log_level 0: one validation, at the end
  EXPECT_EQ(config.precision(), "fp16");
}

TEST(RecipesTest, NvidiaHoldsNvidiasConfig) {
  const TrainConfig config = Load("resnet50_nvidia_90ep_8gpu.txtpb");
  EXPECT_EQ(config.data().batch_size(), 8 * 256);
  EXPECT_EQ(config.data().image_size(), 224);
  EXPECT_DOUBLE_EQ(config.data().min_scale(), 0.08);
  EXPECT_EQ(config.data().eval_size(), 224);
  EXPECT_EQ(static_cast<int>(std::floor(config.data().eval_size() / config.data().eval_crop_ratio())), 256);
  EXPECT_DOUBLE_EQ(config.optimizer().sgd().momentum(), 0.875);
  EXPECT_FALSE(config.optimizer().sgd().nesterov());
  EXPECT_EQ(config.optimizer().weight_decay(), 1.0 / 32768);  // exact: 2^-15
  EXPECT_TRUE(config.optimizer().no_weight_decay_on_bn_and_bias());
  // 0.256 per 256 images: 2.048 for 2048, configs.yml's lr for its optimizer_batch_size.
  EXPECT_DOUBLE_EQ(config.schedule().base_lr(), 0.256);
  EXPECT_DOUBLE_EQ(PeakLr(config.schedule(), config.data().batch_size()), 2.048);
  ASSERT_TRUE(config.schedule().has_cosine());
  EXPECT_DOUBLE_EQ(config.schedule().cosine().warmup_epochs(), 8);
  EXPECT_DOUBLE_EQ(config.schedule().cosine().final_lr(), 0);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0.1);
  EXPECT_FALSE(config.has_mixing());
  EXPECT_FALSE(config.model().blurpool());
  EXPECT_EQ(config.precision(), "fp16");
  EXPECT_TRUE(config.channels_last());
}

// NVIDIA's lr_cosine_policy holds one LR through each epoch (0-based e): (e + 1) / warmup of the
// peak while warming up, then the cosine of the epoch.
TEST(RecipesTest, NvidiaLrMeetsNvidiasAtEveryEpochStart) {
  const TrainConfig config = Load("resnet50_nvidia_90ep_8gpu.txtpb");
  int64_t steps_per_epoch = 0;
  const std::unique_ptr<LrSchedule> schedule = ImageNetSchedule(config, &steps_per_epoch);
  ASSERT_NE(schedule, nullptr);
  const double peak = 2.048;
  const auto nvidia = [&](int e) {
    if (e < 8) return peak * (e + 1) / 8;
    return 0.5 * (1 + std::cos(kPi * (e - 8) / (90 - 8))) * peak;
  };
  EXPECT_DOUBLE_EQ(schedule->LrAt(0), nvidia(0));
  for (int e = 1; e < 8; ++e) {  // our warm-up is a line through the staircase's first step
    EXPECT_LT(schedule->LrAt(e * steps_per_epoch), nvidia(e)) << "epoch " << e;
    EXPECT_GT(schedule->LrAt(e * steps_per_epoch), nvidia(e - 1)) << "epoch " << e;
  }
  for (int e = 8; e < 90; ++e) {
    EXPECT_NEAR(schedule->LrAt(e * steps_per_epoch), nvidia(e), 1e-12 * peak) << "epoch " << e;
  }
}

TEST(RecipesTest, TorchvisionHoldsTorchvisionsConfig) {
  const TrainConfig config = Load("resnet50_torchvision_600ep_8gpu.txtpb");
  EXPECT_EQ(config.data().batch_size(), 8 * 128);
  EXPECT_EQ(config.data().image_size(), 176);  // --train-crop-size
  EXPECT_DOUBLE_EQ(config.data().min_scale(), 0.08);
  // --val-resize-size 232, --val-crop-size 224: the resize must come out at 232, not 231.
  EXPECT_EQ(config.data().eval_size(), 224);
  EXPECT_EQ(static_cast<int>(std::floor(config.data().eval_size() / config.data().eval_crop_ratio())), 232);
  EXPECT_EQ(config.data().auto_augment().policy(), "trivial_augment_wide");
  EXPECT_EQ(config.data().auto_augment().num_magnitude_bins(), 31);
  EXPECT_DOUBLE_EQ(config.data().random_erasing().probability(), 0.1);
  EXPECT_DOUBLE_EQ(config.data().random_erasing().min_scale(), 0.02);  // torchvision's defaults
  EXPECT_DOUBLE_EQ(config.data().random_erasing().max_scale(), 0.33);
  EXPECT_DOUBLE_EQ(config.data().random_erasing().min_ratio(), 0.3);
  EXPECT_DOUBLE_EQ(config.data().random_erasing().max_ratio(), 3.3);
  EXPECT_EQ(config.data().random_erasing().value(), 0);
  EXPECT_EQ(config.data().repeated_augmentations(), 4);
  EXPECT_DOUBLE_EQ(config.optimizer().sgd().momentum(), 0.9);
  EXPECT_FALSE(config.optimizer().sgd().nesterov());
  EXPECT_DOUBLE_EQ(config.optimizer().weight_decay(), 2e-5);
  EXPECT_TRUE(config.optimizer().no_weight_decay_on_bn_and_bias());
  EXPECT_DOUBLE_EQ(config.schedule().peak_lr(), 0.5);
  ASSERT_TRUE(config.schedule().has_cosine());
  EXPECT_DOUBLE_EQ(config.schedule().cosine().warmup_epochs(), 5);
  EXPECT_DOUBLE_EQ(config.schedule().cosine().warmup_start_factor(), 0.01);
  EXPECT_DOUBLE_EQ(config.schedule().cosine().final_lr(), 0);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0.1);
  EXPECT_DOUBLE_EQ(config.mixing().mixup_alpha(), 0.2);
  EXPECT_DOUBLE_EQ(config.mixing().cutmix_alpha(), 1.0);
  EXPECT_FALSE(config.mixing().has_probability());  // 1: every batch
  EXPECT_FALSE(config.mixing().has_switch_probability());  // 0.5: RandomChoice of the two
  EXPECT_EQ(config.mixing().last_epoch(), 0);
  EXPECT_DOUBLE_EQ(config.ema().decay(), 0.99998);
  EXPECT_EQ(config.ema().every_steps(), 32);
  EXPECT_TRUE(config.ema().torchvision_adjust());
  EXPECT_FALSE(config.ema().warmup());
  EXPECT_EQ(config.ema().copy_epochs(), 5);  // = --lr-warmup-epochs
  EXPECT_EQ(config.best_phase(), "val_ema");
  EXPECT_EQ(config.precision(), "fp32");  // the command has no --amp
  EXPECT_FALSE(config.sync_batchnorm());
}

// torchvision steps LinearLR(start_factor 0.01, total_iters 5) then CosineAnnealingLR(T_max 595)
// once per epoch: our per-step curve passes through each of those values at its epoch's start.
TEST(RecipesTest, TorchvisionLrMeetsTorchvisionsAtEveryEpochStart) {
  const TrainConfig config = Load("resnet50_torchvision_600ep_8gpu.txtpb");
  int64_t steps_per_epoch = 0;
  const std::unique_ptr<LrSchedule> schedule = ImageNetSchedule(config, &steps_per_epoch);
  ASSERT_NE(schedule, nullptr);
  const auto torchvision = [](int e) {
    if (e < 5) return 0.5 * (0.01 + 0.99 * e / 5);
    return 0.5 * (1 + std::cos(kPi * (e - 5) / (600 - 5))) / 2;
  };
  for (int e = 0; e < 600; ++e) {
    EXPECT_NEAR(schedule->LrAt(e * steps_per_epoch), torchvision(e), 1e-12) << "epoch " << e;
  }
}

TEST(RecipesTest, SeedRunsHoldTheirRecords) {
  const TrainConfig long_run = Load("resnet50_seed_onecycle_150ep_1gpu.txtpb");
  EXPECT_TRUE(long_run.schedule().has_one_cycle());
  EXPECT_DOUBLE_EQ(long_run.schedule().peak_lr(), 0.125);
  EXPECT_EQ(long_run.data().batch_size(), 256);
  EXPECT_EQ(long_run.epochs(), 150);
  EXPECT_EQ(long_run.precision(), "fp16");

  const TrainConfig short_run = Load("resnet50_seed_onecycle_50ep_1gpu.txtpb");
  EXPECT_TRUE(short_run.schedule().has_one_cycle());
  EXPECT_DOUBLE_EQ(short_run.schedule().peak_lr(), 0.14);
  EXPECT_EQ(short_run.data().batch_size(), 448);
  EXPECT_EQ(short_run.epochs(), 50);
  EXPECT_EQ(short_run.precision(), "fp16");

  const TrainConfig ablation = Load("resnet50_seed_ablation_100ep_1gpu.txtpb");
  EXPECT_EQ(ablation.epochs(), 100);
  EXPECT_TRUE(ablation.model().blurpool());
  EXPECT_DOUBLE_EQ(ablation.model().stochastic_depth(), 0.05);
  EXPECT_GT(ablation.mixing().mixup_alpha(), 0);
  EXPECT_GT(ablation.mixing().cutmix_alpha(), 0);
  EXPECT_DOUBLE_EQ(ablation.mixing().switch_probability(), 0.5);  // one of the two per batch
  EXPECT_EQ(ablation.mixing().last_epoch(), 80);
  EXPECT_TRUE(ablation.has_ema());
  EXPECT_EQ(ablation.best_phase(), "val_ema");
  const ProgressiveResizingConfig& resizing = ablation.data().progressive_resizing();
  EXPECT_EQ(resizing.start_size(), 128);
  EXPECT_EQ(resizing.end_size(), 320);
  EXPECT_LT(resizing.end_epoch(), 100);  // ends at 320 px
  EXPECT_EQ(ablation.data().batch_size(), 128);
  ASSERT_EQ(resizing.batch_sizes_size(), 2);
  for (const SizeBatch& size_batch : resizing.batch_sizes()) {
    EXPECT_GE(size_batch.size(), 288);
    EXPECT_EQ(size_batch.batch_size(), 64);
  }
  EXPECT_DOUBLE_EQ(PeakLr(ablation.schedule(), ablation.data().batch_size()), 0.0625);
}

TEST(RecipesTest, OverridesSetSingleFields) {
  absl::StatusOr<TrainConfig> config = LoadConfig(
      RecipePath("resnet50_imagenet_1gpu.txtpb"),
      {"data.batch_size=128", "epochs=90", "schedule.one_cycle.pct_start=0.3", "precision=\"bf16\"",
       "optimizer.sgd.nesterov=true", "data.flip=false"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->data().batch_size(), 128);
  EXPECT_EQ(config->epochs(), 90);
  EXPECT_DOUBLE_EQ(config->schedule().one_cycle().pct_start(), 0.3);
  EXPECT_DOUBLE_EQ(config->schedule().one_cycle().div_factor(), 25);  // untouched
  EXPECT_EQ(config->precision(), "bf16");
  EXPECT_TRUE(config->optimizer().sgd().nesterov());
  EXPECT_FALSE(config->data().flip());
}

}  // namespace
}  // namespace forge
