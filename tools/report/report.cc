#include "tools/report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "lib/data/synset_mapping.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/io/temporaries.h"
#include "lib/report/classification.h"
#include "lib/report/format.h"
#include "lib/report/markdown.h"
#include "lib/report/plot.h"
#include "proto/eval.pb.h"
#include "proto/lr_curve.pb.h"
#include "proto/model_summary.pb.h"
#include "proto/train_log.pb.h"
#include "tools/report/class_names.h"
#include "tools/report/curves.h"
#include "tools/report/eval_tables.h"
#include "tools/report/model_summary_text.h"
#include "tools/report/train_log_tables.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr char kTrainLog[] = "train_log.pb";
constexpr char kConfig[] = "config.txtpb";
constexpr char kModelSummary[] = "model_summary.txtpb";

constexpr char kLogsMd[] = "logs.md";
constexpr char kClassificationReport[] = "classification_report.txt";
constexpr char kConfusionCsv[] = "confusion_matrix.csv";
constexpr char kModelSummaryTxt[] = "model_summary.txt";
constexpr char kLrRangePng[] = "lr_range_test.png";

// Every file report may write, in writing order; logs.md comes last because it links the rest.
constexpr const char* kOutputs[] = {"train_log.csv",     "train_log_full.csv", "loss.png",
                                    "accuracy.png",      "lr.png",             "throughput.png",
                                    kLrRangePng,         kClassificationReport, kConfusionCsv,
                                    kModelSummaryTxt,    kLogsMd};

// The figures of the training log: file, alt text.
constexpr std::pair<const char*, const char*> kCurves[] = {{"loss.png", "Loss"},
                                                           {"accuracy.png", "Accuracy"},
                                                           {"lr.png", "Learning rate"},
                                                           {"throughput.png", "Throughput"}};

struct Inputs {
  TrainLog log;  // normalized
  std::optional<std::string> config;
  std::optional<ModelSummary> model;
  std::optional<EvalResult> eval;
  std::optional<LrCurve> lr_curve;
  std::map<std::string, std::string> names;  // synset mapping
};

bool IsFile(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

absl::StatusOr<Inputs> ReadInputs(const ReportOptions& options, std::vector<std::string>* notes) {
  Inputs inputs;
  std::error_code error;
  if (!fs::is_directory(options.run_dir, error)) {
    return absl::NotFoundError(absl::StrCat("run directory ", options.run_dir, " does not exist"));
  }
  const fs::path run_dir(options.run_dir);
  const std::string log_path = (run_dir / kTrainLog).string();
  if (!IsFile(log_path)) {
    return absl::NotFoundError(absl::StrCat("no ", kTrainLog, " in run directory ", options.run_dir,
                                            " (train writes it after every epoch)"));
  }
  TrainLog log;
  if (absl::Status status = ReadProtoFile(log_path, &log); !status.ok()) return status;
  if (absl::Status status = ValidateTrainLog(log, log_path); !status.ok()) return status;
  inputs.log = NormalizeTrainLog(log);
  if (inputs.log.epochs_size() < log.epochs_size()) {
    notes->push_back(absl::StrCat("the train log holds ", log.epochs_size() - inputs.log.epochs_size(),
                                  " repeated (epoch, phase) row(s); the last of each is used"));
  }

  const fs::path config_path = run_dir / kConfig;
  if (IsFile(config_path)) {
    absl::StatusOr<std::string> config = ReadFile(config_path.string());
    if (!config.ok()) return config.status();
    inputs.config = std::move(*config);
  } else {
    notes->push_back(absl::StrCat("no ", kConfig, " in the run directory: config left out of logs.md"));
  }

  const fs::path model_path = run_dir / kModelSummary;
  if (IsFile(model_path)) {
    ModelSummary model;
    if (absl::Status status = ReadProtoFile(model_path.string(), &model); !status.ok()) return status;
    inputs.model = std::move(model);
  } else {
    notes->push_back(absl::StrCat("no ", kModelSummary, " in the run directory: ", kModelSummaryTxt,
                                  " left out"));
  }

  if (!options.eval.empty()) {
    EvalResult eval;
    if (absl::Status status = ReadProtoFile(options.eval, &eval); !status.ok()) return status;
    if (absl::Status status = ValidateEval(eval, options.eval); !status.ok()) return status;
    inputs.eval = std::move(eval);
  } else {
    notes->push_back("no --eval: classification report and confusion matrix left out");
  }

  if (!options.lr_curve.empty()) {
    LrCurve curve;
    if (absl::Status status = ReadProtoFile(options.lr_curve, &curve); !status.ok()) return status;
    if (curve.points_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(options.lr_curve, " has no points"));
    }
    for (int i = 0; i < curve.points_size(); ++i) {
      if (!(curve.points(i).lr() > 0) || !std::isfinite(curve.points(i).lr())) {
        return absl::InvalidArgumentError(absl::StrCat(options.lr_curve, ": points[", i, "] has lr ",
                                                       FormatG(curve.points(i).lr()),
                                                       "; learning rates must be positive"));
      }
    }
    inputs.lr_curve = std::move(curve);
  } else {
    notes->push_back("no --lr_curve: LR range test left out");
  }

  if (!options.synset_mapping.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> names = ReadSynsetMapping(options.synset_mapping);
    if (!names.ok()) return names.status();
    inputs.names = std::move(*names);
    if (!inputs.eval) {
      notes->push_back("--synset_mapping has no effect without --eval");
    } else {
      int known = 0;
      for (const ClassInfo& info : inputs.eval->classes()) known += inputs.names.count(info.wnid());
      if (known < inputs.eval->classes_size()) {
        notes->push_back(absl::StrCat("--synset_mapping names ", known, " of the eval's ",
                                      inputs.eval->classes_size(), " classes; the others keep the eval's names"));
      }
    }
  }
  return inputs;
}

