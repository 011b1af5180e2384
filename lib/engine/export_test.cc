// Exported safetensors files: torchvision's state-dict names and types, our metadata, and reading
// them back (ours and foreign ones) with LoadTrainedModel and InitializeWeightsFrom.
#include "lib/engine/export.h"

#include <filesystem>
#include <set>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/engine/state_dict.h"
#include "lib/engine/trained_model.h"
#include "lib/io/safetensors.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "lib/train/torch_archive_testing.h"
#include "proto/checkpoint.pb.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

ResNet Model(const std::string& name, int64_t classes, bool blurpool = false, uint64_t seed = 1) {
  torch::manual_seed(seed);
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName(name, classes);
  EXPECT_TRUE(options.ok());
  options->blurpool = blurpool;
  ResNet model(*options);
  // Batch norm as after training (fresh statistics would make every BN nearly the identity, and
  // a mix-up of its tensors invisible).
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0, 0.1);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
    if (item.key().find("num_batches_tracked") != std::string::npos) item.value().fill_(7);
  }
  for (auto& item : model->named_parameters()) {
    if (item.key().find("bn") != std::string::npos || item.key().find("downsample.1") != std::string::npos) {
      item.value().uniform_(0.5, 1.5);
    }
  }
  model->eval();
  return model;
}

TrainState State(const std::string& name, bool blurpool, int classes) {
  TrainState state;
  TrainConfig* config = state.mutable_config();
  config->set_name("tiny");
  config->mutable_model()->set_name(name);
  config->mutable_model()->set_blurpool(blurpool);
  config->mutable_data()->set_eval_size(192);
  config->mutable_data()->set_eval_crop_ratio(0.875);
  for (int c = 0; c < classes; ++c) state.add_classes(absl::StrCat("n0000000", c));
  for (double mean : {0.485, 0.456, 0.406}) state.mutable_stats()->add_mean(mean);
  for (double std : {0.229, 0.224, 0.225}) state.mutable_stats()->add_std(std);
  state.set_epoch(4);
  state.set_step(40);
  for (const auto& [phase, top1] : std::vector<std::pair<std::string, double>>{{"val", 55.5}, {"val_ema", 60.25}}) {
    EpochMetrics* metrics = state.mutable_log()->add_epochs();
    metrics->set_epoch(4);
    metrics->set_phase(phase);
    metrics->set_top1(top1);
  }
  return state;
}

torch::Tensor Logits(ResNet& model) {
  torch::NoGradGuard no_grad;
  model->eval();
  torch::manual_seed(9);
  return model->forward(torch::randn({2, 3, 64, 64}));
}

void ExpectSameStateDict(const torch::nn::Module& a, const torch::nn::Module& b) {
  const NamedTensors ours = StateDict(a), theirs = StateDict(b);
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [name, tensor] : ours) {
    ASSERT_EQ(theirs.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(tensor, theirs.at(name))) << name;
  }
}

std::string Write(const Safetensors& file, const std::string& name) {
  const std::string path = testdata::NewScratchDir() + "/" + name;
  absl::Status status = WriteSafetensors(path, file);
  EXPECT_TRUE(status.ok()) << status;
  return path;
}

std::string WriteExport(ResNet& model, const TrainState& state, bool ema, const std::string& name,
                        const std::vector<std::string>& names = {}) {
  absl::StatusOr<Safetensors> file = ExportModel(*model, state, ema, names);
  EXPECT_TRUE(file.ok()) << file.status();
  return Write(*file, name);
}

