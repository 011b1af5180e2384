#include "tools/report/train_log_tables.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/report/csv.h"
#include "lib/report/format.h"
#include "lib/report/markdown.h"

namespace forge {
namespace {

int PhaseRank(const std::string& phase) {
  if (phase == "train") return 0;
  if (phase == "val") return 1;
  if (phase == "val_ema") return 2;
  return 3;
}

// The rows of one epoch by phase.
struct EpochRows {
  int epoch = 0;
  const EpochMetrics* train = nullptr;
  const EpochMetrics* val = nullptr;
  const EpochMetrics* ema = nullptr;
  double seconds = 0;
};

std::vector<EpochRows> ByEpoch(const TrainLog& normalized) {
  std::vector<EpochRows> epochs;
  for (const EpochMetrics& row : normalized.epochs()) {
    if (epochs.empty() || epochs.back().epoch != row.epoch()) epochs.emplace_back().epoch = row.epoch();
    EpochRows& rows = epochs.back();
    if (row.phase() == "train") rows.train = &row;
    if (row.phase() == "val") rows.val = &row;
    if (row.phase() == "val_ema") rows.ema = &row;
    if (std::isfinite(row.seconds())) rows.seconds += row.seconds();
  }
  return epochs;
}

std::string Percent(double value) { return FormatFixed(value, 2); }

// Keeps `candidate` in `best` when its `metric` is higher (NaN never wins; earlier epochs win
// ties because rows come in epoch order).
void KeepBest(std::optional<EpochMetrics>* best, const EpochMetrics& candidate,
              double (EpochMetrics::*metric)() const) {
  const double value = (candidate.*metric)();
  if (std::isnan(value)) return;
  if (!best->has_value() || value > ((**best).*metric)()) *best = candidate;
}

std::string ScalarField(const google::protobuf::Message& message,
                        const google::protobuf::FieldDescriptor* field) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  using google::protobuf::FieldDescriptor;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(reflection->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return FormatG(reflection->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return FormatG(reflection->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(message, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return reflection->GetEnum(message, field)->name();
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(message, field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "";
  }
  return "";
}

}  // namespace

absl::Status ValidateTrainLog(const TrainLog& log, const std::string& source) {
  for (int i = 0; i < log.epochs_size(); ++i) {
    const EpochMetrics& row = log.epochs(i);
    if (row.epoch() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": epochs[", i, "] has epoch ",
                                                     row.epoch(), "; epochs are numbered from 1"));
    }
    if (row.phase().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": epochs[", i, "] (epoch ",
                                                     row.epoch(), ") has no phase"));
    }
  }
  return absl::OkStatus();
}

TrainLog NormalizeTrainLog(const TrainLog& log) {
  TrainLog out = log;
  out.clear_epochs();
  out.clear_steps();
  std::map<std::tuple<int, int, std::string>, const EpochMetrics*> rows;
  for (const EpochMetrics& row : log.epochs()) {
    rows[{row.epoch(), PhaseRank(row.phase()), row.phase()}] = &row;  // the last one wins
  }
  for (const auto& [key, row] : rows) *out.add_epochs() = *row;
  std::map<int64_t, const StepPoint*> steps;
  for (const StepPoint& step : log.steps()) steps[step.step()] = &step;
  for (const auto& [step, point] : steps) *out.add_steps() = *point;
  return out;
}

std::string TrainLogCsv(const TrainLog& normalized) {
  CsvWriter csv;
  csv.AddRow({"epoch", "phase", "loss", "top1", "top5", "lr", "imgs_per_sec"});
  for (const EpochMetrics& row : normalized.epochs()) {
    if (row.phase() != "train" && row.phase() != "val") continue;
    csv.AddInt(row.epoch());
    csv.AddField(row.phase());
    for (double value : {row.loss(), row.top1(), row.top5(), row.lr(), row.images_per_sec()}) {
      csv.AddField(FormatG(value));
    }
    csv.EndRow();
  }
  return csv.Release();
}

std::string TrainLogFullCsv(const TrainLog& normalized) {
  const google::protobuf::Descriptor* descriptor = EpochMetrics::descriptor();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated() ||
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    fields.push_back(field);
  }
  CsvWriter csv;
  for (const auto* field : fields) csv.AddField(field->name());
  csv.EndRow();
  for (const EpochMetrics& row : normalized.epochs()) {
    for (const auto* field : fields) csv.AddField(ScalarField(row, field));
    csv.EndRow();
  }
  return csv.Release();
}

