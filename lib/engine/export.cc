#include "lib/engine/export.h"

#include <cmath>
#include <map>
#include <utility>

#include <google/protobuf/text_format.h>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/engine/state_dict.h"

namespace forge {
namespace {

using Json = nlohmann::json;

// The evaluation transform's resize, as EvalTransformOptions computes it (lib/data/augment.h).
int EvalResize(const DataConfig& data) {
  return static_cast<int>(std::floor(data.eval_size() / data.eval_crop_ratio()));
}

// The validation top-1 of the weights at the checkpoint's epoch, if they were validated.
std::optional<double> ValidationTop1(const TrainState& state, bool ema) {
  const std::string phase = ema ? "val_ema" : "val";
  for (const EpochMetrics& metrics : state.log().epochs()) {
    if (metrics.epoch() == state.epoch() && metrics.phase() == phase) return metrics.top1();
  }
  return std::nullopt;
}

absl::Status Invalid(const std::string& source, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": metadata ", problem));
}

// Metadata `key` as a JSON list whose every item satisfies `is_item`.
template <typename IsItem>
absl::StatusOr<Json> JsonList(const std::map<std::string, std::string>& metadata, const std::string& key,
                              const std::string& source, IsItem is_item, const char* item_kind) {
  const auto found = metadata.find(key);
  if (found == metadata.end()) return Invalid(source, absl::StrCat("has no \"", key, "\""));
  Json list = Json::parse(found->second, nullptr, /*allow_exceptions=*/false);
  bool ok = list.is_array();
  for (const Json& item : list) ok = ok && is_item(item);
  if (!ok) return Invalid(source, absl::StrCat("\"", key, "\" is not a JSON list of ", item_kind));
  return list;
}

absl::StatusOr<int64_t> Integer(const std::map<std::string, std::string>& metadata, const std::string& key,
                                const std::string& source) {
  const auto found = metadata.find(key);
  int64_t value = 0;
  if (found == metadata.end() || !absl::SimpleAtoi(found->second, &value)) {
    return Invalid(source, absl::StrCat("has no integer \"", key, "\""));
  }
  return value;
}

absl::StatusOr<bool> Boolean(const std::map<std::string, std::string>& metadata, const std::string& key,
                             const std::string& source) {
  const auto found = metadata.find(key);
  if (found != metadata.end() && (found->second == "true" || found->second == "false")) return found->second == "true";
  return Invalid(source, absl::StrCat("has no \"", key, "\" of \"true\" or \"false\""));
}

}  // namespace

absl::StatusOr<Safetensors> ExportModel(const ResNetImpl& model, const TrainState& state, bool ema,
                                        const std::vector<std::string>& class_names) {
  const ResNetOptions& options = model.options();
  if (state.classes_size() > 0 && state.classes_size() != options.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat("the run has ", state.classes_size(), " classes, the model ",
                                                   options.num_classes));
  }
  if (!class_names.empty() && static_cast<int>(class_names.size()) != state.classes_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(class_names.size(), " class names for the run's ", state.classes_size(), " classes"));
  }
  absl::StatusOr<std::vector<SafetensorsTensor>> tensors = StateDictTensors(model);
  if (!tensors.ok()) return tensors.status();
  Safetensors file;
  file.tensors = std::move(*tensors);
  std::map<std::string, std::string>& metadata = file.metadata;
  metadata["format"] = "pt";
  metadata["forge_format"] = kExportFormat;
  metadata["architecture"] = ResNetName(options);
  metadata["num_classes"] = absl::StrCat(options.num_classes);
  metadata["classes"] = Json(std::vector<std::string>(state.classes().begin(), state.classes().end())).dump();
  if (!class_names.empty()) metadata["class_names"] = Json(class_names).dump();
  metadata["mean"] = Json(std::vector<double>(state.stats().mean().begin(), state.stats().mean().end())).dump();
  metadata["std"] = Json(std::vector<double>(state.stats().std().begin(), state.stats().std().end())).dump();
  const DataConfig& data = state.config().data();
  if (data.eval_size() > 0 && data.eval_crop_ratio() > 0) {
    metadata["eval_resize"] = absl::StrCat(EvalResize(data));
    metadata["eval_crop"] = absl::StrCat(data.eval_size());
  }
  metadata["epoch"] = absl::StrCat(state.epoch());
  metadata["step"] = absl::StrCat(state.step());
  if (std::optional<double> top1 = ValidationTop1(state, ema)) metadata["val_top1"] = absl::StrCat(*top1);
  metadata["weights"] = ema ? "ema" : "model";
  metadata["blurpool"] = options.blurpool ? "true" : "false";
  if (options.blurpool) {
    metadata["note"] =
        "trained with BlurPool (FFCV's: a [1 2 1] blur before each strided convolution); torchvision's ResNet has "
        "none, so it loads these weights but its outputs differ from this model's";
  }
  std::string config;
  google::protobuf::TextFormat::PrintToString(state.config(), &config);
  metadata["config"] = config;
  return file;
}

