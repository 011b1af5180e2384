// serve's HTTP server: the model behind a small JSON API and a web page, on cpp-httplib's
// threaded server, with every prediction going through one Batcher.
//
//   POST /v1/predict[?k=5]  body: the image's bytes, or multipart/form-data with an "image" field
//                           -> {"top": [{"wnid", "name", "probability"}, ...], "model", "milliseconds", ...}
//   GET  /healthz           -> {"status": "ok", "model", "classes", "device", counters}
//   GET  /                  -> the web page (page.html, embedded)
//
// Errors are JSON too, {"error": "message"}: 400 bad request (empty body, bad k, multipart without
// "image"), 404, 405 (with Allow), 413 body over max_body_bytes or image over the pixel limit,
// 415 neither JPEG nor PNG, 422 an image that cannot be decoded, 503 (with Retry-After) when
// max_concurrent predictions are already in flight, 500 a failure of the model.
//
//   absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(std::move(predictor), options);
//   ... requests to http://127.0.0.1:(*server)->port()/ ...
//   (*server)->Stop();
#ifndef FORGE_TOOLS_SERVE_SERVER_H_
#define FORGE_TOOLS_SERVE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "lib/engine/predictor.h"
#include "tools/serve/batcher.h"

namespace httplib {
class Server;
}

namespace forge {

struct ServerOptions {
  std::string host = "127.0.0.1";  // the address to listen on; "0.0.0.0" for every interface
  int port = 8080;                 // 0: any free port (see Server::port)
  int64_t max_body_bytes = 16 << 20;  // larger request bodies get 413 before they are read
  int max_concurrent = 64;  // predictions in flight at once; one more gets 503 with Retry-After
  BatcherOptions batching;
  std::string model_name;  // what the answers and /healthz call the model, e.g. "resnet50"
};

// Counters since the start, for /healthz and tests.
struct ServerStats {
  BatcherStats batcher;
  int64_t in_flight = 0;  // predictions being answered now
  int64_t answered = 0;   // predictions answered with 200
  int64_t refused = 0;    // predictions answered with an error status (4xx, 5xx)
  int64_t busy = 0;       // of those, 503 for max_concurrent
};

class Server {
 public:
  // Binds host:port and starts answering on a thread of its own. Errors: InvalidArgument for
  // options out of range, Unavailable when the address cannot be listened on (naming it).
  static absl::StatusOr<std::unique_ptr<Server>> Start(std::unique_ptr<Predictor> predictor,
                                                       const ServerOptions& options);
  // Stop()s.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the one chosen when options.port was 0).
  int port() const { return port_; }

  // Stops accepting connections, lets the requests in progress finish, and returns. Idempotent.
  void Stop();

  ServerStats stats() const;

 private:
  Server(std::unique_ptr<Predictor> predictor, const ServerOptions& options);
  void Route();

  const ServerOptions options_;
  std::unique_ptr<Predictor> predictor_;
  std::unique_ptr<Batcher> batcher_;
  BatcherStats stopped_batcher_;  // its last counters, once Stop() has destroyed it
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> answered_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> busy_{0};
};

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_SERVER_H_
