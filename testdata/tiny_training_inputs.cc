#include "testdata/tiny_training_inputs.h"

#include <filesystem>

#include "lib/io/proto_file.h"
#include "proto/stats.pb.h"
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

}  // namespace forge::testdata
