// A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe), for
// tests that use a web page as a person would (choose a file, drop one) and then read the DOM.
// Testonly. Its network is confined to loopback: a proxy on a closed loopback port takes every
// other request, host names other than 127.0.0.1 do not resolve, and background services
// (updates, sync, safe browsing pings) are off.
//
//   absl::StatusOr<std::unique_ptr<HeadlessChromium>> browser = HeadlessChromium::Start(scratch_dir);
//   absl::StatusOr<std::string> page = (*browser)->OpenPage("http://127.0.0.1:8080/");
//   absl::StatusOr<google::protobuf::Value> title = (*browser)->Evaluate(*page, "document.title");
#ifndef FORGE_TOOLS_SERVE_HEADLESS_CHROMIUM_H_
#define FORGE_TOOLS_SERVE_HEADLESS_CHROMIUM_H_

#include <sys/types.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <google/protobuf/struct.pb.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forge {

class HeadlessChromium {
 public:
  // Starts $CHROMIUM, else /usr/bin/chromium (Debian's package), with its profile under `dir`
  // and its output in dir/chromium.log. FailedPrecondition when there is no such browser.
  static absl::StatusOr<std::unique_ptr<HeadlessChromium>> Start(const std::string& dir);
  // Closes the browser (Browser.close; after 10 s, SIGKILL) and waits for it.
  ~HeadlessChromium();

  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Sends the DevTools command `method` with `params` (to the page of `session`, or to the
  // browser when empty) and returns its result, skipping the events that come before it.
  // Errors: Internal with the browser's message for a refused command, DeadlineExceeded after
  // `timeout`, Unavailable when the browser has gone.
  absl::StatusOr<google::protobuf::Struct> Call(const std::string& method, const google::protobuf::Struct& params,
                                               const std::string& session = "",
                                               absl::Duration timeout = absl::Seconds(30));

  // Opens a new tab at `url` and returns its session, for Call and Evaluate.
  absl::StatusOr<std::string> OpenPage(const std::string& url);

  // The value of the JavaScript `expression` in the page (JSON-serialisable values only).
  // Internal for an exception thrown by it.
  absl::StatusOr<google::protobuf::Value> Evaluate(const std::string& session, const std::string& expression);

  // The path of the browser's log.
  const std::string& log() const { return log_; }

 private:
  HeadlessChromium(pid_t pid, int to_browser, int from_browser, std::string log)
      : pid_(pid), to_browser_(to_browser), from_browser_(from_browser), log_(std::move(log)) {}

  pid_t pid_;
  int to_browser_;    // the browser reads it as fd 3
  int from_browser_;  // the browser writes it as fd 4
  std::string log_;
  std::string pending_;  // bytes read past the last message
  int next_id_ = 1;
};

// Building DevTools parameters: Json({{"url", JsonText("http://...")}, {"depth", JsonNumber(0)}}).
google::protobuf::Value JsonText(const std::string& text);
google::protobuf::Value JsonNumber(double number);
google::protobuf::Value JsonBool(bool value);
google::protobuf::Value JsonList(std::initializer_list<google::protobuf::Value> values);
google::protobuf::Value JsonObject(const google::protobuf::Struct& fields);
google::protobuf::Struct Json(std::initializer_list<std::pair<std::string, google::protobuf::Value>> fields);

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_HEADLESS_CHROMIUM_H_
