// serve as a library: loads a model, answers HTTP until a stop signal, stops cleanly. What
// main.cc calls; tests start a Server directly.
#ifndef FORGE_TOOLS_SERVE_SERVE_H_
#define FORGE_TOOLS_SERVE_SERVE_H_

#include <string>

#include "absl/status/statusor.h"
#include "lib/engine/predictor.h"
#include "tools/serve/server.h"

namespace forge {

struct ServeToolOptions {
  PredictorOptions predictor;
  ServerOptions server;  // its model_name is filled in by RunServe when empty (ModelName)
};

// What to call the model of `options`: options.model when given, else the model named in the
// checkpoint's config or in the safetensors file's metadata (export's "architecture"), else the
// file's name.
std::string ModelName(const PredictorOptions& options);

// Loads the model, starts the server and logs its address, then answers requests until a stop
// signal (SIGTERM, SIGINT: lib/util/stop_signals.h; the caller installs the handlers) or
// RequestStop(); then lets the requests in progress finish. Returns the counters at the end.
// Errors: those of Predictor::Create and Server::Start.
absl::StatusOr<ServerStats> RunServe(const ServeToolOptions& options);

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_SERVE_H_
