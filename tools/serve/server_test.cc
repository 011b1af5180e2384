// The HTTP API on loopback with the tiny ResNet-18: answers equal to Predictor's, batching
// under concurrent clients, limits, malformed requests and a clean stop.
#include "tools/serve/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "testdata/image_writers.h"
#include "testdata/scratch.h"
#include "tools/serve/serve_testing.h"

namespace forge {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Pixels the test servers allow: more than the tiny images' (at most 56 x 56).
constexpr int64_t kMaxPixels = 100 * 100;
// Probabilities of one image computed in batches of different sizes agree to this.
constexpr double kTolerance = 1e-4;

Struct ParseJson(const std::string& text) {
  Struct json;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &json);
  EXPECT_TRUE(status.ok()) << status << " in " << text;
  return json;
}

const Value& Field(const Struct& json, const std::string& name) {
  static const Value* const kMissing = new Value();
  auto it = json.fields().find(name);
  EXPECT_NE(it, json.fields().end()) << "no field " << name;
  return it == json.fields().end() ? *kMissing : it->second;
}

// Sends `request` as it is over a new connection and returns the response: its status line,
// headers and body (as long as its Content-Length says), or what came until the server closed
// the connection, or 10 s passed.
std::string RawExchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return "";
  }
  // The server may answer (and close) before all of a large request is sent.
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    response.append(buffer, n);
    const size_t end = response.find("\r\n\r\n");
    const size_t length = response.find("Content-Length: ");
    if (end != std::string::npos && length != std::string::npos && length < end) {
      const size_t body = std::stoul(response.substr(length + 16));
      if (response.size() >= end + 4 + body) break;
    }
  }
  close(fd);
  return response;
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<ServeTestInputs> inputs = WriteServeTestInputs(testdata::NewScratchDir());
    ASSERT_TRUE(inputs.ok()) << inputs.status();
    inputs->predictor.max_pixels = kMaxPixels;
    inputs_ = new ServeTestInputs(*std::move(inputs));
    absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(inputs_->predictor);
    ASSERT_TRUE(predictor.ok()) << predictor.status();
    classes_ = new std::vector<ClassLabel>((*predictor)->classes());
    // The reference: every image in one batch, straight from the Predictor.
    std::vector<absl::string_view> images(inputs_->images.begin(), inputs_->images.end());
    reference_ = new std::vector<TopK>();
    for (absl::StatusOr<TopK>& top : (*predictor)->Predict(images, static_cast<int>(classes_->size()))) {
      ASSERT_TRUE(top.ok()) << top.status();
      reference_->push_back(*std::move(top));
    }
  }

  // A server of the tiny model on a free loopback port.
  static std::unique_ptr<Server> StartServer(ServerOptions options) {
    absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(inputs_->predictor);
    EXPECT_TRUE(predictor.ok()) << predictor.status();
    if (!predictor.ok()) return nullptr;
    options.port = 0;
    options.model_name = "resnet18";
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(*std::move(predictor), options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static ServerOptions DefaultOptions() {
    ServerOptions options;
    options.max_body_bytes = 64 << 10;
    options.batching.window = absl::Milliseconds(50);
    return options;
  }

  // Expects `answer` to be reference image `image`'s top-k: the same probabilities in order, and
  // the same classes wherever the next probability is not within kTolerance (a near tie may
  // swap between batch sizes).
  static void ExpectReferenceTop(const Struct& answer, int image, size_t k) {
    const TopK& expected = (*reference_)[image];
    const auto& top = Field(answer, "top").list_value().values();
    ASSERT_EQ(static_cast<size_t>(top.size()), k) << "image " << image;
    for (size_t i = 0; i < k; ++i) {
      const Struct& entry = top[i].struct_value();
      const double probability = Field(entry, "probability").number_value();
      EXPECT_NEAR(probability, expected.probabilities[i], kTolerance) << "image " << image << " rank " << i;
      const bool tied = (i > 0 && expected.probabilities[i - 1] - expected.probabilities[i] < kTolerance) ||
                        (i + 1 < expected.probabilities.size() &&
                         expected.probabilities[i] - expected.probabilities[i + 1] < kTolerance);
      if (tied) continue;
      const ClassLabel& label = (*classes_)[expected.classes[i]];
      EXPECT_EQ(Field(entry, "wnid").string_value(), label.wnid) << "image " << image << " rank " << i;
      EXPECT_EQ(Field(entry, "name").string_value(), label.name) << "image " << image << " rank " << i;
    }
  }

  static ServeTestInputs* inputs_;
  static std::vector<ClassLabel>* classes_;
  static std::vector<TopK>* reference_;
};

ServeTestInputs* ServerTest::inputs_ = nullptr;
std::vector<ClassLabel>* ServerTest::classes_ = nullptr;
std::vector<TopK>* ServerTest::reference_ = nullptr;

TEST_F(ServerTest, ConcurrentClientsGetThePredictorsAnswersFromSharedBatches) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 16, kRequestsEach = 3;
  const int images = static_cast<int>(inputs_->images.size());
  std::vector<std::vector<std::string>> bodies(kClients);
  std::vector<std::vector<int>> statuses(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", server->port());
      client.set_read_timeout(60);
      for (int r = 0; r < kRequestsEach; ++r) {
        const std::string& image = inputs_->images[(c * kRequestsEach + r) % images];
        httplib::Result result = client.Post("/v1/predict", image, "application/octet-stream");
        statuses[c].push_back(result ? result->status : -1);
        bodies[c].push_back(result ? result->body : httplib::to_string(result.error()));
      }
    });
  }
  for (std::thread& client : clients) client.join();
  for (int c = 0; c < kClients; ++c) {
    for (int r = 0; r < kRequestsEach; ++r) {
      EXPECT_EQ(statuses[c][r], 200) << "client " << c << " request " << r << ": " << bodies[c][r];
      if (statuses[c][r] != 200) continue;
      const Struct answer = ParseJson(bodies[c][r]);
      ExpectReferenceTop(answer, (c * kRequestsEach + r) % images, 5);
      EXPECT_EQ(Field(answer, "model").string_value(), "resnet18");
      EXPECT_GE(Field(answer, "milliseconds").number_value(), 0);
    }
  }
  // Batching: fewer batches than requests, as /healthz tells too.
  const ServerStats stats = server->stats();
  EXPECT_EQ(stats.batcher.requests, kClients * kRequestsEach);
  EXPECT_EQ(stats.answered, kClients * kRequestsEach);
  EXPECT_LT(stats.batcher.batches, stats.batcher.requests);
  EXPECT_GT(stats.batcher.largest_batch, 1);
  httplib::Client client("127.0.0.1", server->port());
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  ASSERT_EQ(health->status, 200);
  const Struct json = ParseJson(health->body);
  EXPECT_EQ(Field(json, "status").string_value(), "ok");
  EXPECT_EQ(Field(json, "model").string_value(), "resnet18");
  EXPECT_EQ(Field(json, "classes").number_value(), 10);
  EXPECT_EQ(Field(json, "device").string_value(), "cpu");
  EXPECT_EQ(Field(json, "requests").number_value(), stats.batcher.requests);
  EXPECT_EQ(Field(json, "batches").number_value(), stats.batcher.batches);
  EXPECT_EQ(Field(json, "largest_batch").number_value(), stats.batcher.largest_batch);
}