// Torchvision's resnet18 / resnet50 state dicts have 122 / 320 entries (checked against
// torchvision in //tools/export:torchvision_check_test, which loads ours with strict=True).
TEST(ExportTest, TensorsAreTheStateDictInTorchvisionsTypes) {
  for (const auto& [name, count] : std::vector<std::pair<std::string, size_t>>{{"resnet18", 122}, {"resnet50", 320}}) {
    for (bool blurpool : {false, true}) {
      ResNet model = Model(name, 5, blurpool);
      absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(*model);
      ASSERT_TRUE(tensors.ok()) << tensors.status();
      EXPECT_EQ(tensors->size(), count) << name << (blurpool ? " with BlurPool" : "");  // BlurPool adds none
      for (const SafetensorsTensor& tensor : *tensors) {
        if (absl::EndsWith(tensor.name, "num_batches_tracked")) {
          EXPECT_EQ(tensor.dtype, SafetensorsDtype::kI64) << tensor.name;
          EXPECT_TRUE(tensor.shape.empty()) << tensor.name;
          EXPECT_EQ(tensor.data, std::string("\x07\0\0\0\0\0\0\0", 8)) << tensor.name;
        } else {
          EXPECT_EQ(tensor.dtype, SafetensorsDtype::kF32) << tensor.name;
        }
      }
    }
  }
  ResNet model = Model("resnet50", 5);
  absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(*model);
  ASSERT_TRUE(tensors.ok());
  std::set<std::string> names;
  for (const SafetensorsTensor& tensor : *tensors) names.insert(tensor.name);
  for (const char* name : {"conv1.weight", "bn1.running_var", "layer1.0.downsample.0.weight",
                           "layer1.0.downsample.1.num_batches_tracked", "layer4.2.conv3.weight", "fc.bias"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
}

TEST(ExportTest, MetadataSaysHowToUseTheModel) {
  ResNet model = Model("resnet18", 3);
  absl::StatusOr<Safetensors> file = ExportModel(*model, State("resnet18", false, 3), /*ema=*/false,
                                                 {"tench, Tinca tinca", "goldfish", "great \"white\" shark"});
  ASSERT_TRUE(file.ok()) << file.status();
  const std::map<std::string, std::string>& metadata = file->metadata;
  EXPECT_EQ(metadata.at("format"), "pt");
  EXPECT_EQ(metadata.at("forge_format"), kExportFormat);
  EXPECT_EQ(metadata.at("architecture"), "resnet18");
  EXPECT_EQ(metadata.at("num_classes"), "3");
  EXPECT_EQ(metadata.at("classes"), R"(["n00000000","n00000001","n00000002"])");
  EXPECT_EQ(metadata.at("class_names"), R"(["tench, Tinca tinca","goldfish","great \"white\" shark"])");
  EXPECT_EQ(metadata.at("mean"), "[0.485,0.456,0.406]");
  EXPECT_EQ(metadata.at("std"), "[0.229,0.224,0.225]");
  EXPECT_EQ(metadata.at("eval_resize"), "219");  // floor(192 / 0.875)
  EXPECT_EQ(metadata.at("eval_crop"), "192");
  EXPECT_EQ(metadata.at("epoch"), "4");
  EXPECT_EQ(metadata.at("step"), "40");
  EXPECT_EQ(metadata.at("val_top1"), "55.5");
  EXPECT_EQ(metadata.at("weights"), "model");
  EXPECT_EQ(metadata.at("blurpool"), "false");
  EXPECT_EQ(metadata.count("note"), 0u);
  EXPECT_THAT(metadata.at("config"), HasSubstr("name: \"resnet18\""));

  absl::StatusOr<Safetensors> ema = ExportModel(*model, State("resnet18", false, 3), /*ema=*/true, {});
  ASSERT_TRUE(ema.ok());
  EXPECT_EQ(ema->metadata.at("val_top1"), "60.25");
  EXPECT_EQ(ema->metadata.at("weights"), "ema");
  EXPECT_EQ(ema->metadata.count("class_names"), 0u);

  EXPECT_FALSE(ExportModel(*model, State("resnet18", false, 3), false, {"one name"}).ok());
  EXPECT_FALSE(ExportModel(*model, State("resnet18", false, 4), false, {}).ok());
}

TEST(ExportTest, LoadTrainedModelReadsOurFileBack) {
  ResNet model = Model("resnet18", 3);
  const TrainState state = State("resnet18", false, 3);
  const std::string path = WriteExport(model, state, /*ema=*/false, "model.safetensors", {"a", "b", "c"});
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(path, "", 0);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameStateDict(*model, *loaded->model);
  EXPECT_TRUE(torch::equal(Logits(model), Logits(loaded->model)));
  EXPECT_EQ(loaded->model->options().num_classes, 3);
  EXPECT_FALSE(loaded->model->options().blurpool);
  EXPECT_EQ(loaded->state.classes_size(), 3);
  EXPECT_EQ(loaded->state.classes(2), "n00000002");
  EXPECT_EQ(loaded->state.stats().mean_size(), 3);
  EXPECT_DOUBLE_EQ(loaded->state.stats().std(1), 0.224);
  EXPECT_EQ(loaded->state.config().SerializeAsString(), state.config().SerializeAsString());
  EXPECT_EQ(loaded->state.epoch(), 4);
  EXPECT_EQ(loaded->class_names, (std::vector<std::string>{"a", "b", "c"}));
  // The weights exported are the model's: no EMA to give.
  EXPECT_TRUE(absl::IsFailedPrecondition(LoadTrainedModel(path, "", 0, Weights::kEma).status()));
  // Found by its first bytes under any name.
  const std::string renamed = testdata::NewScratchDir() + "/weights.bin";
  std::filesystem::copy_file(path, renamed);
  absl::StatusOr<TrainedModel> sniffed = LoadTrainedModel(renamed, "", 0);
  ASSERT_TRUE(sniffed.ok()) << sniffed.status();
  EXPECT_EQ(sniffed->state.classes_size(), 3);
}

TEST(ExportTest, AnEmaExportIsLoadedAsEitherWeights) {
  ResNet model = Model("resnet18", 3);
  const std::string path = WriteExport(model, State("resnet18", false, 3), /*ema=*/true, "ema.safetensors");
  for (Weights weights : {Weights::kModel, Weights::kEma}) {
    absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(path, "", 0, weights);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ExpectSameStateDict(*model, *loaded->model);
  }
}

// BlurPool has no tensors, so only the metadata carries it; our loader builds the model with it.
TEST(ExportTest, ABlurPoolModelComesBackWithBlurPool) {
  ResNet model = Model("resnet18", 3, /*blurpool=*/true);
  const std::string path = WriteExport(model, State("resnet18", true, 3), false, "blur.safetensors");
  absl::StatusOr<Safetensors> file = ReadSafetensors(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->metadata.at("blurpool"), "true");
  EXPECT_THAT(file->metadata.at("note"), HasSubstr("torchvision's ResNet has none"));
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(path, "", 0);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->model->options().blurpool);
  EXPECT_TRUE(torch::equal(Logits(model), Logits(loaded->model)));
  // The same weights without BlurPool (what torchvision computes) answer otherwise.
  ResNet plain = Model("resnet18", 3, /*blurpool=*/false);
  EXPECT_FALSE(torch::allclose(Logits(model), Logits(plain), 1e-3, 1e-3));
}

