// serve_load: a closed-loop load generator for ci/bench/bench_serve.sh. `--concurrency` clients,
// each with one keep-alive connection, POST images to /v1/predict one after another for
// `--warmup_s` + `--duration_s` seconds; requests started after the warm-up are timed. Prints
// one JSON object: requests, errors, requests/s, latency percentiles, and each image's top-1
// ("<wnid> <probability>" of its first answer).

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gflags/gflags.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

DEFINE_string(host, "127.0.0.1", "Server address (loopback only: see ci/bench/README.md).");
DEFINE_int32(port, 8080, "Server port.");
DEFINE_string(path, "/v1/predict", "Request path.");
DEFINE_string(images, "", "Comma-separated image files, sent in turn. Required.");
DEFINE_int32(concurrency, 1, "Clients, each sending its next request when its last is answered.");
DEFINE_double(warmup_s, 2, "Seconds of untimed requests first.");
DEFINE_double(duration_s, 10, "Seconds of timed requests.");
DEFINE_string(label, "", "Copied into the output.");

namespace {

// "<wnid> <probability>" of the first entry of a JSON answer, "" if there is none.
std::string Top1(const std::string& body) {
  const size_t key = body.find("\"wnid\"");
  const size_t open = key == std::string::npos ? key : body.find('"', body.find(':', key) + 1);
  const size_t close = open == std::string::npos ? open : body.find('"', open + 1);
  const size_t probability = body.find("\"probability\"");
  if (close == std::string::npos || probability == std::string::npos) return "";
  const size_t number = body.find_first_not_of(": ", probability + 13);
  const size_t number_end = body.find_first_of(",}", number);
  return absl::StrCat(body.substr(open + 1, close - open - 1), " ", body.substr(number, number_end - number));
}

double Percentile(std::vector<double> sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::vector<std::string> paths = absl::StrSplit(FLAGS_images, ',', absl::SkipEmpty());
  if (paths.empty() || FLAGS_concurrency < 1) {
    fprintf(stderr, "serve_load: --images and --concurrency >= 1 are required\n");
    return 2;
  }
  std::vector<std::string> images;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (images.back().empty()) {
      fprintf(stderr, "serve_load: cannot read %s\n", path.c_str());
      return 2;
    }
  }

  const absl::Time start = absl::Now();
  const absl::Time measured = start + absl::Seconds(FLAGS_warmup_s);
  const absl::Time end = measured + absl::Seconds(FLAGS_duration_s);
  std::atomic<int64_t> next{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::map<int, std::string> top1;  // image -> its first answer's top-1
  int64_t errors = 0;
  std::string first_error;
  absl::Time last_done = measured;
  std::vector<std::thread> clients;
  for (int c = 0; c < FLAGS_concurrency; ++c) {
    clients.emplace_back([&] {
      httplib::Client client(FLAGS_host, FLAGS_port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // headers and body are two writes: no wait for a delayed ACK
      client.set_read_timeout(300);
      while (true) {
        const absl::Time sent = absl::Now();
        if (sent >= end) return;
        const int image = static_cast<int>(next.fetch_add(1) % images.size());
        httplib::Result result = client.Post(FLAGS_path, images[image], "image/jpeg");
        const absl::Time done = absl::Now();
        std::lock_guard<std::mutex> lock(mutex);
        if (!result || result->status != 200) {
          if (sent >= measured) ++errors;
          if (first_error.empty()) {
            first_error = result ? absl::StrCat(result->status, " ", result->body) : httplib::to_string(result.error());
          }
          continue;
        }
        if (!top1.count(image)) top1[image] = Top1(result->body);
        if (sent < measured) continue;
        latencies_ms.push_back(absl::ToDoubleMilliseconds(done - sent));
        last_done = std::max(last_done, done);
      }
    });
  }
  for (std::thread& client : clients) client.join();

  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double seconds = absl::ToDoubleSeconds(last_done - measured);
  std::string out = absl::StrFormat(
      "{\"label\": \"%s\", \"concurrency\": %d, \"requests\": %d, \"errors\": %d, \"seconds\": %.3f, "
      "\"requests_per_s\": %.3f, \"p50_ms\": %.2f, \"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"top1\": {",
      FLAGS_label, FLAGS_concurrency, latencies_ms.size(), errors, seconds,
      seconds > 0 ? latencies_ms.size() / seconds : 0.0, Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.9),
      Percentile(latencies_ms, 0.99), latencies_ms.empty() ? 0.0 : latencies_ms.back());
  bool first = true;
  for (const auto& [image, wnid] : top1) {
    absl::StrAppendFormat(&out, "%s\"%d\": \"%s\"", first ? "" : ", ", image, wnid);
    first = false;
  }
  absl::StrAppend(&out, "}}");
  printf("%s\n", out.c_str());
  if (!first_error.empty()) fprintf(stderr, "serve_load: first error: %s\n", first_error.substr(0, 300).c_str());
  return 0;
}
