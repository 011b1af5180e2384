// Predictor on the tiny training inputs with a freshly initialised ResNet-18: the same top-5 as
// Evaluate's predictions, per-image errors, class names, bare weights and its refusals.
#include "lib/engine/predictor.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "lib/data/dataset.h"
#include "lib/data/normalize.h"
#include "lib/engine/evaluate.h"
#include "lib/engine/input.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "proto/checkpoint.pb.h"
#include "proto/stats.pb.h"
#include "testdata/extreme_images.h"
#include "testdata/scratch.h"
#include "testdata/tiny_model.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr int kClasses = testdata::kTinyClasses;
constexpr int kImages = testdata::kTinyImages;
// The evaluation transform the checkpoint's run stored: shorter side floor(32 / 0.875) = 36.
constexpr int kEvalSize = testdata::kTinyEvalSize;
constexpr double kEvalCropRatio = 0.875;
// Probabilities of the same image in batches of other sizes: CPU kernels may sum in another order.
constexpr float kTolerance = 1e-5f;

class PredictorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testdata::NewScratchDir());
    absl::StatusOr<testdata::TinyModel> tiny = testdata::WriteTinyModel(*dir_);
    ASSERT_TRUE(tiny.ok()) << tiny.status();
    tiny_ = new testdata::TinyModel(*tiny);
    inputs_ = &tiny_->inputs;
  }

  static std::string Checkpoint() { return tiny_->checkpoint; }
  static std::string BareWeights() { return tiny_->bare_weights; }
  static std::string Mapping() { return tiny_->synset_mapping; }

  static PredictorOptions Options() {
    PredictorOptions options;
    options.weights_path = Checkpoint();
    options.device = "cpu";
    options.threads = 2;
    return options;
  }

  static std::unique_ptr<Predictor> Make(const PredictorOptions& options) {
    absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(options);
    EXPECT_TRUE(predictor.ok()) << predictor.status();
    return predictor.ok() ? *std::move(predictor) : nullptr;
  }

  // The tiny inputs' images, in dataset order.
  static std::vector<std::string> Images() {
    absl::StatusOr<std::unique_ptr<ImageDataset>> data = OpenImageDataset(inputs_->train);
    EXPECT_TRUE(data.ok()) << data.status();
    std::vector<std::string> images;
    for (size_t i = 0; i < (*data)->size(); ++i) {
      absl::StatusOr<std::string> bytes = ReadFile((*data)->Describe(i));
      EXPECT_TRUE(bytes.ok()) << bytes.status();
      images.push_back(*bytes);
    }
    return images;
  }

  static std::string* dir_;
  static testdata::TinyModel* tiny_;
  static const testdata::TinyTrainingInputs* inputs_;
};

std::string* PredictorTest::dir_ = nullptr;
testdata::TinyModel* PredictorTest::tiny_ = nullptr;
const testdata::TinyTrainingInputs* PredictorTest::inputs_ = nullptr;

std::vector<absl::string_view> Views(const std::vector<std::string>& images) {
  return std::vector<absl::string_view>(images.begin(), images.end());
}

void ExpectSameAnswer(const TopK& got, const TopK& want, const std::string& what) {
  ASSERT_EQ(got.classes.size(), want.classes.size()) << what;
  EXPECT_EQ(got.classes, want.classes) << what;
  for (size_t j = 0; j < want.probabilities.size(); ++j) {
    EXPECT_NEAR(got.probabilities[j], want.probabilities[j], kTolerance) << what << " rank " << j;
  }
}