// A torchvision state dict saved by PyTorch: no metadata, so the caller names the model.
TEST(ExportTest, AForeignFileNeedsTheModelNameAndMustFitIt) {
  ResNet model = Model("resnet18", 3);
  absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(*model);
  ASSERT_TRUE(tensors.ok());
  Safetensors file;
  file.metadata["format"] = "pt";
  file.tensors = *tensors;
  const std::string path = Write(file, "torchvision.safetensors");

  absl::Status status = LoadTrainedModel(path, "", 3).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("pass --model"));
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(path, "resnet18", 3);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameStateDict(*model, *loaded->model);
  EXPECT_EQ(loaded->state.classes_size(), 0);

  status = LoadTrainedModel(path, "resnet18", 5).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(status.message(), HasSubstr("fc.weight is [3, 512] in the file, [5, 512] in the model"));
  status = LoadTrainedModel(path, "resnet34", 3).status();
  EXPECT_THAT(status.message(), HasSubstr("missing from the file: layer1.2.bn1.bias"));
  status = LoadTrainedModel(path, "resnet50", 3).status();
  EXPECT_THAT(status.message(), HasSubstr("layer1.0.conv1.weight is [64, 64, 3, 3] in the file, [64, 64, 1, 1] in the model"));
  Safetensors extra = file;
  extra.tensors.push_back({"extra.weight", SafetensorsDtype::kF32, {1}, std::string(4, '\0')});
  status = LoadTrainedModel(Write(extra, "extra.safetensors"), "resnet18", 3).status();
  EXPECT_THAT(status.message(), HasSubstr("not in the model: extra.weight"));
  EXPECT_TRUE(absl::IsInvalidArgument(LoadTrainedModel(path, "resnet18", 3, Weights::kEma).status()));

  // An integer where a weight belongs.
  file.tensors[0].dtype = SafetensorsDtype::kI32;
  status = LoadTrainedModel(Write(file, "ints.safetensors"), "resnet18", 3).status();
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(file.tensors[0].name, " is Int in the file, Float in the model")));
}

