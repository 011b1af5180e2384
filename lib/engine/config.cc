#include "lib/engine/config.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "lib/io/proto_file.h"

namespace forge {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("config field ", field, ": ", problem));
}

// Sets `message`'s `field` (one with presence: `optional` in train_config.proto) to `value` when
// neither the recipe nor an override set it; an explicit zero stays.
#define FORGE_DEFAULT(message, field, value)                   \
  do {                                                         \
    if (!(message)->has_##field()) (message)->set_##field(value); \
  } while (false)

// Keeps the parser's first complaint instead of letting protobuf log it.
struct OverrideErrors : google::protobuf::io::ErrorCollector {
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string& text) override {
    if (message.empty()) message = text;
  }
  std::string message;
};

// Clears the field that `path` names in `config`, so that an override replaces it (a repeated
// field's elements, a message's fields) instead of merging into it. The path is known to parse.
absl::Status ClearField(const std::vector<std::string>& path, google::protobuf::Message* config) {
  google::protobuf::Message* message = config;
  for (size_t i = 0; i < path.size(); ++i) {
    const google::protobuf::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(path[i]);
    if (field == nullptr) return absl::InvalidArgumentError(absl::StrCat("no field ", path[i]));
    if (i + 1 == path.size()) {
      message->GetReflection()->ClearField(message, field);
      break;
    }
    if (field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(path[i], " is repeated: give the whole field"));
    }
    message = message->GetReflection()->MutableMessage(message, field);
  }
  return absl::OkStatus();
}

// data.auto_augment, data.random_erasing, data.repeated_augmentations.
absl::Status ResolveAugmentation(DataConfig* data) {
  if (data->has_auto_augment()) {
    AutoAugmentConfig* augment = data->mutable_auto_augment();
    if (augment->policy() != "trivial_augment_wide" && augment->policy() != "rand_augment") {
      return Invalid("data.auto_augment.policy",
                     absl::StrCat("'", augment->policy(), "' is neither trivial_augment_wide nor rand_augment"));
    }
    FORGE_DEFAULT(augment, num_ops, 2);
    FORGE_DEFAULT(augment, magnitude, 9);
    FORGE_DEFAULT(augment, num_magnitude_bins, 31);
    if (augment->num_ops() < 1) return Invalid("data.auto_augment.num_ops", "must be at least 1");
    if (augment->num_magnitude_bins() < 2) return Invalid("data.auto_augment.num_magnitude_bins", "must be at least 2");
    if (augment->magnitude() < 0 || augment->magnitude() >= augment->num_magnitude_bins()) {
      return Invalid("data.auto_augment.magnitude", "must be in [0, num_magnitude_bins)");
    }
  }
  if (data->has_random_erasing()) {
    RandomErasingConfig* erasing = data->mutable_random_erasing();
    FORGE_DEFAULT(erasing, min_scale, 0.02);
    FORGE_DEFAULT(erasing, max_scale, 0.33);
    FORGE_DEFAULT(erasing, min_ratio, 0.3);
    FORGE_DEFAULT(erasing, max_ratio, 3.3);
    if (!(erasing->probability() >= 0 && erasing->probability() <= 1)) {
      return Invalid("data.random_erasing.probability", "must be in [0, 1]");
    }
    if (!(erasing->min_scale() > 0 && erasing->min_scale() <= erasing->max_scale() && erasing->max_scale() <= 1)) {
      return Invalid("data.random_erasing", "needs 0 < min_scale <= max_scale <= 1");
    }
    if (!(erasing->min_ratio() > 0 && erasing->min_ratio() <= erasing->max_ratio())) {
      return Invalid("data.random_erasing", "needs 0 < min_ratio <= max_ratio");
    }
  }
  if (data->repeated_augmentations() < 0) return Invalid("data.repeated_augmentations", "must be >= 0");
  return absl::OkStatus();
}