// The run's stored transform by default, and Evaluate's numbers for every image.
TEST_F(PredictorTest, TopFiveIsEvaluatesPredictionsWithTheStoredTransform) {
  std::unique_ptr<Predictor> predictor = Make(Options());
  ASSERT_NE(predictor, nullptr);
  EXPECT_EQ(predictor->transform().size, kEvalSize);
  EXPECT_DOUBLE_EQ(predictor->transform().crop_ratio, kEvalCropRatio);
  EXPECT_EQ(predictor->transform().resize_shorter, 0);

  absl::StatusOr<std::unique_ptr<ImageDataset>> data = OpenImageDataset(inputs_->train);
  ASSERT_TRUE(data.ok()) << data.status();
  absl::StatusOr<TrainedModel> trained = LoadTrainedModel(Checkpoint(), "", kClasses);
  ASSERT_TRUE(trained.ok()) << trained.status();
  trained->model->eval();
  absl::StatusOr<Normalizer> normalizer = Normalizer::Create(trained->state.stats(), torch::kCPU);
  ASSERT_TRUE(normalizer.ok());
  EvalTransformOptions transform;
  transform.size = kEvalSize;
  transform.crop_ratio = kEvalCropRatio;
  EvaluateOptions evaluate;
  evaluate.predictions = true;
  evaluate.channels_last = false;
  absl::StatusOr<Evaluation> evaluation =
      Evaluate([&](const torch::Tensor& x) { return trained->model->forward(x); }, **data,
               CenterCropLoaderOptions(transform, /*batch_size=*/16), *normalizer, evaluate);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  ASSERT_EQ(evaluation->result.predictions_size(), kImages);

  const std::vector<std::string> images = Images();
  const std::vector<absl::StatusOr<TopK>> answers = predictor->Predict(Views(images), 5);
  ASSERT_EQ(answers.size(), images.size());
  for (int i = 0; i < kImages; ++i) {
    const ImagePrediction& want = evaluation->result.predictions(i);
    ASSERT_TRUE(answers[i].ok()) << want.source() << ": " << answers[i].status();
    TopK expected;
    expected.classes.assign(want.top5().begin(), want.top5().end());
    expected.probabilities.assign(want.top5_probability().begin(), want.top5_probability().end());
    ExpectSameAnswer(*answers[i], expected, want.source());
  }
}

TEST_F(PredictorTest, AnswersDoNotDependOnTheBatch) {
  std::unique_ptr<Predictor> predictor = Make(Options());
  ASSERT_NE(predictor, nullptr);
  const std::vector<std::string> images = Images();
  const std::vector<absl::StatusOr<TopK>> together = predictor->Predict(Views(images), 3);
  for (int i : {0, 17, kImages - 1}) {
    const std::vector<absl::StatusOr<TopK>> alone = predictor->Predict({images[i]}, 3);
    ASSERT_EQ(alone.size(), 1u);
    ASSERT_TRUE(alone[0].ok() && together[i].ok());
    EXPECT_EQ(alone[0]->classes.size(), 3u);
    ExpectSameAnswer(*alone[0], *together[i], "image " + std::to_string(i));
  }
  EXPECT_TRUE(predictor->Predict({}, 5).empty());
}

// Undecodable bytes and an image too tall to resize get their own errors; the others are answered
// as they are alone.
TEST_F(PredictorTest, BadImagesFailAloneTheOthersAreAnswered) {
  std::unique_ptr<Predictor> predictor = Make(Options());
  ASSERT_NE(predictor, nullptr);
  const std::vector<std::string> images = Images();
  std::string tall;
  for (const testdata::ExtremeImage& image : testdata::ExtremeImages()) {
    if (image.name == "tall_2x20000.png") tall = image.bytes;
  }
  ASSERT_FALSE(tall.empty());
  const std::string truncated = images[3].substr(0, images[3].size() / 2);
  const std::vector<absl::StatusOr<TopK>> answers =
      predictor->Predict({"not an image", images[0], tall, truncated, images[1]}, 5);
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_TRUE(absl::IsInvalidArgument(answers[0].status())) << answers[0].status();
  EXPECT_TRUE(absl::IsInvalidArgument(answers[2].status())) << answers[2].status();
  EXPECT_TRUE(absl::IsInvalidArgument(answers[3].status())) << answers[3].status();
  const std::vector<absl::StatusOr<TopK>> good = predictor->Predict({images[0], images[1]}, 5);
  ASSERT_TRUE(answers[1].ok() && answers[4].ok() && good[0].ok() && good[1].ok());
  ExpectSameAnswer(*answers[1], *good[0], "image 0");
  ExpectSameAnswer(*answers[4], *good[1], "image 1");

  // Check refuses the tall image (and the garbage) from the header, passes the good ones.
  EXPECT_TRUE(predictor->Check(images[0]).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(predictor->Check(tall))) << predictor->Check(tall);
  EXPECT_TRUE(absl::IsInvalidArgument(predictor->Check("not an image")));

  const std::vector<absl::StatusOr<TopK>> all_bad = predictor->Predict({"x", tall}, 5);
  EXPECT_FALSE(all_bad[0].ok() || all_bad[1].ok());
}