TEST(ExportTest, LoadTrainedModelReadsBareLibTorchWeightsAndRefusesACraftedPickle) {
  ResNet model = Model("resnet18", 3);
  const std::string path = testdata::NewScratchDir() + "/bare.pt";
  torch::save(model, path);
  absl::StatusOr<TrainedModel> loaded = LoadTrainedModel(path, "resnet18", 3);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameStateDict(*model, *loaded->model);

  // An archive whose pickle would make LibTorch allocate 27 GB (kHugeMemoPickle).
  testdata::WriteTestFile(path, ArchiveOfOnePickle(kHugeMemoPickle));
  const absl::Status status = LoadTrainedModel(path, "resnet18", 3).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(path, ": cannot load weights for resnet18: the archive's record 'data.pkl'")));
}

TEST(ExportTest, RefusesMalformedMetadata) {
  ResNet model = Model("resnet18", 3);
  absl::StatusOr<Safetensors> good = ExportModel(*model, State("resnet18", false, 3), false, {});
  ASSERT_TRUE(good.ok());
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"forge_format", "forge.export.v9", "this build reads \"forge.export.v1\""},
      {"classes", "[1, 2, 3]", "\"classes\" is not a JSON list of strings"},
      {"classes", "[\"a\"]", "lists 1 classes for \"num_classes\" 3"},
      {"mean", "[0.5, \"x\"]", "\"mean\" is not a JSON list of numbers"},
      {"num_classes", "three", "has no integer \"num_classes\""},
      {"blurpool", "yes", "\"blurpool\" of \"true\" or \"false\""},
      {"weights", "best", "\"weights\" of \"model\" or \"ema\""},
      {"config", "model { name: ", "no \"config\" that parses"},
      {"architecture", "resnet51", "resnet51"},
  };
  for (const auto& [key, value, problem] : cases) {
    Safetensors file = *good;
    file.metadata[key] = value;
    absl::Status status = LoadTrainedModel(Write(file, "bad.safetensors"), "", 0).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << key;
    EXPECT_THAT(status.message(), HasSubstr(problem)) << key;
  }
  Safetensors file = *good;
  file.metadata.erase("classes");
  EXPECT_THAT(LoadTrainedModel(Write(file, "bad.safetensors"), "", 0).status().message(),
              HasSubstr("has no \"classes\""));
}

TEST(ExportTest, InitializesAModelFromAnExportACheckpointOrAForeignFile) {
  ResNet source = Model("resnet18", 3, false, /*seed=*/1);
  const std::string exported = WriteExport(source, State("resnet18", false, 3), false, "init.safetensors");
  const std::string checkpoint = testdata::NewScratchDir() + "/init.ckpt";
  ASSERT_TRUE(SaveCheckpoint(checkpoint, State("resnet18", false, 3), *source, nullptr).ok());
  for (const std::string& path : {exported, checkpoint}) {
    ResNet model = Model("resnet18", 3, false, /*seed=*/2);
    absl::Status status = InitializeWeightsFrom(path, /*reset_head=*/false, model);
    ASSERT_TRUE(status.ok()) << status;
    ExpectSameStateDict(*source, *model);
  }
}

TEST(ExportTest, AHeadOfOtherClassesIsResetOnlyOnRequest) {
  ResNet source = Model("resnet18", 3, false, /*seed=*/1);
  const std::string path = WriteExport(source, State("resnet18", false, 3), false, "init.safetensors");
  ResNet model = Model("resnet18", 5, false, /*seed=*/2);
  const torch::Tensor before = model->conv1->weight.clone();
  absl::Status status = InitializeWeightsFrom(path, /*reset_head=*/false, model);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("a classifier head for 3 classes; this run has 5: pass --init_reset_head"));
  EXPECT_TRUE(torch::equal(model->conv1->weight, before));  // unchanged

  const torch::Tensor head = model->fc->weight.clone();
  status = InitializeWeightsFrom(path, /*reset_head=*/true, model);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(torch::equal(model->conv1->weight, source->conv1->weight));
  EXPECT_TRUE(torch::equal(StateDict(*model).at("layer4.1.bn2.running_var"), StateDict(*source).at("layer4.1.bn2.running_var")));
  EXPECT_TRUE(torch::equal(model->fc->weight, head));

  ResNet other = Model("resnet34", 3);
  status = InitializeWeightsFrom(path, false, other);
  EXPECT_THAT(status.message(), HasSubstr("holds resnet18 weights; this run trains resnet34"));
  EXPECT_TRUE(absl::IsNotFound(InitializeWeightsFrom(path + ".missing", false, other)));
}

}  // namespace
}  // namespace forge
