#include "tools/serve/serve_testing.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "lib/data/synset_mapping.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"
#include "proto/checkpoint.pb.h"
#include "testdata/tiny_model.h"

namespace forge {

namespace fs = std::filesystem;

absl::StatusOr<ServeTestInputs> WriteServeTestInputs(const std::string& dir) {
  absl::StatusOr<testdata::TinyTrainingInputs> tiny = testdata::WriteTinyTrainingInputs(dir + "/inputs");
  if (!tiny.ok()) return tiny.status();
  ServeTestInputs inputs;
  absl::StatusOr<TrainState> run = testdata::TinyRunState(*tiny);
  if (!run.ok()) return run.status();
  const TrainState& state = *run;
  for (const fs::directory_entry& entry : fs::directory_iterator(tiny->train)) {
    for (const fs::directory_entry& file : fs::directory_iterator(entry.path())) {
      inputs.image_paths.push_back(file.path().string());
    }
  }
  std::sort(inputs.image_paths.begin(), inputs.image_paths.end());
  for (const std::string& path : inputs.image_paths) {
    std::ifstream in(path, std::ios::binary);
    inputs.images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  }

  absl::StatusOr<std::map<std::string, std::string>> names =
      ReadSynsetMapping(dir + "/inputs/data/LOC_synset_mapping.txt");
  if (!names.ok()) return names.status();
  (*names)[state.classes(0)] = kOddClassName;
  inputs.predictor.synset_mapping = dir + "/synset_mapping.txt";
  {
    std::ofstream out(inputs.predictor.synset_mapping);
    for (const auto& [wnid, name] : *names) out << wnid << " " << name << "\n";
    if (!out.good()) return absl::DataLossError(absl::StrCat("cannot write ", inputs.predictor.synset_mapping));
  }

  torch::manual_seed(7);
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", state.classes_size());
  if (!options.ok()) return options.status();
  ResNet model(*options);
  inputs.predictor.weights_path = dir + "/resnet18.ckpt";
  if (absl::Status status = SaveCheckpoint(inputs.predictor.weights_path, state, *model, /*optimizer=*/nullptr);
      !status.ok()) {
    return status;
  }
  inputs.predictor.device = "cpu";
  inputs.predictor.resize_shorter = 37;
  inputs.predictor.center_crop = 32;
  return inputs;
}

}  // namespace forge
