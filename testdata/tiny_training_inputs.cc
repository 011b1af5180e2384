#include "testdata/tiny_training_inputs.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "proto/stats.pb.h"
#include "testdata/scratch.h"
#include "testdata/tiny_imagenet.h"

namespace forge::testdata {

absl::StatusOr<TinyTrainingInputs> WriteTinyTrainingInputs(const std::string& dir) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  TinyImageNetOptions options;
  options.train_per_class = 4;
  options.val_per_class = 0;
  options.min_side = 40;
  options.max_side = 56;
  options.pathological = false;
  if (absl::Status status = WriteTinyImageNet(dir + "/data", options); !status.ok()) return status;
  ChannelStats stats;
  for (double m : {0.45, 0.45, 0.45}) stats.add_mean(m);
  for (double s : {0.25, 0.25, 0.25}) stats.add_std(s);
  TinyTrainingInputs inputs{dir + "/data/train", dir + "/stats.txtpb"};
  if (absl::Status status = WriteProtoFile(inputs.stats, stats); !status.ok()) return status;
  return inputs;
}

std::string ScratchTrainingInputs(const std::string& recipe) {
  const std::string dir = NewScratchDir("inputs");
  const absl::StatusOr<TinyTrainingInputs> inputs = WriteTinyTrainingInputs(dir);
  EXPECT_TRUE(inputs.ok()) << inputs.status();
  std::ofstream(dir + "/recipe.txtpb") << recipe;
  return dir;
}

std::vector<std::string> TrainFlags(const std::string& inputs_dir, const std::string& run_dir) {
  return {"--config=" + inputs_dir + "/recipe.txtpb", "--train=" + inputs_dir + "/data/train",
          "--val=" + inputs_dir + "/data/train",      "--stats=" + inputs_dir + "/stats.txtpb",
          "--run_dir=" + run_dir,                     "--device=cpu"};
}

}  // namespace forge::testdata
