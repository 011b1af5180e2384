#include "tools/serve/serve.h"

#include <filesystem>
#include <memory>
#include <utility>

#include <glog/logging.h>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/io/safetensors.h"
#include "lib/train/checkpoint.h"
#include "lib/util/stop_signals.h"

namespace forge {

std::string ModelName(const PredictorOptions& options) {
  if (!options.model.empty()) return options.model;
  if (absl::EndsWith(options.weights_path, ".safetensors")) {
    absl::StatusOr<Safetensors> file = ReadSafetensors(options.weights_path);
    if (file.ok() && file->metadata.count("architecture")) return file->metadata.at("architecture");
  } else {
    absl::StatusOr<TrainState> state = ReadTrainState(options.weights_path);
    if (state.ok() && !state->config().model().name().empty()) return state->config().model().name();
  }
  return std::filesystem::path(options.weights_path).filename().string();
}

absl::StatusOr<ServerStats> RunServe(const ServeToolOptions& options) {
  absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(options.predictor);
  if (!predictor.ok()) return predictor.status();
  ServerOptions server_options = options.server;
  if (server_options.model_name.empty()) server_options.model_name = ModelName(options.predictor);
  const size_t classes = (*predictor)->classes().size();
  const std::string device = (*predictor)->device().str();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(*std::move(predictor), server_options);
  if (!server.ok()) return server.status();
  LOG(INFO) << "serve: " << server_options.model_name << " (" << classes << " classes, " << device
            << ") on http://" << server_options.host << ":" << (*server)->port() << "/";
  while (!StopRequested()) absl::SleepFor(absl::Milliseconds(50));
  LOG(INFO) << "serve: " << StopSignalName() << ": finishing the requests in progress";
  (*server)->Stop();
  return (*server)->stats();
}

}  // namespace forge
