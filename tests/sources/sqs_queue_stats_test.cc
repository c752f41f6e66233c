// The queue's figures in the metrics: depth by state read with
// GetQueueAttributes from the emulator, the age of the oldest message from
// the SentTimestamp of what the source holds, and a failing poll that is
// counted without stopping the source.
#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "landfall/metrics.h"
#include "landfall/sqs_source.h"
#include "lib/sources/sqs/queue_stats.h"
#include "tests/sources/fake_sqs_server.h"
#include "tests/sources/sqs_test_env.h"

namespace landfall {
namespace {

using internal::QueueStatsOf;
using testing::Eventually;

std::shared_ptr<const Pipeline> OrdersPipeline() {
  return Pipeline::FromText(R"(table { name: "orders" source: true })",
                            SpecFormat::kTextProto, "spec")
      .value();
}

constexpr char kArrival[] =
    R"({"event_id":"e1","table":"orders","partition":"2018-11-03"})";

// The value of `family`'s sample labelled queue=`queue` (and state=`state`
// when given); nullopt when there is none.
std::optional<double> QueueValue(Metrics& metrics, const std::string& family,
                                 const std::string& queue,
                                 const std::string& state = "") {
  MetricLabels labels = {{"queue", queue}};
  if (!state.empty()) labels.emplace_back("state", state);
  for (const MetricFamily& f : metrics.Collect()) {
    if (f.name != family) continue;
    for (const MetricSample& s : f.samples) {
      if (s.labels == labels) return s.value;
    }
  }
  return std::nullopt;
}

TEST(QueueStatsTest, FiguresComeFromTheApproximateNumberAttributes) {
  const absl::Time now = absl::FromUnixSeconds(1541206800);
  const QueueStats stats =
      QueueStatsOf({{"ApproximateNumberOfMessages", "12"},
                    {"ApproximateNumberOfMessagesNotVisible", "3"},
                    {"ApproximateNumberOfMessagesDelayed", "x"}},
                   absl::Seconds(90), now);
  EXPECT_EQ(stats.visible, 12);
  EXPECT_EQ(stats.in_flight, 3);
  EXPECT_FALSE(stats.delayed.has_value()) << "not a number is absent";
  EXPECT_EQ(stats.oldest_age_seconds, 90);
  EXPECT_EQ(stats.polled_at, now);
}

TEST(QueueStatsTest, AgeIsZeroForAnEmptyQueueAndUnknownForUnseenMessages) {
  const absl::Time now = absl::Now();
  EXPECT_EQ(
      QueueStatsOf({{"ApproximateNumberOfMessages", "0"}}, std::nullopt, now)
          .oldest_age_seconds,
      0);
  EXPECT_FALSE(
      QueueStatsOf({{"ApproximateNumberOfMessages", "4"}}, std::nullopt, now)
          .oldest_age_seconds.has_value());
  EXPECT_FALSE(QueueStatsOf({}, std::nullopt, now).oldest_age_seconds);
  // A sending clock ahead of ours is no negative age.
  EXPECT_EQ(QueueStatsOf({}, absl::Seconds(-2), now).oldest_age_seconds, 0);
}

TEST(QueueStatsTest, QueueNameIsTheLastSegmentOfItsUrl) {
  EXPECT_EQ(internal::SqsQueueName(
                "https://sqs.eu-west-1.amazonaws.com/123456789012/landing"),
            "landing");
  EXPECT_EQ(internal::SqsQueueName("http://127.0.0.1:4566/000000000000/q/"),
            "q");
}

TEST(QueueStatsTest, AStatsIntervalUnderASecondIsRefused) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  SqsSourceOptions options;
  options.queue_url = "http://127.0.0.1:1/123456789012/landing";
  options.region = "eu-west-1";
  options.stats_interval = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<SqsSource>> source =
      NewSqsSource(OrdersPipeline(), options);
  ASSERT_FALSE(source.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(source.status()));
  EXPECT_NE(source.status().message().find("stats_interval"),
            std::string::npos);
}

class SqsQueueStatsTest : public ::testing::Test {
 protected:
  SqsQueueStatsTest() : metrics_(*OrdersPipeline()) {}

  SqsSourceOptions Options(const std::string& url) {
    SqsSourceOptions options;
    options.queue_url = url;
    options.endpoint = testing::TestSqsEndpoint();
    options.wait_time_seconds = 1;
    options.visibility_timeout = absl::Seconds(10);
    options.metrics = &metrics_;
    options.stats_interval = absl::Seconds(1);
    return options;
  }