// The directory of `out_dir` relative to the directory of `readme`, "" or ending in "/".
std::string LinkPrefix(const std::string& out_dir, const std::string& readme) {
  std::error_code error;
  fs::path out = fs::absolute(out_dir, error).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  const fs::path base = fs::absolute(readme, error).lexically_normal().parent_path();
  const fs::path relative = out.lexically_relative(base);
  const std::string text = relative.empty() ? out.generic_string() : relative.generic_string();
  return text == "." ? "" : text + "/";
}

struct Rendered {
  std::vector<std::pair<std::string, std::string>> files;  // name, contents; logs.md last
  std::vector<std::string> curves;                         // PNGs of the training log made
  std::string headline;
  std::string epoch_table;
  std::string eval_line;
};

std::string LrRangeMarkdown(const LrCurve& curve, bool plotted) {
  std::string out = "## LR range test\n\n";
  if (curve.suggested_lr() > 0) {
    absl::StrAppend(&out, "- Suggested LR (steepest descent of the smoothed loss): **",
                    FormatCompact(curve.suggested_lr(), 4), "**\n");
  }
  if (curve.min_loss_lr() > 0) {
    absl::StrAppend(&out, "- Lowest smoothed loss at LR ", FormatCompact(curve.min_loss_lr(), 4),
                    "; a tenth of it: ", FormatCompact(curve.min_loss_lr_div10(), 4), "\n");
  }
  if (curve.diverged()) out += "- The test stopped early: the loss diverged.\n";
  const LrFindSettings& s = curve.settings();
  if (s.num_iter() > 0 || s.end_lr() > 0) {
    std::vector<std::string> parts = {
        absl::StrCat("LR ", FormatCompact(s.start_lr()), " to ", FormatCompact(s.end_lr()))};
    if (s.num_iter() > 0) parts.push_back(absl::StrCat(s.num_iter(), " iterations"));
    if (!s.mode().empty()) parts.push_back(EscapeMarkdown(s.mode()));
    if (s.batch_size() > 0) parts.push_back(absl::StrCat("batch ", s.batch_size()));
    if (s.smoothing() > 0) parts.push_back(absl::StrCat("smoothing ", FormatG(s.smoothing())));
    absl::StrAppend(&out, "- Settings: ", absl::StrJoin(parts, ", "), "; ", curve.points_size(),
                    " points recorded\n");
  }
  if (plotted) absl::StrAppend(&out, "\n![LR range test](", kLrRangePng, ")\n");
  return out + "\n";
}

