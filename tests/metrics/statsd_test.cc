// DogStatsD lines received on a real UDP socket on loopback.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/metrics.h"
#include "tests/metrics/metrics_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class StatsdTest : public MetricsTestBase {
 protected:
  void SetUp() override {
    MetricsTestBase::SetUp();
    MetricsOptions options;
    options.observation_buffer = 1000;
    Start(options);
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    MetricsTestBase::TearDown();
  }

  // The datagrams waiting on the socket, each waited for up to 5 s until
  // one does not come within 200 ms after the first.
  std::vector<std::string> Receive() {
    std::vector<std::string> datagrams;
    for (int i = 0; i < 1000; ++i) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, datagrams.empty() ? 5000 : 200) <= 0) break;
      char buffer[65536];
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      datagrams.emplace_back(buffer, n);
    }
    return datagrams;
  }

  static std::vector<std::string> Lines(
      const std::vector<std::string>& datagrams) {
    std::vector<std::string> lines;
    for (const std::string& d : datagrams) {
      for (absl::string_view line : absl::StrSplit(d, '\n')) {
        lines.emplace_back(line);
      }
    }
    return lines;
  }

  StatsdOptions Options() {
    StatsdOptions options;
    options.address = "127.0.0.1:" + std::to_string(port_);
    options.tags = {"env:test"};
    options.interval = absl::Hours(1);  // Flush() sends.
    return options;
  }

  int fd_ = -1;
  int port_ = 0;
};

TEST_F(StatsdTest, AUdpSocketReceivesTaggedDogStatsdLines) {
  RunSmallNight();
  auto exporter = StatsdExporter::Start(metrics_.get(), Options());
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  (*exporter)->Flush();
  const std::vector<std::string> lines = Lines(Receive());
  EXPECT_THAT(lines,
              Contains("landfall.attempts_started:3|c|#env:test,pool:redshift,"
                       "class:etl"));
  EXPECT_THAT(lines, Contains("landfall.attempts_failed:1|c|#env:test,pool:"
                              "redshift,class:etl,reason:fatal"));
  EXPECT_THAT(lines, Contains("landfall.tasks:2|g|#env:test,pool:bigquery,"
                              "class:adhoc,state:ready"));
  EXPECT_THAT(lines, Contains("landfall.dead_letter_tasks:1|g|#env:test"));
  EXPECT_THAT(lines, Contains("landfall.queue_wait_seconds:5|h|#env:test,pool:"
                              "redshift,class:etl"));
  // Every line is name:value|type with tags.
  EXPECT_THAT(lines, Each(AllOf(StartsWith("landfall."), HasSubstr(":"),
                                HasSubstr("|#env:test"))));
}

TEST_F(StatsdTest, CountersSendTheirIncreaseSinceTheLastSend) {
  RunSmallNight();
  auto exporter = StatsdExporter::Start(metrics_.get(), Options());
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  (*exporter)->Flush();
  Receive();
  Arrive("e3");
  (*exporter)->Flush();
  const std::vector<std::string> lines = Lines(Receive());
  EXPECT_THAT(lines, Contains("landfall.arrivals:1|c|#env:test"));
  EXPECT_THAT(lines, Not(Contains(StartsWith("landfall.attempts_started:"))));
  EXPECT_THAT(lines, Not(Contains(StartsWith("landfall.queue_wait_seconds:"))));
}

TEST_F(StatsdTest, DatagramsStayWithinTheirSize) {
  RunSmallNight();
  StatsdOptions options = Options();
  options.max_datagram = 200;
  auto exporter = StatsdExporter::Start(metrics_.get(), options);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  (*exporter)->Flush();
  const std::vector<std::string> datagrams = Receive();
  EXPECT_GT(datagrams.size(), 3u);
  for (const std::string& d : datagrams) {
    EXPECT_LE(d.size(), 200u);
    EXPECT_NE(d.back(), '\n');
  }
}

TEST_F(StatsdTest, BadAddressesAndTagsAreRefused) {
  StatsdOptions options = Options();
  options.address = "localhost";
  EXPECT_EQ(StatsdExporter::Start(metrics_.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.tags = {"team|data"};
  auto refused = StatsdExporter::Start(metrics_.get(), options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("team|data"));
}

TEST_F(StatsdTest, StoppingSendsWhatIsDue) {
  auto exporter = StatsdExporter::Start(metrics_.get(), Options());
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  Arrive("e1");
  exporter->reset();
  EXPECT_THAT(Lines(Receive()), Contains("landfall.arrivals:1|c|#env:test"));
}

}  // namespace
}  // namespace landfall::testing