TrainSummary SummarizeTrainLog(const TrainLog& normalized) {
  TrainSummary summary;
  double row_seconds = 0, rate_sum = 0;
  for (const EpochRows& rows : ByEpoch(normalized)) {
    ++summary.epochs;
    summary.last_epoch = rows.epoch;
    row_seconds += rows.seconds;
    if (rows.val != nullptr) {
      KeepBest(&summary.best_val_top1, *rows.val, &EpochMetrics::top1);
      KeepBest(&summary.best_val_top5, *rows.val, &EpochMetrics::top5);
    }
    if (rows.ema != nullptr) KeepBest(&summary.best_ema_top1, *rows.ema, &EpochMetrics::top1);
    if (rows.train != nullptr && rows.train->images_per_sec() > 0 &&
        std::isfinite(rows.train->images_per_sec())) {
      rate_sum += rows.train->images_per_sec();
      ++summary.train_rate_epochs;
      summary.last_train_images_per_sec = rows.train->images_per_sec();
    }
  }
  const std::vector<EpochRows> epochs = ByEpoch(normalized);
  if (!epochs.empty()) {
    if (epochs.back().val != nullptr) summary.final_val = *epochs.back().val;
    if (epochs.back().ema != nullptr) summary.final_ema = *epochs.back().ema;
  }
  summary.total_seconds = normalized.total_seconds() > 0 ? normalized.total_seconds() : row_seconds;
  if (summary.train_rate_epochs > 0) summary.mean_train_images_per_sec = rate_sum / summary.train_rate_epochs;
  return summary;
}

std::string HeadlineMarkdown(const TrainLog& normalized, const TrainSummary& summary) {
  std::vector<std::string> parts;
  if (summary.best_val_top1) {
    parts.push_back(absl::StrCat("best val top-1 **", Percent(summary.best_val_top1->top1()),
                                 "%** at epoch ", summary.best_val_top1->epoch(), " (top-5 ",
                                 Percent(summary.best_val_top1->top5()), "%)"));
  }
  if (summary.best_val_top5) {
    parts.push_back(absl::StrCat("best val top-5 ", Percent(summary.best_val_top5->top5()),
                                 "% at epoch ", summary.best_val_top5->epoch()));
  }
  if (summary.final_val) {
    parts.push_back(absl::StrCat("final (epoch ", summary.final_val->epoch(), ") top-1 ",
                                 Percent(summary.final_val->top1()), "%, top-5 ",
                                 Percent(summary.final_val->top5()), "%"));
  }
  if (summary.best_ema_top1) {
    parts.push_back(absl::StrCat("best EMA top-1 ", Percent(summary.best_ema_top1->top1()),
                                 "% at epoch ", summary.best_ema_top1->epoch()));
  }
  if (summary.epochs == 0) {
    parts.push_back("no epoch logged yet");
  } else {
    std::string epochs = absl::StrCat(summary.epochs, summary.epochs == 1 ? " epoch" : " epochs");
    if (normalized.total_epochs() > 0) absl::StrAppend(&epochs, " of ", normalized.total_epochs());
    parts.push_back(absl::StrCat(epochs, " in ", FormatDuration(summary.total_seconds)));
  }
  std::string headline = absl::StrJoin(parts, "; ");
  if (!headline.empty()) headline[0] = static_cast<char>(std::toupper(headline[0]));
  return headline + ".";
}