TEST_F(PredictorTest, MaxPixelsRefusesLargerImages) {
  PredictorOptions options = Options();
  options.max_pixels = 40 * 40 - 1;  // the tiny images are 40-56 px a side
  std::unique_ptr<Predictor> predictor = Make(options);
  ASSERT_NE(predictor, nullptr);
  EXPECT_EQ(predictor->max_pixels(), 40 * 40 - 1);
  const std::vector<std::string> images = Images();
  EXPECT_TRUE(absl::IsInvalidArgument(predictor->Check(images[0])));
  const std::vector<absl::StatusOr<TopK>> answers = predictor->Predict({images[0]}, 5);
  EXPECT_TRUE(absl::IsInvalidArgument(answers[0].status())) << answers[0].status();
}

TEST_F(PredictorTest, KIsClampedToTheClassesAndMustBePositive) {
  std::unique_ptr<Predictor> predictor = Make(Options());
  ASSERT_NE(predictor, nullptr);
  const std::vector<std::string> images = Images();
  const std::vector<absl::StatusOr<TopK>> all = predictor->Predict({images[0]}, 100);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  ASSERT_EQ(all[0]->classes.size(), static_cast<size_t>(kClasses));
  float sum = 0;
  for (int j = 0; j < kClasses; ++j) {
    sum += all[0]->probabilities[j];
    if (j > 0) {
      EXPECT_GE(all[0]->probabilities[j - 1], all[0]->probabilities[j]);
    }
  }
  EXPECT_NEAR(sum, 1.0f, 1e-5f);
  const std::vector<absl::StatusOr<TopK>> none = predictor->Predict({images[0], images[1]}, 0);
  ASSERT_EQ(none.size(), 2u);
  EXPECT_TRUE(absl::IsInvalidArgument(none[0].status()) && absl::IsInvalidArgument(none[1].status()));
}

TEST_F(PredictorTest, ClassesAreNamedFromTheSynsetMappingElseByWnid) {
  std::unique_ptr<Predictor> plain = Make(Options());
  ASSERT_NE(plain, nullptr);
  ASSERT_EQ(plain->classes().size(), static_cast<size_t>(kClasses));
  for (const ClassLabel& label : plain->classes()) EXPECT_EQ(label.name, label.wnid);
  PredictorOptions options = Options();
  options.synset_mapping = Mapping();
  std::unique_ptr<Predictor> named = Make(options);
  ASSERT_NE(named, nullptr);
  for (int c = 0; c < kClasses; ++c) {
    EXPECT_EQ(named->classes()[c].wnid, plain->classes()[c].wnid);
    EXPECT_EQ(named->classes()[c].name, "name of " + plain->classes()[c].wnid);
  }
}