TEST_F(ServerTest, MultipartUploadsAndKAnswerAsRawBodies) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  client.set_read_timeout(60);
  for (const int image : {0, 7}) {
    httplib::MultipartFormDataItems form = {
        {"note", "ignored", "", ""}, {"image", inputs_->images[image], "photo.jpg", "image/jpeg"}};
    httplib::Result result = client.Post("/v1/predict", form);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    ExpectReferenceTop(ParseJson(result->body), image, 5);
  }
  httplib::Result three = client.Post("/v1/predict?k=3", inputs_->images[1], "image/jpeg");
  ASSERT_TRUE(three);
  ASSERT_EQ(three->status, 200) << three->body;
  ExpectReferenceTop(ParseJson(three->body), 1, 3);
  httplib::Result all = client.Post("/v1/predict?k=1000", inputs_->images[2], "image/png");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  ExpectReferenceTop(ParseJson(all->body), 2, 10);  // at most the model's classes
}

TEST_F(ServerTest, NamesAreEscapedAsJson) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  client.set_read_timeout(60);
  httplib::Result result = client.Post("/v1/predict?k=10", inputs_->images[0], "image/jpeg");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  bool found = false;
  const Struct answer = ParseJson(result->body);
  for (const Value& entry : Field(answer, "top").list_value().values()) {
    found |= Field(entry.struct_value(), "name").string_value() == kOddClassName;
  }
  EXPECT_TRUE(found) << result->body;
}