std::string SummaryMarkdown(const TrainLog& normalized, const TrainSummary& summary) {
  std::string out;
  auto bullet = [&](absl::string_view name, absl::string_view text) {
    absl::StrAppend(&out, "- **", name, "**: ", text, "\n");
  };
  std::vector<std::string> run;
  if (!normalized.run_name().empty()) run.push_back(EscapeMarkdown(normalized.run_name()));
  if (!normalized.model().empty()) run.push_back(EscapeMarkdown(normalized.model()));
  if (normalized.batch_size() > 0) run.push_back(absl::StrCat("global batch ", normalized.batch_size()));
  if (!normalized.device().empty()) run.push_back(EscapeMarkdown(normalized.device()));
  if (!run.empty()) bullet("Run", absl::StrJoin(run, ", "));
  bullet("Epochs", normalized.total_epochs() > 0
                       ? absl::StrCat(summary.epochs, " logged (last ", summary.last_epoch, ") of ",
                                      normalized.total_epochs())
                       : absl::StrCat(summary.epochs, " logged (last ", summary.last_epoch, ")"));
  if (summary.best_val_top1) {
    bullet("Best val top-1", absl::StrCat(Percent(summary.best_val_top1->top1()), "% at epoch ",
                                          summary.best_val_top1->epoch(), " (top-5 ",
                                          Percent(summary.best_val_top1->top5()), "%, loss ",
                                          FormatFixed(summary.best_val_top1->loss(), 4), ")"));
  }
  if (summary.best_val_top5) {
    bullet("Best val top-5", absl::StrCat(Percent(summary.best_val_top5->top5()), "% at epoch ",
                                          summary.best_val_top5->epoch()));
  }
  if (summary.final_val) {
    bullet(absl::StrCat("Final (epoch ", summary.final_val->epoch(), ")"),
           absl::StrCat("val top-1 ", Percent(summary.final_val->top1()), "%, top-5 ",
                        Percent(summary.final_val->top5()), "%, loss ",
                        FormatFixed(summary.final_val->loss(), 4)));
  }
  if (summary.best_ema_top1) {
    bullet("Best EMA val top-1", absl::StrCat(Percent(summary.best_ema_top1->top1()), "% at epoch ",
                                              summary.best_ema_top1->epoch(), " (top-5 ",
                                              Percent(summary.best_ema_top1->top5()), "%)"));
  }
  if (!summary.best_val_top1) bullet("Validation", "no val phase logged");
  bullet("Total time", absl::StrCat(FormatDuration(summary.total_seconds), " (",
                                    FormatFixed(summary.total_seconds, 1), " s)"));
  if (summary.train_rate_epochs > 0) {
    bullet("Train throughput",
           absl::StrCat(FormatFixed(summary.mean_train_images_per_sec, 1), " images/s, mean over ",
                        summary.train_rate_epochs, summary.train_rate_epochs == 1 ? " epoch" : " epochs",
                        " (last epoch ", FormatFixed(summary.last_train_images_per_sec, 1), ")"));
  }
  return out;
}

std::string EpochTableMarkdown(const TrainLog& normalized, const TrainSummary& summary) {
  const std::vector<EpochRows> epochs = ByEpoch(normalized);
  bool has_ema = false;
  for (const EpochRows& rows : epochs) has_ema |= rows.ema != nullptr;
  using Column = MarkdownTable::Column;
  std::vector<Column> columns = {{"epoch", MarkdownTable::kRight},
                                 {"train loss", MarkdownTable::kRight},
                                 {"train top-1", MarkdownTable::kRight},
                                 {"train top-5", MarkdownTable::kRight},
                                 {"val loss", MarkdownTable::kRight},
                                 {"val top-1", MarkdownTable::kRight},
                                 {"val top-5", MarkdownTable::kRight}};
  if (has_ema) {
    columns.push_back({"EMA loss", MarkdownTable::kRight});
    columns.push_back({"EMA top-1", MarkdownTable::kRight});
    columns.push_back({"EMA top-5", MarkdownTable::kRight});
  }
  columns.push_back({"lr", MarkdownTable::kRight});
  columns.push_back({"img/s", MarkdownTable::kRight});
  columns.push_back({"time", MarkdownTable::kRight});
  MarkdownTable table(std::move(columns));
  const int best_epoch = summary.best_val_top1 ? summary.best_val_top1->epoch() : 0;
  for (const EpochRows& rows : epochs) {
    std::vector<std::string> cells = {absl::StrCat(rows.epoch)};
    auto add_phase = [&](const EpochMetrics* row, bool bold_top1) {
      if (row == nullptr) {
        cells.insert(cells.end(), {"-", "-", "-"});
        return;
      }
      cells.push_back(FormatFixed(row->loss(), 4));
      cells.push_back(bold_top1 ? absl::StrCat("**", Percent(row->top1()), "**") : Percent(row->top1()));
      cells.push_back(Percent(row->top5()));
    };
    add_phase(rows.train, false);
    add_phase(rows.val, rows.epoch == best_epoch);
    if (has_ema) add_phase(rows.ema, false);
    cells.push_back(rows.train ? FormatCompact(rows.train->lr(), 4) : "-");
    cells.push_back(rows.train && rows.train->images_per_sec() > 0
                        ? FormatFixed(rows.train->images_per_sec(), 1)
                        : "-");
    cells.push_back(FormatDuration(rows.seconds));
    table.AddRow(std::move(cells));
  }
  return table.Render();
}

}  // namespace forge
