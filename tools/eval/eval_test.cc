// eval on the tiny training inputs with a freshly initialised ResNet-18: from a checkpoint, from
// bare weights, with flip TTA and predictions, and refusing what does not fit.
#include "tools/eval/eval.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "lib/engine/export.h"
#include "lib/engine/trained_model.h"
#include "lib/io/proto_file.h"
#include "lib/io/safetensors.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "proto/checkpoint.pb.h"
#include "proto/stats.pb.h"
#include "testdata/extreme_images.h"
#include "testdata/tiny_model.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr int kImages = 40;
constexpr int kClasses = 10;

// A checkpoint and bare weights of one ResNet-18 for the tiny inputs' classes, and the inputs.
class EvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testdata::NewScratchDir());
    absl::StatusOr<testdata::TinyTrainingInputs> inputs = testdata::WriteTinyTrainingInputs(*dir_ + "/inputs");
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    inputs_ = new testdata::TinyTrainingInputs(*inputs);

    torch::manual_seed(3);
    absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", kClasses);
    ASSERT_TRUE(options.ok());
    ResNet model(*options);
    absl::StatusOr<TrainState> run = testdata::TinyRunState(*inputs_);
    ASSERT_TRUE(run.ok()) << run.status();
    TrainState state = *run;
    ASSERT_TRUE(SaveCheckpoint(Checkpoint(), state, *model, /*optimizer=*/nullptr).ok());
    torch::save(model, Weights());

    // Another model as the first one's EMA, and alone; the first one again as trained with BlurPool.
    torch::manual_seed(4);
    ResNet other(*options);
    ASSERT_TRUE(SaveCheckpoint(WithEma(), state, *model, /*optimizer=*/nullptr, other.get()).ok());
    ASSERT_TRUE(SaveCheckpoint(Other(), state, *other, /*optimizer=*/nullptr).ok());
    state.mutable_config()->mutable_model()->set_blurpool(true);
    ASSERT_TRUE(SaveCheckpoint(Blurred(), state, *model, /*optimizer=*/nullptr).ok());
  }

  static std::string Checkpoint() { return *dir_ + "/model.ckpt"; }
  static std::string Weights() { return *dir_ + "/weights.pt"; }
  static std::string WithEma() { return *dir_ + "/with_ema.ckpt"; }
  static std::string Other() { return *dir_ + "/other.ckpt"; }
  static std::string Blurred() { return *dir_ + "/blurpool.ckpt"; }

  static EvalToolOptions Options(const std::string& checkpoint) {
    EvalToolOptions options;
    options.checkpoint = checkpoint;
    options.data = inputs_->train;
    options.resize_shorter = 37;
    options.center_crop = 32;
    options.batch_size = 16;
    options.device = "cpu";
    options.threads = 2;
    return options;
  }

  static std::string* dir_;
  static testdata::TinyTrainingInputs* inputs_;
};

std::string* EvalTest::dir_ = nullptr;
testdata::TinyTrainingInputs* EvalTest::inputs_ = nullptr;

int64_t Sum(const google::protobuf::RepeatedField<int64_t>& values) {
  int64_t sum = 0;
  for (int64_t v : values) sum += v;
  return sum;
}

TEST_F(EvalTest, CheckpointGivesAccuracyPerClassAndConfusion) {
  absl::StatusOr<EvalResult> result = RunEval(Options(Checkpoint()));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->images(), kImages);
  EXPECT_EQ(result->images_skipped(), 0);
  ASSERT_EQ(result->classes_size(), kClasses);
  ASSERT_EQ(result->per_class_size(), kClasses);
  int64_t support = 0, hits = 0;
  for (const ClassResult& c : result->per_class()) {
    support += c.support();
    hits += c.top1_hits();
    EXPECT_LE(c.top1_hits(), c.top5_hits());
  }
  EXPECT_EQ(support, kImages);
  EXPECT_DOUBLE_EQ(result->top1(), 100.0 * hits / kImages);
  ASSERT_EQ(result->confusion_size(), kClasses * kClasses);
  EXPECT_EQ(Sum(result->confusion()), kImages);
  EXPECT_GT(result->loss(), 0);
  EXPECT_EQ(result->predictions_size(), 0);
  EXPECT_EQ(result->options().checkpoint(), Checkpoint());
  EXPECT_FALSE(result->options().flip_tta());
}