TEST_F(PredictorTest, ConcurrentCallersGetTheirOwnAnswers) {
  std::unique_ptr<Predictor> predictor = Make(Options());
  ASSERT_NE(predictor, nullptr);
  const std::vector<std::string> images = Images();
  const std::vector<absl::StatusOr<TopK>> want = predictor->Predict(Views(images), 5);
  std::vector<std::vector<absl::StatusOr<TopK>>> got(4);
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      std::vector<absl::string_view> mine;
      for (int i = t; i < kImages; i += 4) mine.push_back(images[i]);
      got[t] = predictor->Predict(mine, 5);
    });
  }
  for (std::thread& caller : callers) caller.join();
  for (int t = 0; t < 4; ++t) {
    for (int i = t, r = 0; i < kImages; i += 4, ++r) {
      ASSERT_TRUE(got[t][r].ok() && want[i].ok());
      ExpectSameAnswer(*got[t][r], *want[i], "image " + std::to_string(i));
    }
  }
}

TEST_F(PredictorTest, BareWeightsNeedTheModelAndStatisticsAndTakeClassesFromTheMapping) {
  PredictorOptions options = Options();
  options.weights_path = BareWeights();
  absl::Status status = Predictor::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--model")) << status;
  options.model = "resnet18";
  options.synset_mapping = Mapping();
  status = Predictor::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--stats")) << status;
  options.stats = inputs_->stats;
  options.center_crop = kEvalSize;
  options.resize_shorter = 36;  // what the checkpoint's stored transform resizes to
  std::unique_ptr<Predictor> bare = Make(options);
  ASSERT_NE(bare, nullptr);
  std::unique_ptr<Predictor> checkpoint = Make(Options());
  ASSERT_NE(checkpoint, nullptr);
  ASSERT_EQ(bare->classes().size(), static_cast<size_t>(kClasses));
  for (int c = 0; c < kClasses; ++c) EXPECT_EQ(bare->classes()[c].wnid, checkpoint->classes()[c].wnid);
  const std::vector<std::string> images = Images();
  const std::vector<absl::StatusOr<TopK>> a = bare->Predict({images[5]}, 5);
  const std::vector<absl::StatusOr<TopK>> b = checkpoint->Predict({images[5]}, 5);
  ASSERT_TRUE(a[0].ok() && b[0].ok());
  ExpectSameAnswer(*a[0], *b[0], "the same weights");

  // Without a mapping, bare weights are taken to have ImageNet's 1000 classes: not these.
  options.synset_mapping.clear();
  status = Predictor::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), BareWeights())) << status;
}

TEST_F(PredictorTest, FlagsOverrideTheStoredTransform) {
  PredictorOptions options = Options();
  options.center_crop = 24;
  std::unique_ptr<Predictor> cropped = Make(options);
  ASSERT_NE(cropped, nullptr);
  EXPECT_EQ(cropped->transform().size, 24);
  EXPECT_DOUBLE_EQ(cropped->transform().crop_ratio, kEvalCropRatio);
  options.resize_shorter = 40;
  std::unique_ptr<Predictor> resized = Make(options);
  ASSERT_NE(resized, nullptr);
  EXPECT_EQ(resized->transform().resize_shorter, 40);
  const std::vector<std::string> images = Images();
  EXPECT_TRUE(resized->Predict({images[0]}, 1)[0].ok());
}

TEST_F(PredictorTest, RefusesMissingFilesAndBadOptions) {
  PredictorOptions options = Options();
  options.weights_path = *dir_ + "/missing.ckpt";
  EXPECT_TRUE(absl::IsNotFound(Predictor::Create(options).status()));
  options = Options();
  options.weights_path.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(Predictor::Create(options).status()));
  options = Options();
  options.center_crop = 64;
  options.resize_shorter = 48;
  EXPECT_TRUE(absl::IsInvalidArgument(Predictor::Create(options).status()));
  options = Options();
  options.synset_mapping = *dir_ + "/missing_mapping.txt";
  EXPECT_TRUE(absl::IsNotFound(Predictor::Create(options).status()));
  options = Options();
  options.device = "tpu";
  EXPECT_TRUE(absl::IsInvalidArgument(Predictor::Create(options).status()));
}

}  // namespace
}  // namespace forge