TEST_F(ServerTest, MalformedRequestsGetJsonErrorsAndTheServerCarriesOn) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  const std::string& jpeg = inputs_->images[0];
  ASSERT_TRUE(absl::StartsWith(jpeg, "\xff\xd8\xff"));
  const std::string truncated = jpeg.substr(0, jpeg.size() * 3 / 4);
  ASSERT_TRUE(ReadImageHeader(truncated).ok()) << "the cut must leave the header whole";

  struct Case {
    std::string name, method, path, body, content_type;
    int status;
    std::string message;  // a part of the error message
  };
  const std::vector<Case> cases = {
      {"empty body", "POST", "/v1/predict", "", "image/jpeg", 400, "no image"},
      {"garbage bytes", "POST", "/v1/predict", "this is not an image", "image/jpeg", 415, "neither a JPEG nor a PNG"},
      {"JPEG magic then garbage", "POST", "/v1/predict", "\xff\xd8\xff\xe0garbage", "image/jpeg", 422, ""},
      {"truncated JPEG", "POST", "/v1/predict", truncated, "image/jpeg", 422, ""},
      {"k zero", "POST", "/v1/predict?k=0", jpeg, "image/jpeg", 400, "k=0"},
      {"k not a number", "POST", "/v1/predict?k=five", jpeg, "image/jpeg", 400, "k=five"},
      {"multipart without image", "POST", "/v1/predict", "", "multipart", 400, "\"image\""},
      {"GET the API", "GET", "/v1/predict", "", "", 405, "only POST"},
      {"PUT the API", "PUT", "/v1/predict", jpeg, "image/jpeg", 405, "only POST"},
      {"POST the page", "POST", "/", jpeg, "image/jpeg", 405, "only GET"},
      {"DELETE healthz", "DELETE", "/healthz", "", "", 405, "only GET"},
      {"unknown path", "GET", "/etc/passwd", "", "", 404, "no such path"},
      {"unknown path, POST", "POST", "/v2/predict", jpeg, "image/jpeg", 404, "no such path"},
      {"path traversal", "GET", "/../../etc/passwd", "", "", 404, ""},
  };
  httplib::Client client("127.0.0.1", server->port());
  client.set_read_timeout(60);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    httplib::Result result =
        c.method == "GET"                ? client.Get(c.path)
        : c.method == "DELETE"           ? client.Delete(c.path)
        : c.method == "PUT"              ? client.Put(c.path, c.body, c.content_type)
        : c.content_type == "multipart" ? client.Post(c.path, httplib::MultipartFormDataItems{{"file", jpeg, "a.jpg", "image/jpeg"}})
                                         : client.Post(c.path, c.body, c.content_type);
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, c.status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    const std::string error = Field(ParseJson(result->body), "error").string_value();
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(absl::StrContains(error, c.message)) << error;
    if (c.status == 405) {
      EXPECT_FALSE(result->get_header_value("Allow").empty());
    }
  }

  // What only a hand-written request can say.
  const std::string huge = RawExchange(
      server->port(),
      "POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\n"
      "Content-Length: 1000000000000\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(huge, "HTTP/1.1 413")) << huge;
  EXPECT_TRUE(absl::StrContains(huge, "--max_body_bytes")) << huge;
  const std::string garbage = RawExchange(server->port(), "HELLO THERE\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(garbage, "HTTP/1.1 400")) << garbage;
  const std::string chunked = RawExchange(
      server->port(), absl::StrCat("POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n",
                                   "10000\r\n", std::string(0x10000, 'x'), "\r\n", "10000\r\n",
                                   std::string(0x10000, 'x'), "\r\n0\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(chunked, "HTTP/1.1 411")) << chunked.substr(0, 200);
  EXPECT_TRUE(absl::StrContains(chunked, "Content-Length")) << chunked.substr(0, 200);

  // Still serving, and nothing of it was predicted.
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Result good = client.Post("/v1/predict", jpeg, "image/jpeg");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(server->stats().answered, 1);
  EXPECT_GE(server->stats().refused, 7);
}

TEST_F(ServerTest, TooManyPixelsIsRefusedFromTheHeader) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  const std::vector<uint8_t> gray(200 * 200 * 3, 128);
  const std::string large = testdata::EncodeJpeg(gray.data(), 200, 200, 90);
  const std::string wide = testdata::EncodePng(gray.data(), 40000, 1, 3);  // fits the body limit
  httplib::Client client("127.0.0.1", server->port());
  for (const std::string* image : {&large, &wide}) {
    httplib::Result result = client.Post("/v1/predict", *image, "image/jpeg");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 413) << result->body;
    EXPECT_TRUE(absl::StrContains(Field(ParseJson(result->body), "error").string_value(), "pixels, more than"))
        << result->body;
  }
  EXPECT_EQ(server->stats().batcher.requests, 0) << "refused before any batch";
}

TEST_F(ServerTest, AFullServerAnswers503WithRetryAfter) {
  ServerOptions options = DefaultOptions();
  options.max_concurrent = 2;
  options.batching.window = absl::Seconds(1);  // holds the first two in flight
  options.batching.start_when_idle = false;
  std::unique_ptr<Server> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  std::vector<int> statuses(2, -1);
  std::vector<std::thread> first;
  for (int i = 0; i < 2; ++i) {
    first.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", server->port());
      client.set_read_timeout(60);
      httplib::Result result = client.Post("/v1/predict", inputs_->images[i], "image/jpeg");
      statuses[i] = result ? result->status : -1;
    });
  }
  for (int tries = 0; tries < 5000 && server->stats().in_flight < 2; ++tries) absl::SleepFor(absl::Milliseconds(1));
  httplib::Client client("127.0.0.1", server->port());
  httplib::Result busy = client.Post("/v1/predict", inputs_->images[2], "image/jpeg");
  for (std::thread& thread : first) thread.join();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503) << busy->body;
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  EXPECT_TRUE(absl::StrContains(Field(ParseJson(busy->body), "error").string_value(), "--max_concurrent"));
  EXPECT_EQ(statuses, std::vector<int>({200, 200}));
  EXPECT_EQ(server->stats().busy, 1);
  httplib::Result after = client.Post("/v1/predict", inputs_->images[2], "image/jpeg");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << "room again once the others are answered";
}

