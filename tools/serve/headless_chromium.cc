#include "tools/serve/headless_chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace forge {
namespace {

// Every request that is not for loopback goes to the discard port of loopback, where nothing
// listens; Chromium never sends loopback itself through a proxy.
constexpr char kDeadProxy[] = "--proxy-server=http://127.0.0.1:9";

// A copy of `fd` at 10 or above, close-on-exec, so that the child's fds 3 and 4 can be set from
// it whatever numbers pipe() gave; closes `fd`.
int MoveHigh(int fd) {
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return high;
}

bool Exists(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

google::protobuf::Value JsonText(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  return value;
}

google::protobuf::Value JsonNumber(double number) {
  google::protobuf::Value value;
  value.set_number_value(number);
  return value;
}

google::protobuf::Value JsonBool(bool b) {
  google::protobuf::Value value;
  value.set_bool_value(b);
  return value;
}

google::protobuf::Value JsonList(std::initializer_list<google::protobuf::Value> values) {
  google::protobuf::Value value;
  value.mutable_list_value();  // [] when empty, not null
  for (const google::protobuf::Value& v : values) *value.mutable_list_value()->add_values() = v;
  return value;
}

google::protobuf::Value JsonObject(const google::protobuf::Struct& fields) {
  google::protobuf::Value value;
  *value.mutable_struct_value() = fields;
  return value;
}

google::protobuf::Struct Json(std::initializer_list<std::pair<std::string, google::protobuf::Value>> fields) {
  google::protobuf::Struct json;
  for (const auto& [name, value] : fields) (*json.mutable_fields())[name] = value;
  return json;
}

absl::StatusOr<std::unique_ptr<HeadlessChromium>> HeadlessChromium::Start(const std::string& dir) {
  const char* const override = getenv("CHROMIUM");
  const std::string binary = override != nullptr && *override ? override : "/usr/bin/chromium";
  if (!Exists(binary)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no browser at ", binary, ": ci/setup.sh installs Debian's chromium (or set $CHROMIUM)"));
  }
  signal(SIGPIPE, SIG_IGN);  // a browser that dies makes Call fail, not the test process
  int to[2], from[2];
  if (pipe(to) != 0 || pipe(from) != 0) return absl::ErrnoToStatus(errno, "pipe");
  const int child_reads = MoveHigh(to[0]), parent_writes = MoveHigh(to[1]);
  const int parent_reads = MoveHigh(from[0]), child_writes = MoveHigh(from[1]);
  const std::string log = dir + "/chromium.log";

  std::vector<std::string> args = {
      binary,
      "--headless",
      "--no-sandbox",  // tests run as root, where Chromium's sandbox refuses to start
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--remote-debugging-pipe",
      "--user-data-dir=" + dir + "/profile",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-domain-reliability",
      "--disable-extensions",
      "--disable-sync",
      "--no-pings",
      "--mute-audio",
      kDeadProxy,
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--window-size=800,600",
      "about:blank",
  };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (entry.rfind("HOME=", 0) != 0 && entry.rfind("XDG_", 0) != 0) env.push_back(entry);
  }
  env.push_back("HOME=" + dir);  // Chromium keeps files under $HOME whatever its profile
  env.push_back("XDG_CONFIG_HOME=" + dir + "/config");
  env.push_back("XDG_CACHE_HOME=" + dir + "/cache");
  std::vector<char*> argv, envp;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_reads, 3);
  posix_spawn_file_actions_adddup2(&actions, child_writes, 4);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(child_reads);
  close(child_writes);
  if (error != 0) {
    close(parent_writes);
    close(parent_reads);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot start ", binary));
  }
  return std::unique_ptr<HeadlessChromium>(new HeadlessChromium(pid, parent_writes, parent_reads, log));
}

HeadlessChromium::~HeadlessChromium() {
  (void)Call("Browser.close", {}, "", absl::Seconds(5));
  close(to_browser_);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  close(from_browser_);
}

