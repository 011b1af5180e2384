#include "lib/train/tensorboard.h"

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/io/file.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"
#include "proto/tensorboard.pb.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

std::vector<std::string> FileNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return names;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

// Every event of `path`; fails the test on any CRC or parse error.
std::vector<Event> ReadEvents(const std::string& path) {
  std::vector<Event> events;
  RecordReader reader(path);
  std::string payload;
  while (reader.ReadRecord(&payload)) {
    Event event;
    EXPECT_TRUE(event.ParseFromString(payload)) << path << " record " << reader.records();
    events.push_back(event);
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  return events;
}

struct Scalar {
  std::string tag;
  int64_t step;
  float value;
};

std::vector<Scalar> Scalars(const std::vector<Event>& events) {
  std::vector<Scalar> scalars;
  for (const Event& event : events) {
    if (!event.has_summary()) continue;
    for (const Summary::Value& value : event.summary().value()) {
      scalars.push_back({value.tag(), event.step(), value.simple_value()});
    }
  }
  return scalars;
}

TEST(EventWriterTest, WritesTensorFlowEventFile) {
  const std::string dir = testdata::NewScratchDir() + "/nested/tb";  // Create makes missing directories
  absl::StatusOr<std::unique_ptr<EventWriter>> writer = EventWriter::Create(dir, "v1");
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string path = (*writer)->path();
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_THAT(path, StartsWith(dir + "/events.out.tfevents."));
  EXPECT_TRUE(absl::EndsWith(path, absl::StrCat(".", host, ".v1"))) << path;

  for (int64_t step = 0; step < 50; ++step) {
    ASSERT_TRUE((*writer)->AddScalar("train/loss", step, 1.0 / (step + 1), 1700000000.0 + step).ok());
    ASSERT_TRUE((*writer)->AddScalar("train/lr", step, 0.1 * step, 1700000000.5 + step).ok());
  }
  ASSERT_TRUE((*writer)->AddScalar("val/top1", 1000, 76.125, 1700001000.25).ok());
  ASSERT_TRUE((*writer)->Flush().ok());

  // The file is readable (and every CRC right) while the writer is still open.
  const std::vector<Event> events = ReadEvents(path);
  ASSERT_THAT(events, SizeIs(1 + 100 + 1));
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_GT(events[0].wall_time(), 1.6e9);
  EXPECT_EQ(events[0].step(), 0);
  for (int64_t step = 0; step < 50; ++step) {
    const Event& loss = events[1 + 2 * step];
    const Event& lr = events[2 + 2 * step];
    EXPECT_EQ(loss.step(), step);
    EXPECT_EQ(loss.wall_time(), 1700000000.0 + step);
    ASSERT_THAT(loss.summary().value(), SizeIs(1));
    EXPECT_EQ(loss.summary().value(0).tag(), "train/loss");
    EXPECT_EQ(loss.summary().value(0).simple_value(), static_cast<float>(1.0 / (step + 1)));
    EXPECT_EQ(lr.step(), step);
    EXPECT_EQ(lr.wall_time(), 1700000000.5 + step);
    EXPECT_EQ(lr.summary().value(0).tag(), "train/lr");
    EXPECT_EQ(lr.summary().value(0).simple_value(), static_cast<float>(0.1 * step));
  }
  EXPECT_EQ(events.back().step(), 1000);
  EXPECT_EQ(events.back().wall_time(), 1700001000.25);
  EXPECT_EQ(events.back().summary().value(0).simple_value(), 76.125f);
}

TEST(EventWriterTest, EventBytesMatchTensorFlowEncoding) {
  // Event{wall_time: 1.5, step: 3, summary{value{tag: "a", simple_value: 2}}} as TensorFlow
  // encodes it: field 1 fixed64, field 2 varint, field 5 message{field 1 message{1: "a", 2: float}}.
  const std::string dir = testdata::NewScratchDir();
  absl::StatusOr<std::unique_ptr<EventWriter>> writer = EventWriter::Create(dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->AddScalar("a", 3, 2.0, 1.5).ok());
  RecordReader reader((*writer)->path());
  std::string payload;
  ASSERT_TRUE(reader.ReadRecord(&payload));
  ASSERT_TRUE(reader.ReadRecord(&payload));
  const std::string expected = std::string("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f", 9) +  // wall_time 1.5
                               std::string("\x10\x03", 2) +                          // step 3
                               std::string("\x2a\x0a\x0a\x08\x0a\x01" "a" "\x15\x00\x00\x00\x40", 12);
  EXPECT_EQ(payload, expected);
}

TEST(EventWriterTest, NeverReusesAFileName) {
  const std::string dir = testdata::NewScratchDir();
  std::vector<std::unique_ptr<EventWriter>> writers;
  for (int i = 0; i < 3; ++i) {  // within one second, almost always
    absl::StatusOr<std::unique_ptr<EventWriter>> writer = EventWriter::Create(dir, "same");
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->AddScalar("x", i, i, 0).ok());
    if (!writers.empty()) {
      EXPECT_GT((*writer)->path(), writers.back()->path()) << "names must sort in creation order";
    }
    writers.push_back(std::move(*writer));
  }
  for (int i = 0; i < 3; ++i) {
    const std::vector<Scalar> scalars = Scalars(ReadEvents(writers[i]->path()));
    ASSERT_THAT(scalars, SizeIs(1));
    EXPECT_EQ(scalars[0].step, i);
  }
}

