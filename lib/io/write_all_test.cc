#include "lib/io/write_all.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;

TEST(WriteAllTest, UsageExample) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_TRUE(WriteAll(fds[1], "hello", "a pipe").ok());
  ::close(fds[1]);
  char buffer[16];
  EXPECT_EQ(::read(fds[0], buffer, sizeof(buffer)), 5);
  EXPECT_EQ(std::string(buffer, 5), "hello");
  ::close(fds[0]);
}

// A pipe holds 64 KiB, so writing 4 MiB into it takes many short writes while the reader drains
// it.
TEST(WriteAllTest, FinishesShortWrites) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string data(4 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 251);
  std::string received;
  std::thread reader([&] {
    char buffer[1 << 12];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) received.append(buffer, static_cast<size_t>(n));
  });
  const absl::Status status = WriteAll(fds[1], data, "a pipe");
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(received == data) << "received " << received.size() << " of " << data.size() << " bytes";
}

TEST(WriteAllTest, FailureNamesThePathAndKeepsTheErrno) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const absl::Status status = WriteAll(fd, "data", "/dev/null");
  ::close(fd);
  EXPECT_EQ(status.code(), absl::ErrnoToStatusCode(EBADF)) << status;
  EXPECT_THAT(status.message(), HasSubstr("cannot write /dev/null: "));
  EXPECT_TRUE(WriteAll(-1, "", "nothing").ok()) << "an empty buffer needs no write";
}

}  // namespace
}  // namespace forge
