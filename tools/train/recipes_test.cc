// The recipes shipped with train load, resolve and take overrides.
#include <gtest/gtest.h>

#include "lib/engine/config.h"

namespace forge {
namespace {

TEST(RecipesTest, RecipesLoadAndResolve) {
  for (const char* recipe : {"tools/train/recipes/resnet50_imagenet_1gpu.txtpb", "tools/train/recipes/tiny_cpu.txtpb"}) {
    absl::StatusOr<TrainConfig> config = LoadConfig(recipe, {});
    ASSERT_TRUE(config.ok()) << recipe << ": " << config.status();
    EXPECT_GT(config->epochs(), 0);
    EXPECT_TRUE(config->data().flip());
  }
  absl::StatusOr<TrainConfig> r50 = LoadConfig("tools/train/recipes/resnet50_imagenet_1gpu.txtpb", {});
  EXPECT_EQ(r50->model().name(), "resnet50");
  EXPECT_EQ(r50->data().batch_size(), 256);
  EXPECT_DOUBLE_EQ(r50->optimizer().sgd().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(r50->optimizer().weight_decay(), 1e-4);
  EXPECT_DOUBLE_EQ(r50->label_smoothing(), 0.1);
  EXPECT_EQ(r50->precision(), "fp16");
  EXPECT_TRUE(r50->schedule().has_one_cycle());
}

TEST(RecipesTest, OverridesSetSingleFields) {
  absl::StatusOr<TrainConfig> config = LoadConfig(
      "tools/train/recipes/resnet50_imagenet_1gpu.txtpb",
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