absl::StatusOr<Rendered> Render(const ReportOptions& options, const Inputs& inputs,
                                std::vector<std::string>* notes) {
  Rendered out;
  const TrainLog& log = inputs.log;
  const TrainSummary summary = SummarizeTrainLog(log);
  out.files.emplace_back("train_log.csv", TrainLogCsv(log));
  out.files.emplace_back("train_log_full.csv", TrainLogFullCsv(log));

  const LinePlot plots[] = {LossPlot(log), AccuracyPlot(log), LrPlot(log), ThroughputPlot(log)};
  for (size_t i = 0; i < std::size(kCurves); ++i) {
    if (!plots[i].HasData()) {
      notes->push_back(absl::StrCat("the train log has no data for ", kCurves[i].first, ": left out"));
      continue;
    }
    absl::StatusOr<std::string> png = plots[i].RenderPng(options.plot_width, options.plot_height);
    if (!png.ok()) return png.status();
    out.files.emplace_back(kCurves[i].first, std::move(*png));
    out.curves.push_back(kCurves[i].first);
  }
  bool lr_range_plotted = false;
  if (inputs.lr_curve) {
    LinePlot plot = LrRangePlot(*inputs.lr_curve);
    if (plot.HasData()) {
      absl::StatusOr<std::string> png = plot.RenderPng(options.plot_width, options.plot_height);
      if (!png.ok()) return png.status();
      out.files.emplace_back(kLrRangePng, std::move(*png));
      lr_range_plotted = true;
    } else {
      notes->push_back(absl::StrCat("the LR curve has no finite loss: ", kLrRangePng, " left out"));
    }
  }

  std::string eval_markdown;
  if (inputs.eval) {
    const EvalResult& eval = *inputs.eval;
    eval_markdown = "## Evaluation\n\n";
    out.eval_line = absl::StrCat("Evaluation: top-1 ", FormatFixed(eval.top1(), 2), "%, top-5 ",
                                 FormatFixed(eval.top5(), 2), "% on ", eval.images(), " images");
    absl::StrAppend(&eval_markdown, "- Images: ", eval.images());
    if (eval.images_skipped() > 0) absl::StrAppend(&eval_markdown, " (", eval.images_skipped(), " skipped)");
    absl::StrAppend(&eval_markdown, "; top-1 ", FormatFixed(eval.top1(), 2), "%, top-5 ",
                    FormatFixed(eval.top5(), 2), "%, loss ", FormatFixed(eval.loss(), 4), "\n");
    if (!eval.options().checkpoint().empty()) {
      absl::StrAppend(&eval_markdown, "- Checkpoint: `", eval.options().checkpoint(), "`\n");
    }
    if (eval.confusion_size() == 0) {
      notes->push_back("the eval has no confusion matrix: classification report and confusion matrix left out");
    } else {
      const int n = eval.classes_size();
      const absl::Span<const int64_t> confusion(eval.confusion().data(), eval.confusion_size());
      absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(confusion, n);
      if (!metrics.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(options.eval, ": ", metrics.status().message()));
      }
      const std::vector<std::string> labels = EvalClassLabels(eval, inputs.names);
      out.files.emplace_back(kClassificationReport,
                             FormatClassificationReport(*metrics, labels, options.digits));
      out.files.emplace_back(kConfusionCsv, ConfusionCsv(eval));
      absl::StrAppend(&eval_markdown, "- Accuracy ", FormatFixed(100 * metrics->accuracy, 2),
                      "% over ", n, " classes; macro F1 ", FormatFixed(metrics->macro.f1, 4),
                      ", weighted F1 ", FormatFixed(metrics->weighted.f1, 4), "\n");
      absl::StrAppend(&eval_markdown, "- Per class: [", kClassificationReport, "](", kClassificationReport,
                      "); counts (rows true, columns predicted): [", kConfusionCsv, "](", kConfusionCsv, ")\n");
      if (options.top_confused > 0) {
        const std::vector<ConfusedPair> pairs = MostConfusedPairs(confusion, n, options.top_confused);
        absl::StrAppend(&eval_markdown, "\n### Most-confused pairs\n\n");
        eval_markdown += pairs.empty() ? "No class was mistaken for another.\n"
                                       : MostConfusedMarkdown(pairs, labels);
      }
    }
    eval_markdown += "\n";
  }

  std::string model_markdown;
  if (inputs.model) {
    const ModelSummary& model = *inputs.model;
    out.files.emplace_back(kModelSummaryTxt, ModelSummaryText(model));
    model_markdown = absl::StrCat(
        "## Model\n\n", model.model().empty() ? "The model" : EscapeMarkdown(model.model()));
    if (model.input_shape_size() > 0) {
      absl::StrAppend(&model_markdown, " (input [", absl::StrJoin(model.input_shape(), ", "), "])");
    }
    absl::StrAppend(&model_markdown, ": ", FormatThousands(TotalParameters(model)), " parameters");
    if (model.trainable_parameters() > 0) {
      absl::StrAppend(&model_markdown, " (", FormatThousands(model.trainable_parameters()), " trainable)");
    }
    absl::StrAppend(&model_markdown, "; ", model.layers_size(), " layers in [", kModelSummaryTxt, "](",
                    kModelSummaryTxt, ").\n\n");
  }

  out.headline = HeadlineMarkdown(log, summary);
  out.epoch_table = EpochTableMarkdown(log, summary);
  std::string md = absl::StrCat(
      "# Training report", log.run_name().empty() ? "" : absl::StrCat(": ", EscapeMarkdown(log.run_name())),
      "\n\n", out.headline, "\n\n## Summary\n\n", SummaryMarkdown(log, summary), "\n## Epochs\n\n",
      log.epochs_size() > 0 ? out.epoch_table : "No epoch logged yet.\n", "\n");
  if (!out.curves.empty()) {
    md += "## Curves\n\n";
    for (const auto& [file, alt] : kCurves) {
      if (std::find(out.curves.begin(), out.curves.end(), file) != out.curves.end()) {
        absl::StrAppend(&md, "![", alt, "](", file, ")\n\n");
      }
    }
  }
  md += eval_markdown;
  if (inputs.lr_curve) md += LrRangeMarkdown(*inputs.lr_curve, lr_range_plotted);
  md += model_markdown;
  if (inputs.config) {
    absl::StrAppend(&md, "## Config\n\nThe resolved configuration (", kConfig, "):\n\n",
                    FencedBlock(*inputs.config, "text"), "\n");
  }
  if (!notes->empty()) {
    md += "## Left out\n\n";
    for (const std::string& note : *notes) absl::StrAppend(&md, "- ", EscapeMarkdown(note), "\n");
    md += "\n";
  }
  while (md.size() >= 2 && md[md.size() - 1] == '\n' && md[md.size() - 2] == '\n') md.pop_back();
  out.files.emplace_back(kLogsMd, std::move(md));
  return out;
}