  // A source on `url` started with a commit that waits for release_ (up to
  // 30 seconds), so that what it receives stays held; null (and a failure) if
  // it cannot.
  std::unique_ptr<SqsSource> StartHolding(const std::string& url) {
    std::unique_ptr<SqsSource> source =
        NewSqsSource(OrdersPipeline(), Options(url)).value();
    const absl::Status started = source->Start([this](std::vector<Arrival>) {
      // Bounded, so that a test failing before the release still ends.
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (!release_.load() && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(started.ok()) << started;
    return started.ok() ? std::move(source) : nullptr;
  }

  Metrics metrics_;
  std::atomic<bool> release_{false};
};

TEST_F(SqsQueueStatsTest, DepthOfMessagesSentIsInTheMetricsWhenStartReturns) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = testing::EmulatorClient();
  const std::string name = testing::NewQueueName("depth");
  const std::string url = client.CreateQueue(name, {}).value();
  ASSERT_TRUE(
      client.SendBatch(url, std::vector<std::string>(7, kArrival)).ok());
  // The commit waits, so the messages stay held until the figures are read.
  std::unique_ptr<SqsSource> source = StartHolding(url);
  ASSERT_NE(source, nullptr);
  // Read at Start, before anything was received.
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "visible"),
            7);
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "in_flight"),
            0);
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "delayed"),
            0);
  const std::string text = PrometheusText(metrics_.Collect());
  EXPECT_NE(text.find(absl::StrCat("landfall_queue_messages{queue=\"", name,
                                   "\",state=\"visible\"} 7")),
            std::string::npos)
      << text;
  // Then on the source's schedule: all seven received and held.
  EXPECT_TRUE(Eventually(
      [&] {
        return QueueValue(metrics_, "landfall_queue_messages", name,
                          "in_flight") == 7;
      },
      absl::Seconds(10)));
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "visible"),
            0);
  release_.store(true);
  EXPECT_TRUE(Eventually(
      [&] {
        return source->Drained() &&
               QueueValue(metrics_, "landfall_queue_messages", name,
                          "in_flight") == 0;
      },
      absl::Seconds(10)));
  source->Stop();
  EXPECT_GE(source->stats().stats_polls, 2);
  EXPECT_EQ(source->stats().stats_errors, 0);
}

TEST_F(SqsQueueStatsTest, DelayedMessagesAreCountedAndAnEmptyQueueIsAgeZero) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = testing::EmulatorClient();
  const std::string name = testing::NewQueueName("delayed");
  const std::string url =
      client.CreateQueue(name, {{"DelaySeconds", "60"}}).value();
  ASSERT_TRUE(
      client.SendBatch(url, std::vector<std::string>(3, kArrival)).ok());
  std::unique_ptr<SqsSource> source =
      NewSqsSource(OrdersPipeline(), Options(url)).value();
  ASSERT_TRUE(
      source->Start([](std::vector<Arrival>) { return absl::OkStatus(); })
          .ok());
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "delayed"),
            3);
  EXPECT_EQ(QueueValue(metrics_, "landfall_queue_messages", name, "visible"),
            0);
  EXPECT_EQ(
      QueueValue(metrics_, "landfall_queue_oldest_message_age_seconds", name),
      0);
  source->Stop();
}

TEST_F(SqsQueueStatsTest, AgeOfOldestMessageIsHowLongAHeldMessageHasWaited) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = testing::EmulatorClient();
  const std::string name = testing::NewQueueName("age");
  const std::string url = client.CreateQueue(name, {}).value();
  ASSERT_TRUE(client.Send(url, kArrival).ok());
  const absl::Time sent = absl::Now();
  std::unique_ptr<SqsSource> source = StartHolding(url);
  ASSERT_NE(source, nullptr);
  // Not received yet at Start: a visible message of unknown age.
  EXPECT_FALSE(
      QueueValue(metrics_, "landfall_queue_oldest_message_age_seconds", name));
  // Held, its age grows with each poll.
  EXPECT_TRUE(Eventually(
      [&] {
        return QueueValue(metrics_, "landfall_queue_oldest_message_age_seconds",
                          name)
                   .value_or(0) >= 2.0;
      },
      absl::Seconds(10)));
  const double age =
      *QueueValue(metrics_, "landfall_queue_oldest_message_age_seconds", name);
  EXPECT_LE(age, absl::ToDoubleSeconds(absl::Now() - sent) + 1.0);
  release_.store(true);
  source->Stop();
}

TEST(SqsQueueStatsErrorsTest, FailedPollsAreCountedAndTheSourceGoesOn) {
  std::atomic<int> polls{0};
  testing::FakeSqsServer server(
      [&](const testing::FakeRequest& r) -> testing::FakeResponse {
        if (r.action == "GetQueueAttributes" && ++polls > 1) {
          return {500, R"({"__type":"InternalError","message":"boom"})"};
        }
        if (r.action == "GetQueueAttributes") {
          return {200, R"({"Attributes":{"ApproximateNumberOfMessages":"5"}})"};
        }
        return {200, "{}"};
      });
  setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  unsetenv("AWS_SESSION_TOKEN");
  Metrics metrics(*OrdersPipeline());
  SqsSourceOptions options;
  options.queue_url = server.endpoint() + "/123456789012/landing";
  options.region = "eu-west-1";
  options.wait_time_seconds = 0;
  options.metrics = &metrics;
  options.stats_interval = absl::Seconds(1);
  std::unique_ptr<SqsSource> source =
      NewSqsSource(OrdersPipeline(), options).value();
  absl::Mutex mu;
  std::vector<std::string> problems;
  ASSERT_TRUE(source
                  ->StartReporting(
                      [](std::vector<Arrival>) { return absl::OkStatus(); },
                      [&](const absl::Status& s) {
                        absl::MutexLock lock(&mu);
                        problems.push_back(std::string(s.message()));
                      })
                  .ok());
  EXPECT_TRUE(Eventually([&] { return source->stats().stats_errors >= 2; },
                         absl::Seconds(10)));
  EXPECT_TRUE(source->status().ok());
  // The last figures read stay, and the failures are counted beside them.
  EXPECT_EQ(
      QueueValue(metrics, "landfall_queue_messages", "landing", "visible"), 5);
  EXPECT_GE(QueueValue(metrics, "landfall_queue_stats_errors_total", "landing"),
            2);
  source->Stop();
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("queue figures not read"), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find("boom"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace landfall