absl::StatusOr<std::optional<ExportedModel>> ReadExportMetadata(const Safetensors& file, const std::string& source) {
  const std::map<std::string, std::string>& metadata = file.metadata;
  const auto format = metadata.find("forge_format");
  if (format == metadata.end()) return std::nullopt;
  if (format->second != kExportFormat) {
    return Invalid(source, absl::StrCat("\"forge_format\" is \"", format->second, "\"; this build reads \"",
                                        kExportFormat, "\""));
  }
  ExportedModel exported;
  const auto architecture = metadata.find("architecture");
  if (architecture == metadata.end()) return Invalid(source, "has no \"architecture\"");
  exported.architecture = architecture->second;
  absl::StatusOr<int64_t> num_classes = Integer(metadata, "num_classes", source);
  if (!num_classes.ok()) return num_classes.status();
  exported.num_classes = *num_classes;
  absl::StatusOr<bool> blurpool = Boolean(metadata, "blurpool", source);
  if (!blurpool.ok()) return blurpool.status();
  exported.blurpool = *blurpool;
  const auto weights = metadata.find("weights");
  if (weights == metadata.end() || (weights->second != "model" && weights->second != "ema")) {
    return Invalid(source, "has no \"weights\" of \"model\" or \"ema\"");
  }
  exported.ema = weights->second == "ema";

  const auto is_string = [](const Json& item) { return item.is_string(); };
  const auto is_number = [](const Json& item) { return item.is_number(); };
  absl::StatusOr<Json> classes = JsonList(metadata, "classes", source, is_string, "strings");
  if (!classes.ok()) return classes.status();
  for (const Json& wnid : *classes) exported.state.add_classes(wnid.get<std::string>());
  if (exported.state.classes_size() > 0 && exported.state.classes_size() != exported.num_classes) {
    return Invalid(source, absl::StrCat("lists ", exported.state.classes_size(), " classes for \"num_classes\" ",
                                        exported.num_classes));
  }
  if (metadata.count("class_names") > 0) {
    absl::StatusOr<Json> names = JsonList(metadata, "class_names", source, is_string, "strings");
    if (!names.ok()) return names.status();
    if (names->size() != static_cast<size_t>(exported.state.classes_size())) {
      return Invalid(source, absl::StrCat("has ", names->size(), " \"class_names\" for ",
                                          exported.state.classes_size(), " classes"));
    }
    for (const Json& name : *names) exported.class_names.push_back(name.get<std::string>());
  }
  for (const char* key : {"mean", "std"}) {
    absl::StatusOr<Json> values = JsonList(metadata, key, source, is_number, "numbers");
    if (!values.ok()) return values.status();
    google::protobuf::RepeatedField<double>* into = std::string(key) == "mean"
                                                        ? exported.state.mutable_stats()->mutable_mean()
                                                        : exported.state.mutable_stats()->mutable_std();
    for (const Json& value : *values) into->Add(value.get<double>());
  }
  absl::StatusOr<int64_t> epoch = Integer(metadata, "epoch", source);
  if (!epoch.ok()) return epoch.status();
  exported.state.set_epoch(static_cast<int32_t>(*epoch));
  absl::StatusOr<int64_t> step = Integer(metadata, "step", source);
  if (!step.ok()) return step.status();
  exported.state.set_step(*step);
  const auto config = metadata.find("config");
  if (config == metadata.end() ||
      !google::protobuf::TextFormat::ParseFromString(config->second, exported.state.mutable_config())) {
    return Invalid(source, "has no \"config\" that parses as a TrainConfig");
  }
  return exported;
}

}  // namespace forge