std::string ReadmeBlock(const ReportOptions& options, const std::string& out_dir,
                        const TrainLog& log, const Rendered& rendered) {
  const std::string prefix = LinkPrefix(out_dir, options.readme);
  std::string title = "Results";
  if (!log.run_name().empty() || !log.model().empty()) {
    std::vector<std::string> parts;
    if (!log.model().empty()) parts.push_back(EscapeMarkdown(log.model()));
    if (!log.run_name().empty()) parts.push_back(absl::StrCat("run ", EscapeMarkdown(log.run_name())));
    absl::StrAppend(&title, ": ", absl::StrJoin(parts, ", "));
  }
  std::string block = absl::StrCat("### ", title, "\n\n", rendered.headline, "\n\n");
  if (!rendered.eval_line.empty()) absl::StrAppend(&block, rendered.eval_line, ".\n\n");
  if (log.epochs_size() > 0) absl::StrAppend(&block, rendered.epoch_table, "\n");
  for (const auto& [file, alt] : kCurves) {
    if (std::find(rendered.curves.begin(), rendered.curves.end(), file) != rendered.curves.end()) {
      absl::StrAppend(&block, "![", alt, "](", prefix, file, ")\n");
    }
  }
  absl::StrAppend(&block, "\nFull report: [", kLogsMd, "](", prefix, kLogsMd, ")\n");
  return block;
}

}  // namespace