absl::StatusOr<google::protobuf::Struct> HeadlessChromium::Call(const std::string& method,
                                                                const google::protobuf::Struct& params,
                                                                const std::string& session, absl::Duration timeout) {
  const int id = next_id_++;
  google::protobuf::Struct command =
      Json({{"id", JsonNumber(id)}, {"method", JsonText(method)}, {"params", JsonObject(params)}});
  if (!session.empty()) (*command.mutable_fields())["sessionId"] = JsonText(session);
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(command, &text).ok()) {
    return absl::InternalError(absl::StrCat("cannot write ", method, " as JSON"));
  }
  text.push_back('\0');  // the pipe protocol's message separator
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n = write(to_browser_, text.data() + sent, text.size() - sent);
    if (n <= 0) return absl::UnavailableError(absl::StrCat("the browser has gone (", method, "); see ", log_));
    sent += n;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    for (size_t end; (end = pending_.find('\0')) != std::string::npos;) {
      google::protobuf::Struct message;
      const auto parsed = google::protobuf::util::JsonStringToMessage(pending_.substr(0, end), &message);
      pending_.erase(0, end + 1);
      if (!parsed.ok()) return absl::InternalError(absl::StrCat("unreadable answer to ", method));
      auto found = message.fields().find("id");
      if (found == message.fields().end() || found->second.number_value() != id) continue;  // an event
      auto failure = message.fields().find("error");
      if (failure != message.fields().end()) {
        std::string error;
        (void)google::protobuf::util::MessageToJsonString(failure->second, &error);
        return absl::InternalError(absl::StrCat(method, ": ", error));
      }
      return message.fields().at("result").struct_value();
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("no answer to ", method, " in ", absl::FormatDuration(timeout)));
    }
    pollfd readable{from_browser_, POLLIN, 0};
    if (poll(&readable, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
    char buffer[65536];
    const ssize_t n = read(from_browser_, buffer, sizeof(buffer));
    if (n <= 0) return absl::UnavailableError(absl::StrCat("the browser has gone (", method, "); see ", log_));
    pending_.append(buffer, n);
  }
}

absl::StatusOr<std::string> HeadlessChromium::OpenPage(const std::string& url) {
  absl::StatusOr<google::protobuf::Struct> target = Call("Target.createTarget", Json({{"url", JsonText("about:blank")}}));
  if (!target.ok()) return target.status();
  absl::StatusOr<google::protobuf::Struct> attached =
      Call("Target.attachToTarget",
           Json({{"targetId", target->fields().at("targetId")}, {"flatten", JsonBool(true)}}));
  if (!attached.ok()) return attached.status();
  const std::string session = attached->fields().at("sessionId").string_value();
  absl::StatusOr<google::protobuf::Struct> navigated = Call("Page.navigate", Json({{"url", JsonText(url)}}), session);
  if (!navigated.ok()) return navigated.status();
  if (navigated->fields().count("errorText")) {
    return absl::UnavailableError(
        absl::StrCat("cannot load ", url, ": ", navigated->fields().at("errorText").string_value()));
  }
  return session;
}

absl::StatusOr<google::protobuf::Value> HeadlessChromium::Evaluate(const std::string& session,
                                                                   const std::string& expression) {
  absl::StatusOr<google::protobuf::Struct> answer =
      Call("Runtime.evaluate",
           Json({{"expression", JsonText(expression)}, {"returnByValue", JsonBool(true)}}), session);
  if (!answer.ok()) return answer.status();
  if (answer->fields().count("exceptionDetails")) {
    std::string details;
    (void)google::protobuf::util::MessageToJsonString(answer->fields().at("exceptionDetails"), &details);
    return absl::InternalError(absl::StrCat(expression, " threw: ", details));
  }
  const google::protobuf::Struct& result = answer->fields().at("result").struct_value();
  auto value = result.fields().find("value");
  if (value == result.fields().end()) return google::protobuf::Value();  // undefined
  return value->second;
}

}  // namespace forge