TEST(EventWriterTest, FailsNamingTheDirectory) {
  const std::string file = testdata::NewScratchDir() + "/file";
  ASSERT_TRUE(WriteFileAtomically(file, "x").ok());
  absl::StatusOr<std::unique_ptr<EventWriter>> writer = EventWriter::Create(file + "/tb");
  ASSERT_FALSE(writer.ok());
  EXPECT_THAT(writer.status().message(), HasSubstr(file));
}

// Writes an event file by hand (as an earlier run would have), scalar "loss" = step at each step.
std::string WriteRun(const std::string& dir, const std::string& name, int64_t first_step, int64_t last_step) {
  const std::string path = dir + "/" + name;
  std::string bytes;
  Event version;
  version.set_wall_time(1.0);
  version.set_file_version("brain.Event:2");
  AppendFramedRecord(version.SerializeAsString(), &bytes);
  for (int64_t step = first_step; step <= last_step; ++step) {
    Event event;
    event.set_wall_time(100.0 + step);
    event.set_step(step);
    Summary::Value* value = event.mutable_summary()->add_value();
    value->set_tag("loss");
    value->set_simple_value(static_cast<float>(step));
    AppendFramedRecord(event.SerializeAsString(), &bytes);
  }
  EXPECT_TRUE(WriteFileAtomically(path, bytes).ok());
  return path;
}

std::vector<int64_t> Steps(const std::string& path) {
  std::vector<int64_t> steps;
  for (const Scalar& scalar : Scalars(ReadEvents(path))) {
    EXPECT_EQ(scalar.value, static_cast<float>(scalar.step));
    steps.push_back(scalar.step);
  }
  return steps;
}

