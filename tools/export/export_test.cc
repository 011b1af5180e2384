// export on checkpoints of a freshly initialised ResNet-18: the file, its metadata and names,
// the EMA's weights, BlurPool, and refusals.
#include "tools/export/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lib/engine/state_dict.h"
#include "lib/engine/trained_model.h"
#include "lib/io/safetensors.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "proto/checkpoint.pb.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

class ExportToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testdata::NewScratchDir();
    torch::manual_seed(1);
    absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", 2);
    ASSERT_TRUE(options.ok());
    model_ = ResNet(*options);
    torch::manual_seed(2);
    ema_ = ResNet(*options);
    state_.mutable_config()->mutable_model()->set_name("resnet18");
    state_.mutable_config()->mutable_data()->set_eval_size(224);
    state_.mutable_config()->mutable_data()->set_eval_crop_ratio(0.875);
    state_.add_classes("n01440764");
    state_.add_classes("n01443537");
    state_.set_epoch(3);
    ASSERT_TRUE(SaveCheckpoint(dir_ + "/best.ckpt", state_, *model_, nullptr, ema_.get()).ok());
    testdata::WriteTestFile(dir_ + "/LOC_synset_mapping.txt",
                            "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n");
  }

  ExportToolOptions Options() const {
    ExportToolOptions options;
    options.checkpoint = dir_ + "/best.ckpt";
    options.out = dir_ + "/model.safetensors";
    return options;
  }

  std::string dir_;
  ResNet model_{nullptr}, ema_{nullptr};
  TrainState state_;
};

TEST_F(ExportToolTest, WritesTheWeightsWithTheirMetadata) {
  ExportToolOptions options = Options();
  options.synset_mapping = dir_ + "/LOC_synset_mapping.txt";
  absl::StatusOr<ExportSummary> summary = RunExport(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->architecture, "resnet18");
  EXPECT_EQ(summary->classes, 2);
  EXPECT_EQ(summary->epoch, 3);
  EXPECT_FALSE(summary->blurpool);
  EXPECT_EQ(summary->tensors, 122);
  EXPECT_GT(summary->bytes, 11'000'000 * 4);
  absl::StatusOr<Safetensors> file = ReadSafetensors(options.out);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("class_names"), R"(["tench, Tinca tinca","goldfish, Carassius auratus"])");
  EXPECT_EQ(file->metadata.at("eval_resize"), "256");
  EXPECT_EQ(file->metadata.at("eval_crop"), "224");
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(options.out, "", 0);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(torch::equal(loaded->model->fc->weight, model_->fc->weight));
  EXPECT_EQ(loaded->class_names[1], "goldfish, Carassius auratus");
}

TEST_F(ExportToolTest, ExportsTheEmaWeightsOnRequest) {
  ExportToolOptions options = Options();
  options.weights = Weights::kEma;
  ASSERT_TRUE(RunExport(options).ok());
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(options.out, "", 0, Weights::kEma);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(torch::equal(loaded->model->fc->weight, ema_->fc->weight));

  ASSERT_TRUE(SaveCheckpoint(dir_ + "/no_ema.ckpt", state_, *model_, nullptr).ok());
  options.checkpoint = dir_ + "/no_ema.ckpt";
  EXPECT_TRUE(absl::IsFailedPrecondition(RunExport(options).status()));
}

TEST_F(ExportToolTest, ExportsABlurPoolModelSayingSo) {
  state_.mutable_config()->mutable_model()->set_blurpool(true);
  ASSERT_TRUE(SaveCheckpoint(dir_ + "/blur.ckpt", state_, *model_, nullptr).ok());
  ExportToolOptions options = Options();
  options.checkpoint = dir_ + "/blur.ckpt";
  absl::StatusOr<ExportSummary> summary = RunExport(options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->blurpool);
  absl::StatusOr<Safetensors> file = ReadSafetensors(options.out);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->metadata.at("blurpool"), "true");
}

TEST_F(ExportToolTest, RefusesWhatIsNotACheckpointOrDoesNotFit) {
  ExportToolOptions options = Options();
  options.synset_mapping = dir_ + "/short_mapping.txt";
  testdata::WriteTestFile(options.synset_mapping, "n01440764 tench, Tinca tinca\n");
  absl::Status status = RunExport(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("has no name for n01443537"));

  options = Options();
  torch::save(model_, dir_ + "/bare.pt");
  options.checkpoint = dir_ + "/bare.pt";
  status = RunExport(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("bare.pt is not a checkpoint written by train"));

  options.checkpoint = dir_ + "/missing.ckpt";
  EXPECT_TRUE(absl::IsNotFound(RunExport(options).status()));
  options = Options();
  options.out = "-";
  EXPECT_TRUE(absl::IsInvalidArgument(RunExport(options).status()));
  options.out = dir_ + "/no/such/dir/model.safetensors";
  EXPECT_FALSE(RunExport(options).ok());
}

}  // namespace
}  // namespace forge
