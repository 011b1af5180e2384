// Fuzzes serve's HTTP request path end to end: each input is sent as is, over a TCP connection,
// to a Server answering with a small ResNet-18 (cpp-httplib's request parsing, routing, query and
// multipart handling, body limits, image decoding, batching, the JSON answers). Properties: every
// answer is a well-formed HTTP/1.1 status line, and no client input makes the server answer 500
// (reserved for failures of the model).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "tools/serve/serve_testing.h"
#include "tools/serve/server.h"

namespace {

struct Served {
  std::unique_ptr<forge::Server> server;
  std::vector<std::string> images;
};

Served& TheServer() {
  static Served* served = [] {
    const std::string dir = forge::ScratchFolder("serve");
    absl::StatusOr<forge::ServeTestInputs> inputs = forge::WriteServeTestInputs(dir);
    CHECK(inputs.ok()) << inputs.status();
    absl::StatusOr<std::unique_ptr<forge::Predictor>> predictor = forge::Predictor::Create(inputs->predictor);
    CHECK(predictor.ok()) << predictor.status();
    forge::ServerOptions options;
    options.port = 0;
    options.max_body_bytes = 1 << 20;
    options.model_name = "resnet18";
    absl::StatusOr<std::unique_ptr<forge::Server>> server = forge::Server::Start(std::move(*predictor), options);
    CHECK(server.ok()) << server.status();
    return new Served{std::move(*server), inputs->images};
  }();
  return *served;
}

// Sends `request`, closes the sending side and returns everything the server answers.
std::string Exchange(int port, absl::string_view request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  PCHECK(fd >= 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's timer signal (SIGALRM) may interrupt a call that waits: a busy machine once saw
  // connect fail with EINTR. The connection then completes in the background.
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    PCHECK(errno == EINTR);
    pollfd writable{fd, POLLOUT, 0};
    int ready;
    while ((ready = poll(&writable, 1, 10000)) < 0 && errno == EINTR) {
    }
    PCHECK(ready == 1);
    int error = 0;
    socklen_t length = sizeof(error);
    PCHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0);
    CHECK_EQ(error, 0) << "connect: " << strerror(error);
  }
  // The server may answer (e.g. 413) and close before reading everything: stop sending then.
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  char buffer[65536];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string answer = Exchange(TheServer().server->port(), forge::AsStringView(data, size));
  // Pipelined requests get one answer each; every one must be well formed.
  for (size_t at = answer.find("HTTP/1.1 "); at != std::string::npos; at = answer.find("\r\n\r\nHTTP/1.1 ", at + 1)) {
    if (answer.compare(at, 4, "\r\n\r\n") == 0) at += 4;
    CHECK(answer.size() >= at + 12) << answer;
    const std::string status = answer.substr(at + 9, 3);
    CHECK(status[0] >= '1' && status[0] <= '5') << answer;
    CHECK(status != "500") << answer;
  }
  CHECK(answer.empty() || answer.rfind("HTTP/1.1 ", 0) == 0) << answer;
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  const std::string& jpeg = TheServer().images.front();
  const std::string boundary = "----forge";
  const std::string multipart = absl::StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n",
                                             "Content-Type: image/jpeg\r\n\r\n", jpeg, "\r\n--", boundary, "--\r\n");
  return {
      "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      absl::StrCat("POST /v1/predict?k=3 HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\nContent-Length: ", jpeg.size(),
                   "\r\n\r\n", jpeg),
      absl::StrCat("POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=", boundary,
                   "\r\nContent-Length: ", multipart.size(), "\r\n\r\n", multipart),
      absl::StrCat("POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
                   absl::StrFormat("%x", jpeg.size()), "\r\n", jpeg, "\r\n0\r\n\r\n"),
      "POST /v1/predict?k=0 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
      "DELETE /v1/predict HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n",
  };
}