TEST(RewriteEventsTest, DropsStepsAfterTheCheckpointAndKeepsTheRest) {
  const std::string dir = testdata::NewScratchDir();
  const std::string early = WriteRun(dir, "events.out.tfevents.1700000000.host", 0, 4);
  const std::string late = WriteRun(dir, "events.out.tfevents.1700000100.host", 5, 12);
  const std::string untouched_before = *ReadFile(early);
  ASSERT_TRUE(WriteFileAtomically(dir + "/notes.txt", "not an event file").ok());

  EventRewriteResult result;
  ASSERT_TRUE(RewriteEventsWithoutStepsAfter(dir, 8, &result).ok());
  EXPECT_EQ(result.files_rewritten, 1);
  EXPECT_EQ(result.events_dropped, 4);
  EXPECT_TRUE(result.damaged.empty());
  EXPECT_EQ(*ReadFile(early), untouched_before);
  EXPECT_EQ(Steps(early), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Steps(late), (std::vector<int64_t>{5, 6, 7, 8}));
  const std::vector<Event> late_events = ReadEvents(late);
  EXPECT_EQ(late_events.front().file_version(), "brain.Event:2");
  EXPECT_EQ(*ReadFile(dir + "/notes.txt"), "not an event file");

  // A second rewrite at the same step changes nothing.
  ASSERT_TRUE(RewriteEventsWithoutStepsAfter(dir, 8, &result).ok());
  EXPECT_EQ(result.files_rewritten, 0);
  EXPECT_EQ(result.events_dropped, 0);

  // The resumed run appends in a new file; together they hold every step once.
  absl::StatusOr<std::unique_ptr<EventWriter>> writer = EventWriter::Create(dir, "resumed");
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int64_t step = 9; step <= 12; ++step) ASSERT_TRUE((*writer)->AddScalar("loss", step, step, 500.0).ok());
  ASSERT_TRUE((*writer)->Flush().ok());
  std::vector<int64_t> all;
  for (const std::string& name : FileNames(dir)) {
    if (!absl::StrContains(name, "tfevents")) continue;
    for (int64_t step : Steps(dir + "/" + name)) all.push_back(step);
  }
  EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(RewriteEventsTest, KeepsWhatTheRuleKeepsByTagAndStep) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = WriteRun(dir, "events.out.tfevents.1700000000.host", 0, 5);
  EventRewriteResult result;
  ASSERT_TRUE(RewriteEvents(dir, [](const std::string& tag, int64_t step) {
                EXPECT_EQ(tag, "loss");
                return step % 2 == 0;
              }, &result).ok());
  EXPECT_EQ(result.events_dropped, 3);
  EXPECT_EQ(Steps(path), (std::vector<int64_t>{0, 2, 4}));
  ASSERT_TRUE(RewriteEvents(dir, [](const std::string& tag, int64_t) { return tag != "loss"; }).ok());
  EXPECT_TRUE(Steps(path).empty());
  EXPECT_EQ(ReadEvents(path).front().file_version(), "brain.Event:2");
}

TEST(RewriteEventsTest, CutsATornTailAndRemovesLeftoverTemporaryFiles) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = WriteRun(dir, "events.out.tfevents.1700000000.host", 0, 6);
  // A crash in the middle of writing step 7: half a record at the end.
  std::string bytes = *ReadFile(path);
  std::string record;
  Event event;
  event.set_step(7);
  AppendFramedRecord(event.SerializeAsString(), &record);
  bytes += record.substr(0, record.size() / 2);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  // What a crash during an earlier rewrite leaves (AtomicFile's temporary name).
  ASSERT_TRUE(WriteFileAtomically(path + ".tmp.Ab12Cd", "partial").ok());

  EventRewriteResult result;
  ASSERT_TRUE(RewriteEventsWithoutStepsAfter(dir, 5, &result).ok());
  EXPECT_EQ(result.files_rewritten, 1);
  EXPECT_EQ(result.events_dropped, 1);  // step 6
  ASSERT_THAT(result.damaged, SizeIs(1));
  EXPECT_THAT(result.damaged[0], HasSubstr(path));
  EXPECT_EQ(Steps(path), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(FileNames(dir), (std::vector<std::string>{"events.out.tfevents.1700000000.host"}));
}

TEST(RewriteEventsTest, MissingDirectoryIsNothingToDo) {
  EventRewriteResult result;
  result.files_rewritten = 7;
  ASSERT_TRUE(RewriteEventsWithoutStepsAfter(testdata::NewScratchDir() + "/does/not/exist", 3, &result).ok());
  EXPECT_EQ(result.files_rewritten, 0);
}

}  // namespace
}  // namespace forge