TEST_F(ServerTest, StopAnswersTheRequestsInProgressThenRefusesConnections) {
  ServerOptions options = DefaultOptions();
  options.batching.window = absl::Seconds(1);  // holds both queued when Stop comes
  options.batching.start_when_idle = false;
  std::unique_ptr<Server> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  std::vector<int> statuses(2, -1);
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(60);
      httplib::Result result = client.Post("/v1/predict", inputs_->images[i], "image/jpeg");
      statuses[i] = result ? result->status : -1;
    });
  }
  for (int tries = 0; tries < 5000 && server->stats().batcher.queued < 2; ++tries) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  server->Stop();
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(statuses, std::vector<int>({200, 200}));
  EXPECT_EQ(server->stats().batcher.requests, 2) << "the counters outlive Stop";
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  EXPECT_FALSE(client.Get("/healthz")) << "still listening after Stop";
}

TEST_F(ServerTest, ThePageIsSelfContainedHtml) {
  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(page->body, "<!doctype html>")) << page->body.substr(0, 100);
  EXPECT_TRUE(absl::StrContains(page->body, "type=\"file\""));
  EXPECT_TRUE(absl::StrContains(page->body, "</html>"));
  for (const char* external : {"http:", "https:", "//cdn", "<link", "src=\"", "@import"}) {
    EXPECT_FALSE(absl::StrContains(page->body, external)) << external;
  }
  EXPECT_TRUE(absl::StrContains(page->get_header_value("Content-Security-Policy"), "default-src 'none'"));
}

TEST_F(ServerTest, BadOptionsAndTakenPortsAreRefused) {
  ServerOptions options = DefaultOptions();
  options.max_concurrent = 0;
  absl::StatusOr<std::unique_ptr<Predictor>> predictor = Predictor::Create(inputs_->predictor);
  ASSERT_TRUE(predictor.ok());
  EXPECT_EQ(Server::Start(*std::move(predictor), options).status().code(), absl::StatusCode::kInvalidArgument);

  std::unique_ptr<Server> server = StartServer(DefaultOptions());
  ASSERT_NE(server, nullptr);
  options = DefaultOptions();
  options.port = server->port();
  predictor = Predictor::Create(inputs_->predictor);
  ASSERT_TRUE(predictor.ok());
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(*std::move(predictor), options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat(":", server->port()))) << second.status();
}

}  // namespace
}  // namespace forge
