#include "tools/serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/image/decode.h"
#include "lib/io/json_string.h"
#include "tools/serve/page.h"

namespace forge {
namespace {

// Threads beyond max_concurrent: they answer 503 quickly, /healthz and the page while the
// predictions' threads wait, and hold idle keep-alive connections.
constexpr int kSpareThreads = 8;

// httplib's default sets SO_REUSEPORT, which lets a second server on the same port take half
// of the connections without a word; SO_REUSEADDR alone only allows a restart while the old
// connections linger in TIME_WAIT.
void ReuseAddress(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void SendJson(httplib::Response& res, int status, const std::string& json) {
  res.status = status;
  res.set_content(json + "\n", "application/json");
}

void SendError(httplib::Response& res, int status, absl::string_view message) {
  SendJson(res, status, absl::StrCat("{\"error\": ", JsonString(message), "}"));
}

// The HTTP status for an image Predict or Check refused.
int ImageErrorStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return 422;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kResourceExhausted: return 503;
    default: return 500;
  }
}

// Answers a method the path does not take.
httplib::Server::Handler MethodNotAllowed(const std::string& allowed) {
  return [allowed](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", allowed);
    SendError(res, 405, absl::StrCat(req.method, " ", req.path, ": only ", allowed));
  };
}

}  // namespace

Server::Server(std::unique_ptr<Predictor> predictor, const ServerOptions& options)
    : options_(options), predictor_(std::move(predictor)), http_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(std::unique_ptr<Predictor> predictor,
                                                      const ServerOptions& options) {
  if (predictor == nullptr) return absl::InvalidArgumentError("no model to serve");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", options.port, " is not in 0..65535"));
  }
  if (options.max_body_bytes < 1) return absl::InvalidArgumentError("the body limit must be at least 1 byte");
  if (options.max_concurrent < 1) return absl::InvalidArgumentError("at least 1 concurrent request is needed");
  if (options.batching.max_batch < 1) return absl::InvalidArgumentError("batches need at least 1 image");
  if (options.batching.workers < 1) return absl::InvalidArgumentError("batches need at least 1 worker");
  if (options.batching.window < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the batch window cannot be negative");
  }
  std::unique_ptr<Server> server(new Server(std::move(predictor), options));
  Predictor* const model = server->predictor_.get();
  server->batcher_ = std::make_unique<Batcher>(
      [model](const std::vector<absl::string_view>& images, int k) { return model->Predict(images, k); },
      options.batching);
  server->Route();
  httplib::Server& http = *server->http_;
  const size_t threads = static_cast<size_t>(options.max_concurrent) + kSpareThreads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  http.set_keep_alive_max_count(1000);
  http.set_tcp_nodelay(true);
  int listener = -1;
  http.set_socket_options([&listener](int socket) {
    ReuseAddress(socket);
    listener = socket;
  });
  if (options.port == 0) {
    server->port_ = http.bind_to_any_port(options.host);
  } else if (http.bind_to_port(options.host, options.port)) {
    server->port_ = options.port;
  } else {
    server->port_ = -1;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.host, ":", options.port,
                                               " (in use, or not an address of this machine?)"));
  }
  // httplib 0.11 listens with a backlog of 5: a burst of new clients overflows it, and the
  // kernel then drops their handshakes (they stall for a second, and some fail). Listening again
  // on the bound socket sets a backlog fit for max_concurrent clients at once.
  if (listener >= 0) listen(listener, std::max(SOMAXCONN, options.max_concurrent + kSpareThreads));
  http.set_socket_options(ReuseAddress);
  Server* const raw = server.get();
  server->thread_ = std::thread([raw] { raw->http_->listen_after_bind(); });
  return server;
}

Server::~Server() { Stop(); }

void Server::Stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();  // after the requests in progress have been answered
  }
  if (batcher_ != nullptr) {
    stopped_batcher_ = batcher_->stats();
    batcher_.reset();
  }
}

ServerStats Server::stats() const {
  ServerStats stats;
  stats.batcher = batcher_ != nullptr ? batcher_->stats() : stopped_batcher_;
  stats.in_flight = in_flight_.load();
  stats.answered = answered_.load();
  stats.refused = refused_.load();
  stats.busy = busy_.load();
  return stats;
}