absl::StatusOr<ReportResult> RunReport(const ReportOptions& options) {
  if (options.run_dir.empty()) return absl::InvalidArgumentError("no run directory given");
  if (options.digits < 0 || options.digits > 10) {
    return absl::InvalidArgumentError(absl::StrCat("digits must be 0..10, not ", options.digits));
  }
  if (options.top_confused < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_confused must be >= 0, not ", options.top_confused));
  }
  ReportResult result;
  absl::StatusOr<Inputs> inputs = ReadInputs(options, &result.notes);
  if (!inputs.ok()) return inputs.status();
  absl::StatusOr<Rendered> rendered = Render(options, *inputs, &result.notes);
  if (!rendered.ok()) return rendered.status();

  result.out_dir = options.out_dir.empty() ? (fs::path(options.run_dir) / "report").string() : options.out_dir;
  // The README is checked before anything is written, so bad markers leave no trace.
  std::string readme_text;
  if (!options.readme.empty()) {
    absl::StatusOr<std::string> existing = ReadFile(options.readme);
    if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();
    absl::StatusOr<std::string> updated = UpsertMarkedBlock(
        existing.ok() ? *existing : "", kReadmeStartMarker, kReadmeEndMarker,
        ReadmeBlock(options, result.out_dir, inputs->log, *rendered), options.readme);
    if (!updated.ok()) return updated.status();
    readme_text = std::move(*updated);
  }

  std::error_code error;
  fs::create_directories(result.out_dir, error);
  if (error) {
    return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot create output directory ", result.out_dir));
  }
  // What a report killed mid-write (kill -9) left of the files it was writing.
  RemoveStaleTemporaries(result.out_dir, [](absl::string_view name) {
    return std::find(std::begin(kOutputs), std::end(kOutputs), name) != std::end(kOutputs);
  });
  if (!options.readme.empty()) {
    const fs::path readme(options.readme);
    RemoveStaleTemporaries(readme.parent_path().empty() ? "." : readme.parent_path().string(),
                           [&readme](absl::string_view name) { return name == readme.filename().string(); });
  }
  for (const auto& [name, contents] : rendered->files) {
    if (absl::Status status = WriteFileAtomically((fs::path(result.out_dir) / name).string(), contents);
        !status.ok()) {
      return status;
    }
    result.written.push_back(name);
  }
  for (const char* name : kOutputs) {
    if (std::find(result.written.begin(), result.written.end(), name) != result.written.end()) continue;
    result.left_out.push_back(name);
    const fs::path stale = fs::path(result.out_dir) / name;
    if (IsFile(stale)) {
      // remove() returns false without an error when the file is already gone: fine too.
      fs::remove(stale, error);
      if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot remove stale ", stale.string()));
      result.removed.push_back(name);
      result.notes.push_back(absl::StrCat("removed ", name, " of an earlier report: this run leaves it out"));
    }
  }
  if (!options.readme.empty()) {
    if (absl::Status status = WriteFileAtomically(options.readme, readme_text); !status.ok()) return status;
    result.readme = options.readme;
  }
  return result;
}

std::string SummaryLine(const ReportResult& result) {
  std::string line = absl::StrCat("report: out_dir=", result.out_dir, " wrote=", absl::StrJoin(result.written, ","));
  if (!result.left_out.empty()) absl::StrAppend(&line, " left_out=", absl::StrJoin(result.left_out, ","));
  if (!result.removed.empty()) absl::StrAppend(&line, " removed=", absl::StrJoin(result.removed, ","));
  if (!result.readme.empty()) absl::StrAppend(&line, " readme=", result.readme);
  return line;
}

}  // namespace forge