TEST_F(EvalTest, EmaWeightsAreEvaluatedOnRequest) {
  EvalToolOptions options = Options(WithEma());
  options.weights = Weights::kEma;
  absl::StatusOr<EvalResult> ema = RunEval(options);
  ASSERT_TRUE(ema.ok()) << ema.status();
  absl::StatusOr<EvalResult> other = RunEval(Options(Other()));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(ema->loss(), other->loss());
  EXPECT_EQ(ema->options().weights(), "ema");
  absl::StatusOr<EvalResult> model = RunEval(Options(WithEma()));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NE(model->loss(), ema->loss());
  EXPECT_EQ(model->options().weights(), "model");
  // A checkpoint without EMA weights.
  options.checkpoint = Checkpoint();
  const absl::Status status = RunEval(options).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), Checkpoint())) << status;
}

TEST_F(EvalTest, AModelTrainedWithBlurPoolIsEvaluatedWithIt) {
  absl::StatusOr<EvalResult> blurred = RunEval(Options(Blurred()));
  ASSERT_TRUE(blurred.ok()) << blurred.status();
  absl::StatusOr<EvalResult> plain = RunEval(Options(Checkpoint()));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_NE(blurred->loss(), plain->loss()) << "the same weights, evaluated through the blur filters";
}

TEST_F(EvalTest, PredictionsHoldEachImagesTopFive) {
  EvalToolOptions options = Options(Checkpoint());
  options.predictions = true;
  absl::StatusOr<EvalResult> result = RunEval(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->predictions_size(), kImages);
  int64_t top1_hits = 0;
  for (const ImagePrediction& prediction : result->predictions()) {
    ASSERT_EQ(prediction.top5_size(), 5);
    ASSERT_EQ(prediction.top5_probability_size(), 5);
    for (int j = 1; j < 5; ++j) EXPECT_GE(prediction.top5_probability(j - 1), prediction.top5_probability(j));
    EXPECT_TRUE(absl::StrContains(prediction.source(), result->classes(prediction.label()).wnid()));
    top1_hits += prediction.top5(0) == prediction.label();
  }
  EXPECT_DOUBLE_EQ(result->top1(), 100.0 * top1_hits / kImages);
}

TEST_F(EvalTest, FlipTtaEvaluatesTheMirrorToo) {
  EvalToolOptions options = Options(Checkpoint());
  absl::StatusOr<EvalResult> plain = RunEval(options);
  options.flip_tta = true;
  absl::StatusOr<EvalResult> tta = RunEval(options);
  ASSERT_TRUE(plain.ok() && tta.ok());
  EXPECT_EQ(tta->images(), kImages);
  EXPECT_TRUE(tta->options().flip_tta());
  // Averaging with the mirror's probabilities changes the loss of an untrained model's
  // predictions (a network is not mirror-symmetric).
  EXPECT_NE(tta->loss(), plain->loss());
}

TEST_F(EvalTest, BareWeightsNeedTheModelAndStatistics) {
  EvalToolOptions options = Options(Weights());
  absl::Status status = RunEval(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--model")) << status;

  options.model = "resnet18";
  status = RunEval(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--stats")) << status;

  options.stats = inputs_->stats;
  absl::StatusOr<EvalResult> bare = RunEval(options);
  ASSERT_TRUE(bare.ok()) << bare.status();
  absl::StatusOr<EvalResult> from_checkpoint = RunEval(Options(Checkpoint()));
  ASSERT_TRUE(from_checkpoint.ok());
  EXPECT_EQ(bare->top1(), from_checkpoint->top1()) << "the same weights";
  EXPECT_EQ(bare->loss(), from_checkpoint->loss());

  options.model = "resnet34";
  status = RunEval(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), Weights())) << status;
}