void Server::Route() {
  httplib::Server& http = *http_;
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    // The page loads nothing from anywhere: the browser is told to refuse it if it tried.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "img-src blob:; connect-src 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(kServePage, "text/html; charset=utf-8");
  });
  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const ServerStats stats = this->stats();
    SendJson(res, 200,
             absl::StrFormat("{\"status\": \"ok\", \"model\": %s, \"classes\": %d, \"device\": %s, "
                             "\"requests\": %d, \"batches\": %d, \"largest_batch\": %d, \"queued\": %d, \"in_flight\": %d, "
                             "\"answered\": %d, \"refused\": %d, \"busy\": %d}",
                             JsonString(options_.model_name), predictor_->classes().size(),
                             JsonString(predictor_->device().str()), stats.batcher.requests,
                             stats.batcher.batches, stats.batcher.largest_batch, stats.batcher.queued, stats.in_flight,
                             stats.answered, stats.refused, stats.busy));
  });
  http.Post("/v1/predict", [this](const httplib::Request& req, httplib::Response& res) {
    const absl::Time start = absl::Now();
    if (in_flight_.fetch_add(1) >= options_.max_concurrent) {
      in_flight_.fetch_sub(1);
      busy_.fetch_add(1);
      refused_.fetch_add(1);
      res.set_header("Retry-After", "1");
      SendError(res, 503, absl::StrCat("busy: ", options_.max_concurrent,
                                       " predictions in flight already (--max_concurrent); retry shortly"));
      return;
    }
    struct Leave {
      std::atomic<int64_t>& in_flight;
      ~Leave() { in_flight.fetch_sub(1); }
    } leave{in_flight_};
    const auto refuse = [&](int status, absl::string_view message) {
      refused_.fetch_add(1);
      SendError(res, status, message);
    };

    const int classes = static_cast<int>(predictor_->classes().size());
    int k = std::min(5, classes);
    if (req.has_param("k")) {
      const std::string text = req.get_param_value("k");
      if (!absl::SimpleAtoi(text, &k) || k < 1) {
        return refuse(400, absl::StrCat("k=", text, ": want a whole number of classes, at least 1"));
      }
      k = std::min(k, classes);
    }
    absl::string_view image = req.body;
    if (req.is_multipart_form_data()) {
      if (!req.has_file("image")) {
        return refuse(400, "a multipart/form-data upload needs its image in a field named \"image\"");
      }
      image = req.files.find("image")->second.content;
    }
    if (image.empty()) {
      return refuse(400, "no image: POST the bytes of a JPEG or PNG file as the body, or as the "
                         "\"image\" field of a multipart/form-data upload");
    }
    // What can be told from the header is refused before the image queues for a batch.
    if (DetectFormat(image) == ImageFormat::kUnknown) {
      return refuse(415, "the body is neither a JPEG nor a PNG image");
    }
    absl::StatusOr<ImageHeader> header = ReadImageHeader(image);
    if (!header.ok()) return refuse(422, header.status().message());
    const int64_t pixels = int64_t{header->width} * header->height;
    if (predictor_->max_pixels() > 0 && pixels > predictor_->max_pixels()) {
      return refuse(413, absl::StrCat("image of ", header->width, " x ", header->height, " = ", pixels,
                                      " pixels, more than the limit of ", predictor_->max_pixels(),
                                      " (--max_pixels)"));
    }
    if (absl::Status check = predictor_->Check(image); !check.ok()) {
      return refuse(ImageErrorStatus(check), check.message());
    }

    absl::StatusOr<TopK> top = batcher_->Predict(image, k);
    if (!top.ok()) return refuse(ImageErrorStatus(top.status()), top.status().message());
    std::string json = "{\"top\": [";
    for (size_t i = 0; i < top->classes.size(); ++i) {
      const ClassLabel& label = predictor_->classes()[top->classes[i]];
      absl::StrAppendFormat(&json, "%s{\"wnid\": %s, \"name\": %s, \"probability\": %.6g}", i ? ", " : "",
                            JsonString(label.wnid), JsonString(label.name), top->probabilities[i]);
    }
    absl::StrAppendFormat(&json, "], \"model\": %s, \"milliseconds\": %.3f}", JsonString(options_.model_name),
                          absl::ToDoubleMilliseconds(absl::Now() - start));
    answered_.fetch_add(1);
    SendJson(res, 200, json);
  });

  const std::vector<std::pair<std::string, std::string>> allowed = {
      {"/", "GET, HEAD"}, {"/healthz", "GET, HEAD"}, {"/v1/predict", "POST"}};
  for (const auto& [path, methods] : allowed) {
    if (methods == "POST") {
      http.Get(path, MethodNotAllowed(methods));
    } else {
      http.Post(path, MethodNotAllowed(methods));
    }
    http.Put(path, MethodNotAllowed(methods));
    http.Patch(path, MethodNotAllowed(methods));
    http.Delete(path, MethodNotAllowed(methods));
  }

  // Bodies over the limit are refused before a byte of them is read, and the connection closed:
  // httplib 0.11 would read and discard an oversized body for up to its read timeout before
  // answering 413, and would read a chunked body of any size into memory (it checks the limit
  // against Content-Length only), so uploads must state their length (browsers and curl do).
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    uint64_t length = 0;
    if (req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
      SendError(res, 411, "chunked uploads are not taken: send the body with a Content-Length");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length") &&
        (!absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) ||
         length > static_cast<uint64_t>(options_.max_body_bytes))) {
      res.set_header("Connection", "close");
      SendError(res, 413, absl::StrCat("request body of ", req.get_header_value("Content-Length"),
                                       " bytes, over the limit of ", options_.max_body_bytes,
                                       " bytes (--max_body_bytes)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Statuses httplib sets by itself (404, 413 for a body over the limit, 400 for a request it
  // cannot parse) get a JSON body like the handlers' own.
  http.set_error_handler(httplib::Server::Handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = absl::StrCat("HTTP ", res.status);
    if (res.status == 400) message = "bad request";
    if (res.status == 404) message = absl::StrCat("no such path: ", req.path);
    if (res.status == 413) {
      message = absl::StrCat("request body over the limit of ", options_.max_body_bytes, " bytes (--max_body_bytes)");
    }
    SendError(res, res.status, message);
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& caught) {
      message = absl::StrCat("internal error: ", caught.what());
    } catch (...) {
    }
    SendError(res, 500, message);
  });
}

}  // namespace forge