absl::Status ResolveProgressiveResizing(DataConfig* data) {
  if (!data->has_progressive_resizing()) return absl::OkStatus();
  ProgressiveResizingConfig* resizing = data->mutable_progressive_resizing();
  FORGE_DEFAULT(resizing, size_step, 32);
  const int step = resizing->size_step();
  if (step < 1) return Invalid("data.progressive_resizing.size_step", "must be at least 1");
  if (resizing->start_size() <= 0 || resizing->start_size() % step != 0) {
    return Invalid("data.progressive_resizing.start_size", absl::StrCat("must be a positive multiple of ", step));
  }
  if (resizing->end_size() < resizing->start_size() || resizing->end_size() % step != 0) {
    return Invalid("data.progressive_resizing.end_size",
                   absl::StrCat("must be a multiple of ", step, " no smaller than start_size"));
  }
  if (resizing->start_epoch() < 1 || resizing->end_epoch() <= resizing->start_epoch()) {
    return Invalid("data.progressive_resizing", "needs 1 <= start_epoch < end_epoch");
  }
  for (const SizeBatch& size_batch : resizing->batch_sizes()) {
    if (size_batch.size() <= 0 || size_batch.batch_size() <= 0) {
      return Invalid("data.progressive_resizing.batch_sizes", "sizes and batch sizes must be positive");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyOverrides(const std::vector<std::string>& overrides, TrainConfig* config) {
  for (const std::string& override : overrides) {
    std::vector<std::string> parts = absl::StrSplit(override, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("override '", override, "' is not field.path=value"));
    }
    // "a.b.c=v" becomes the text format "a { b { c: v } }", merged into the config.
    std::vector<std::string> path = absl::StrSplit(parts[0], '.');
    std::string text = absl::StrCat(path.back(), ": ", parts[1]);
    for (size_t i = path.size() - 1; i-- > 0;) text = absl::StrCat(path[i], " { ", text, " }");
    OverrideErrors errors;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    TrainConfig delta;
    if (!parser.ParseFromString(text, &delta)) {
      return absl::InvalidArgumentError(
          absl::StrCat("override '", override, "' does not fit TrainConfig: ", errors.message));
    }
    if (absl::Status status = ClearField(path, config); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("override '", override, "': ", status.message()));
    }
    config->MergeFrom(delta);
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainConfig> ResolveConfig(TrainConfig config) {
  FORGE_DEFAULT(config.mutable_model(), name, "resnet50");
  DataConfig* data = config.mutable_data();
  if (data->batch_size() <= 0) return Invalid("data.batch_size", "must be positive");
  FORGE_DEFAULT(data, image_size, 224);
  FORGE_DEFAULT(data, min_scale, 0.08);
  FORGE_DEFAULT(data, eval_size, 224);
  FORGE_DEFAULT(data, eval_crop_ratio, 0.875);
  FORGE_DEFAULT(data, prefetch_batches, 4);
  if (!data->has_flip()) data->set_flip(true);
  if (config.epochs() <= 0) return Invalid("epochs", "must be positive");
  if (data->image_size() <= 0) return Invalid("data.image_size", "must be positive");
  if (data->eval_size() <= 0) return Invalid("data.eval_size", "must be positive");
  if (data->prefetch_batches() < 1) return Invalid("data.prefetch_batches", "must be at least 1");
  if (!(data->min_scale() > 0 && data->min_scale() <= 1)) return Invalid("data.min_scale", "must be in (0, 1]");
  if (!(data->eval_crop_ratio() > 0 && data->eval_crop_ratio() <= 1)) {
    return Invalid("data.eval_crop_ratio", "must be in (0, 1]");
  }

  OptimizerConfig* optimizer = config.mutable_optimizer();
  switch (optimizer->kind_case()) {
    case OptimizerConfig::kSgd:
      FORGE_DEFAULT(optimizer->mutable_sgd(), momentum, 0.9);
      break;
    case OptimizerConfig::kAdamw: {
      AdamWConfig* adamw = optimizer->mutable_adamw();
      FORGE_DEFAULT(adamw, beta1, 0.9);
      FORGE_DEFAULT(adamw, beta2, 0.999);
      FORGE_DEFAULT(adamw, eps, 1e-8);
      break;
    }
    case OptimizerConfig::KIND_NOT_SET:
      return Invalid("optimizer", "choose sgd { ... } or adamw { ... }");
  }
  if (optimizer->weight_decay() < 0) return Invalid("optimizer.weight_decay", "must be >= 0");

  ScheduleConfig* schedule = config.mutable_schedule();
  FORGE_DEFAULT(schedule, base_lr, 0.1);
  if (schedule->peak_lr() < 0) return Invalid("schedule.peak_lr", "must be >= 0 (0: linear scaling rule)");
  if (schedule->peak_lr() == 0 && !(schedule->base_lr() > 0)) {
    return Invalid("schedule.base_lr", "must be positive when peak_lr is 0 (the linear scaling rule)");
  }
  switch (schedule->kind_case()) {
    case ScheduleConfig::kOneCycle: {
      OneCycleConfig* one_cycle = schedule->mutable_one_cycle();
      FORGE_DEFAULT(one_cycle, pct_start, 0.25);
      FORGE_DEFAULT(one_cycle, div_factor, 25.0);
      FORGE_DEFAULT(one_cycle, final_div_factor, 1e4);
      FORGE_DEFAULT(one_cycle, cycle_momentum, true);
      FORGE_DEFAULT(one_cycle, base_momentum, 0.85);
      FORGE_DEFAULT(one_cycle, max_momentum, 0.95);
      if (!(one_cycle->pct_start() > 0 && one_cycle->pct_start() < 1)) {
        return Invalid("schedule.one_cycle.pct_start", "must be in (0, 1)");
      }
      break;
    }
    case ScheduleConfig::kCosine:
    case ScheduleConfig::kStep:
    case ScheduleConfig::kMultistep:
    case ScheduleConfig::kLinear:
    case ScheduleConfig::kConstant:
      break;
    case ScheduleConfig::KIND_NOT_SET:
      return Invalid("schedule", "choose one_cycle, cosine, step, multistep, linear or constant");
  }
  if (schedule->has_step()) FORGE_DEFAULT(schedule->mutable_step(), gamma, 0.1);
  if (schedule->has_multistep()) FORGE_DEFAULT(schedule->mutable_multistep(), gamma, 0.1);

  if (config.label_smoothing() < 0 || config.label_smoothing() >= 1) {
    return Invalid("label_smoothing", "must be in [0, 1)");
  }
  if (config.grad_clip_norm() < 0) return Invalid("grad_clip_norm", "must be >= 0");
  FORGE_DEFAULT(&config, grad_accumulation, 1);
  if (config.grad_accumulation() < 1) return Invalid("grad_accumulation", "must be >= 1");
  FORGE_DEFAULT(&config, precision, "fp32");
  if (config.precision() != "fp32" && config.precision() != "fp16" && config.precision() != "bf16") {
    return Invalid("precision", absl::StrCat("'", config.precision(), "' is not fp32, fp16 or bf16"));
  }
  CheckpointConfig* checkpoint = config.mutable_checkpoint();
  FORGE_DEFAULT(checkpoint, every_minutes, 2.0);
  if (checkpoint->every_epochs() < 0) return Invalid("checkpoint.every_epochs", "must be >= 0");
  if (checkpoint->keep() < 0) return Invalid("checkpoint.keep", "must be >= 0 (0: keep all)");
  if (checkpoint->every_steps() < 0) return Invalid("checkpoint.every_steps", "must be >= 0");
  FORGE_DEFAULT(&config, log_every_steps, 10);
  if (config.log_every_steps() < 1) return Invalid("log_every_steps", "must be at least 1");
  FORGE_DEFAULT(&config, eval_every_epochs, 1);
  if (config.eval_every_epochs() < 1) return Invalid("eval_every_epochs", "must be at least 1");
  FORGE_DEFAULT(&config, name, config.model().name());
  if (absl::Status status = ResolveAugmentation(data); !status.ok()) return status;
  if (absl::Status status = ResolveProgressiveResizing(data); !status.ok()) return status;
  const EmaConfig& ema = config.ema();
  if (config.has_ema() && !(ema.decay() > 0 && ema.decay() < 1)) return Invalid("ema.decay", "must be in (0, 1)");
  if (ema.has_every_steps() && ema.every_steps() < 1) return Invalid("ema.every_steps", "must be at least 1");
  if (ema.copy_epochs() < 0) return Invalid("ema.copy_epochs", "must be >= 0");
  if (!config.best_phase().empty() && config.best_phase() != "val" && config.best_phase() != "val_ema") {
    return Invalid("best_phase", absl::StrCat("'", config.best_phase(), "' is neither val nor val_ema"));
  }
  if (config.best_phase() == "val_ema" && !config.has_ema()) return Invalid("best_phase", "val_ema needs ema");
  return config;
}

namespace {

// Fields that change how a run is carried out but not what it computes.
void CopyRunSettings(const TrainConfig& from, TrainConfig* to) {
  to->mutable_data()->set_loader_threads(from.data().loader_threads());
  to->mutable_data()->set_prefetch_batches(from.data().prefetch_batches());
  *to->mutable_checkpoint() = from.checkpoint();
  to->set_log_every_steps(from.log_every_steps());
}

}  // namespace

absl::Status CheckSameRun(const TrainConfig& saved, const TrainConfig& given) {
  TrainConfig original = saved;
  if (!saved.schedule_changes().empty()) original.set_epochs(saved.schedule_changes(0).epochs_before());
  original.clear_schedule_changes();
  TrainConfig other = given;
  other.clear_schedule_changes();
  CopyRunSettings(other, &original);
  // Fields newer than the run: it goes on as it ran (a OneCycle run saved before momentum
  // cycling existed keeps its fixed momentum), whatever the command's config says of them.
  if (original.schedule().has_one_cycle() && !original.schedule().one_cycle().has_cycle_momentum() &&
      other.schedule().has_one_cycle()) {
    OneCycleConfig* one_cycle = other.mutable_schedule()->mutable_one_cycle();
    one_cycle->clear_cycle_momentum();
    one_cycle->clear_base_momentum();
    one_cycle->clear_max_momentum();
  }
  google::protobuf::util::MessageDifferencer differencer;
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(original, other)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the config differs from the run's own (", absl::StripTrailingAsciiWhitespace(report),
      "; the run's value comes first). A run's config cannot change: pass --resume without --config "
      "to continue it as it is (--extend_epochs to train it longer), or choose another --run_dir"));
}

TrainConfig ContinueRunWith(const TrainConfig& saved, const TrainConfig& given) {
  TrainConfig config = saved;
  CopyRunSettings(given, &config);
  return config;
}

std::vector<std::string> SplitOverrides(absl::string_view set) {
  return absl::StrSplit(set, ';', absl::SkipWhitespace());
}

absl::StatusOr<TrainConfig> LoadConfig(const std::string& path, const std::vector<std::string>& overrides,
                                       const TrainConfig& base) {
  TrainConfig config = base;
  if (!path.empty()) {
    TrainConfig recipe;
    if (absl::Status status = ReadProtoFile(path, &recipe); !status.ok()) return status;
    config.MergeFrom(recipe);
  }
  if (absl::Status status = ApplyOverrides(overrides, &config); !status.ok()) return status;
  absl::StatusOr<TrainConfig> resolved = ResolveConfig(std::move(config));
  if (!resolved.ok() && !path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", resolved.status().message()));
  }
  return resolved;
}

}  // namespace forge