// A safetensors export of the checkpoint evaluates as the checkpoint does (model, classes and
// statistics from its metadata); a state dict saved as PyTorch saves one, with --model and --stats.
TEST_F(EvalTest, SafetensorsFilesEvaluateAsTheirCheckpoint) {
  absl::StatusOr<TrainedModel> trained = LoadTrainedModel(Checkpoint(), "", kClasses);
  ASSERT_TRUE(trained.ok()) << trained.status();
  absl::StatusOr<Safetensors> exported = ExportModel(*trained->model, trained->state, /*ema=*/false, {});
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(WriteSafetensors(*dir_ + "/model.safetensors", *exported).ok());
  Safetensors foreign;
  foreign.tensors = exported->tensors;
  ASSERT_TRUE(WriteSafetensors(*dir_ + "/torchvision.safetensors", foreign).ok());

  absl::StatusOr<EvalResult> from_checkpoint = RunEval(Options(Checkpoint()));
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status();
  absl::StatusOr<EvalResult> ours = RunEval(Options(*dir_ + "/model.safetensors"));
  ASSERT_TRUE(ours.ok()) << ours.status();
  EvalToolOptions options = Options(*dir_ + "/torchvision.safetensors");
  options.model = "resnet18";
  options.stats = inputs_->stats;
  absl::StatusOr<EvalResult> theirs = RunEval(options);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  for (const EvalResult* result : {&*ours, &*theirs}) {
    EXPECT_EQ(result->top1(), from_checkpoint->top1());
    EXPECT_EQ(result->loss(), from_checkpoint->loss());
    EXPECT_EQ(std::vector<int64_t>(result->confusion().begin(), result->confusion().end()),
              std::vector<int64_t>(from_checkpoint->confusion().begin(), from_checkpoint->confusion().end()));
  }
  options.model.clear();
  absl::Status status = RunEval(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--model")) << status;
}

TEST_F(EvalTest, RefusesDataWhoseClassesDifferFromTheCheckpoints) {
  // The same images with the last class under another WNID.
  const std::string other = *dir_ + "/other_classes";
  fs::remove_all(other);
  fs::copy(inputs_->train, other, fs::copy_options::recursive);
  std::vector<std::string> wnids;
  for (const fs::directory_entry& entry : fs::directory_iterator(other)) wnids.push_back(entry.path().filename());
  std::sort(wnids.begin(), wnids.end());
  fs::rename(other + "/" + wnids.back(), other + "/n99999999");
  EvalToolOptions options = Options(Checkpoint());
  options.data = other;
  absl::Status status = RunEval(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "n99999999")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), Checkpoint())) << status;
}

// Images of extreme shapes among the data: those whose resize would exceed the size bounds are
// skipped and counted, the others evaluated; nothing crashes.
TEST_F(EvalTest, ExtremeImagesAreSkippedOrEvaluatedNeverACrash) {
  const std::string data = *dir_ + "/with_extreme_images";
  fs::remove_all(data);
  fs::copy(inputs_->train, data, fs::copy_options::recursive);
  std::vector<std::string> wnids;
  for (const fs::directory_entry& entry : fs::directory_iterator(data)) wnids.push_back(entry.path().filename());
  std::sort(wnids.begin(), wnids.end());
  for (const testdata::ExtremeImage& image : testdata::ExtremeImages()) {
    testdata::WriteTestFile(data + "/" + wnids.front() + "/" + image.name, image.bytes);
  }
  EvalToolOptions options = Options(Checkpoint());
  options.data = data;
  absl::StatusOr<EvalResult> result = RunEval(options);
  ASSERT_TRUE(result.ok()) << result.status();
  // At --resize_shorter=37 the 20000x2 and 2x20000 images (JPEG and PNG) would become 370000 px
  // long, the 70000x1 one 2590000: over the 65500 px bound. The 1x1 ones are upscaled and used.
  EXPECT_EQ(result->images_skipped(), 5);
  EXPECT_EQ(result->images(), kImages + 2);
  EXPECT_EQ(result->per_class(0).support(), kImages / kClasses + 2);
}

TEST_F(EvalTest, RefusesMissingFilesAndBadSizes) {
  EXPECT_TRUE(absl::IsNotFound(RunEval(Options(*dir_ + "/missing.ckpt")).status()));
  EvalToolOptions options = Options(Checkpoint());
  options.center_crop = 64;  // larger than resize_shorter
  EXPECT_TRUE(absl::IsInvalidArgument(RunEval(options).status()));
}

}  // namespace
}  // namespace forge
