#include "testdata/tiny_model.h"

#include <algorithm>
#include <filesystem>

#include <torch/torch.h>

#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/model/resnet.h"
#include "lib/train/checkpoint.h"

namespace forge::testdata {

absl::StatusOr<TrainState> TinyRunState(const TinyTrainingInputs& inputs) {
  TrainState state;
  state.mutable_config()->mutable_model()->set_name("resnet18");
  state.mutable_config()->mutable_data()->set_eval_size(kTinyEvalSize);
  state.mutable_config()->mutable_data()->set_eval_crop_ratio(0.875);
  if (absl::Status status = ReadProtoFile(inputs.stats, state.mutable_stats()); !status.ok()) return status;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(inputs.train)) {
    state.add_classes(entry.path().filename().string());
  }
  std::sort(state.mutable_classes()->begin(), state.mutable_classes()->end());
  return state;
}

absl::StatusOr<TinyModel> WriteTinyModel(const std::string& dir) {
  TinyModel tiny;
  absl::StatusOr<TinyTrainingInputs> inputs = WriteTinyTrainingInputs(dir + "/inputs");
  if (!inputs.ok()) return inputs.status();
  tiny.inputs = *inputs;
  tiny.checkpoint = dir + "/model.ckpt";
  tiny.bare_weights = dir + "/weights.pt";
  tiny.synset_mapping = dir + "/synset_mapping.txt";
  absl::StatusOr<TrainState> state = TinyRunState(tiny.inputs);
  if (!state.ok()) return state.status();

  torch::manual_seed(7);
  absl::StatusOr<ResNetOptions> options = ResNetOptionsFromName("resnet18", kTinyClasses);
  if (!options.ok()) return options.status();
  ResNet model(*options);
  if (absl::Status status = SaveCheckpoint(tiny.checkpoint, *state, *model, /*optimizer=*/nullptr); !status.ok()) {
    return status;
  }
  torch::save(model, tiny.bare_weights);
  std::string mapping;
  for (const std::string& wnid : state->classes()) mapping += wnid + " name of " + wnid + "\n";
  if (absl::Status status = WriteFileAtomically(tiny.synset_mapping, mapping); !status.ok()) return status;
  return tiny;
}

}  // namespace forge::testdata
