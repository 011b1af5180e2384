// Fuzzes ReadProtoFile with every message the tools read, in every format their extensions name
// (binary, text, JSON). The input's last byte picks the extension, the one before it the message;
// the rest is the file.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/io/proto_file.h"
#include "proto/checkpoint.pb.h"
#include "proto/dataset.pb.h"
#include "proto/eval.pb.h"
#include "proto/lr_curve.pb.h"
#include "proto/model_summary.pb.h"
#include "proto/stats.pb.h"
#include "proto/train_config.pb.h"
#include "proto/train_log.pb.h"
#include "proto/valprep.pb.h"

namespace {

constexpr const char* kExtensions[] = {".pb", ".txtpb", ".textproto", ".json"};
constexpr int kMessages = 9;

std::unique_ptr<google::protobuf::Message> NewMessage(int index) {
  switch (index) {
    case 0: return std::make_unique<forge::TrainConfig>();
    case 1: return std::make_unique<forge::TrainLog>();
    case 2: return std::make_unique<forge::DatasetManifest>();
    case 3: return std::make_unique<forge::ChannelStats>();
    case 4: return std::make_unique<forge::EvalResult>();
    case 5: return std::make_unique<forge::LrCurve>();
    case 6: return std::make_unique<forge::ModelSummary>();
    case 7: return std::make_unique<forge::ValprepReport>();
    default: return std::make_unique<forge::TrainState>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const char* extension = input.PickValueInArray(kExtensions);
  std::unique_ptr<google::protobuf::Message> message = NewMessage(input.ConsumeIntegralInRange(0, kMessages - 1));
  const std::string path = forge::WriteScratchFile(input.ConsumeRemainingBytesAsString(), std::string("message") + extension);
  (void)forge::ReadProtoFile(path, message.get());
  return 0;
}

// Each message with a few fields set, in each format, followed by the two bytes that select them.
std::vector<std::string> ForgeFuzzSeeds() {
  const char* texts[kMessages] = {
      "model { architecture: \"resnet50\" num_classes: 1000 } data { batch_size: 256 "
      "progressive_resizing { start_size: 160 end_size: 192 } auto_augment { policy: \"trivial_augment_wide\" } } "
      "epochs: 16 optimizer { sgd { momentum: 0.9 nesterov: true } } schedule { one_cycle { max_lr: 1.7 } }",
      "epochs { epoch: 1 phase: \"train\" loss: 6.5 top1: 0.1 } steps { step: 10 lr: 0.1 loss: 6.9 }",
      "format_version: 1 split: \"train\" classes { wnid: \"n01440764\" images: 3 } shards { file: \"train-00000.rec\" records: 3 }",
      "mean: 0.485 mean: 0.456 mean: 0.406 std: 0.229 std: 0.224 std: 0.225 images: 10 sum: 1 sum_of_squares: \"12\"",
      "top1: 0.76 top5: 0.93 classes { wnid: \"n01440764\" }",
      "points { lr: 0.001 loss: 6.9 } points { lr: 0.01 loss: 6.1 }",
      "layers { name: \"conv1\" }",
      "classes { wnid: \"n01440764\" images: 50 }",
      "epoch: 3 step: 120 format: \"forge.checkpoint.v1\"",
  };
  std::vector<std::string> seeds;
  for (int m = 0; m < kMessages; ++m) {
    std::unique_ptr<google::protobuf::Message> message = NewMessage(m);
    // Field names this file may have wrong are skipped: a seed is a starting point, not a test.
    google::protobuf::TextFormat::Parser parser;
    parser.AllowPartialMessage(true);
    parser.AllowUnknownField(true);
    (void)parser.ParseFromString(texts[m], message.get());
    std::string text, json;
    google::protobuf::TextFormat::PrintToString(*message, &text);
    (void)google::protobuf::util::MessageToJsonString(*message, &json);
    const std::string by_format[] = {message->SerializeAsString(), text, text, json};
    for (int e = 0; e < 4; ++e) seeds.push_back(by_format[e] + static_cast<char>(m) + static_cast<char>(e));
  }
  return seeds;
}
