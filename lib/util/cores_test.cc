#include "lib/util/cores.h"

#include <sched.h>

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(UsableCoresTest, AtLeastOneAndNoMoreThanTheMachine) {
  const int cores = UsableCores();
  EXPECT_GE(cores, 1);
  const unsigned machine = std::thread::hardware_concurrency();
  if (machine > 0) {
    EXPECT_LE(cores, static_cast<int>(machine));
  }
}

// A thread pinned to one CPU (as taskset -c 0 would pin the process) gets 1.
TEST(UsableCoresTest, FollowsTheAffinityMask) {
  int cores = 0;
  bool pinned = false;
  // On a thread of its own, so the test's main thread keeps its mask.
  std::thread thread([&] {
    cpu_set_t current;
    CPU_ZERO(&current);
    if (sched_getaffinity(0, sizeof(current), &current) != 0) return;
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &current)) ++cpu;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one) != 0) return;
    pinned = true;
    cores = UsableCores();
  });
  thread.join();
  ASSERT_TRUE(pinned) << "sched_setaffinity failed";
  EXPECT_EQ(cores, 1);
}

TEST(CoreShareTest, DividesTheMachineButNotAnAlreadyNarrowedSet) {
  EXPECT_EQ(CoreShare(1), UsableCores());
  const int machine = static_cast<int>(std::thread::hardware_concurrency());
  if (UsableCores() == machine) {
    EXPECT_EQ(CoreShare(2), std::max(1, machine / 2));
    EXPECT_EQ(CoreShare(4 * machine), 1);
  }
  // A process the launcher pinned to one CPU keeps it.
  int share = 0;
  std::thread thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof(one), &one) == 0) share = CoreShare(8);
  });
  thread.join();
  EXPECT_EQ(share, 1);
}

TEST(CpuQuotaTest, ParsesCgroupCpuMax) {
  EXPECT_EQ(CpuQuotaFromCgroupMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(CpuQuotaFromCgroupMax("200000 100000\n"), 2);
  EXPECT_EQ(CpuQuotaFromCgroupMax("150000 100000"), 2);  // rounded up
  EXPECT_EQ(CpuQuotaFromCgroupMax("50000 100000\n"), 1);
  EXPECT_EQ(CpuQuotaFromCgroupMax("1000 100000\n"), 1);  // at least one
  EXPECT_EQ(CpuQuotaFromCgroupMax("400000 50000"), 8);
  EXPECT_EQ(CpuQuotaFromCgroupMax(""), std::nullopt);
  EXPECT_EQ(CpuQuotaFromCgroupMax("garbage"), std::nullopt);
  EXPECT_EQ(CpuQuotaFromCgroupMax("100000 0"), std::nullopt);
  EXPECT_EQ(CpuQuotaFromCgroupMax("-1 100000"), std::nullopt);
}

TEST(CpuQuotaTest, FindsTheCgroupV2Path) {
  EXPECT_EQ(CgroupV2Path("0::/user.slice/session-1.scope\n"), "/user.slice/session-1.scope");
  EXPECT_EQ(CgroupV2Path("0::/\n"), "/");
  // Hybrid hierarchies list v1 controllers first.
  EXPECT_EQ(CgroupV2Path("12:cpu,cpuacct:/docker/abc\n0::/docker/abc\n"), "/docker/abc");
  EXPECT_EQ(CgroupV2Path("4:cpu,cpuacct:/\n"), std::nullopt);
  EXPECT_EQ(CgroupV2Path(""), std::nullopt);
}

}  // namespace
}  // namespace forge
