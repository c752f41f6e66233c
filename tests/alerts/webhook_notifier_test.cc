#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/notifier.h"
#include "tests/alerts/webhook_receiver.h"

namespace landfall {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

Alert DeadAlert(const std::string& key) {
  Alert a;
  a.kind = Alert::Kind::kTaskDead;
  a.key = key;
  a.table = "orders";
  a.partition = "2018-11-03";
  a.text = "landfall: task orders/2018-11-03 is DEAD";
  a.fields["error"] = "exit 1";
  a.time = absl::FromUnixSeconds(1541203200);
  return a;
}

// Collects the notifier's reported problems.
struct Errors {
  absl::Mutex mu;
  std::vector<std::string> messages;
  std::function<void(const absl::Status&)> Sink() {
    return [this](const absl::Status& s) {
      absl::MutexLock lock(&mu);
      messages.emplace_back(s.message());
    };
  }
  std::vector<std::string> Get() {
    absl::MutexLock lock(&mu);
    return messages;
  }
};

WebhookOptions FastOptions(const std::string& url) {
  WebhookOptions options;
  options.urls = {url};
  options.timeout = absl::Seconds(5);
  options.initial_backoff = absl::Milliseconds(10);
  options.max_backoff = absl::Milliseconds(40);
  return options;
}

TEST(WebhookNotifierTest, PostsJsonWithATextFieldSlackRenders) {
  testing::WebhookReceiver receiver;
  auto notifier = WebhookNotifier::Create(FastOptions(receiver.url()));
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  ASSERT_THAT(receiver.bodies(), SizeIs(1));
  EXPECT_EQ(receiver.bodies()[0],
            "{\"text\":\"landfall: task orders/2018-11-03 is DEAD\","
            "\"kind\":\"task_dead\",\"resolved\":false,"
            "\"key\":\"dead/orders/2018-11-03/3\",\"table\":\"orders\","
            "\"partition\":\"2018-11-03\",\"pool\":\"\","
            "\"time\":\"2018-11-03T00:00:00Z\","
            "\"fields\":{\"error\":\"exit 1\"}}");
  EXPECT_EQ((*notifier)->stats().delivered, 1);
}

TEST(WebhookNotifierTest, RetriesWithBackoffUntilTheEndpointAccepts) {
  testing::WebhookReceiver receiver(/*failures=*/2);
  Errors errors;
  WebhookOptions options = FastOptions(receiver.url());
  options.on_error = errors.Sink();
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  // Two 500s, then the third request is accepted: one alert delivered.
  EXPECT_THAT(receiver.bodies(), SizeIs(3));
  const WebhookStats stats = (*notifier)->stats();
  EXPECT_EQ(stats.requests, 3);
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.given_up, 0);
  ASSERT_THAT(errors.Get(), SizeIs(2));
  EXPECT_THAT(errors.Get()[0], HasSubstr("HTTP 500 (trying again)"));
}

TEST(WebhookNotifierTest, GivesUpAfterMaxAttempts) {
  testing::WebhookReceiver receiver(/*failures=*/100);
  WebhookOptions options = FastOptions(receiver.url());
  options.max_attempts = 3;
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Notify(DeadAlert("k"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  EXPECT_THAT(receiver.bodies(), SizeIs(3));
  EXPECT_EQ((*notifier)->stats().given_up, 1);
}

TEST(WebhookNotifierTest, EndpointThatNeverAnswersTimesOutWithoutBlocking) {
  testing::WebhookReceiver receiver;
  receiver.Hang();
  Errors errors;
  WebhookOptions options = FastOptions(receiver.url());
  options.timeout = absl::Milliseconds(300);
  options.max_attempts = 1;
  options.on_error = errors.Sink();
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  const absl::Time start = absl::Now();
  (*notifier)->Notify(DeadAlert("a"));
  (*notifier)->Notify(DeadAlert("b"));
  // Notify only queues.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(250));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  const absl::Duration took = absl::Now() - start;
  // Two requests, each ended by the 300ms timeout.
  EXPECT_GE(took, absl::Milliseconds(600));
  EXPECT_LT(took, absl::Seconds(8));
  EXPECT_EQ((*notifier)->stats().given_up, 2);
  ASSERT_THAT(errors.Get(), SizeIs(2));
  EXPECT_THAT(errors.Get()[0], HasSubstr("Timeout was reached"));
}

TEST(WebhookNotifierTest, ErrorsNeverShowTheUrlsSecretPath) {
  testing::WebhookReceiver receiver(/*failures=*/1);
  Errors errors;
  WebhookOptions options = FastOptions(receiver.url());
  options.max_attempts = 1;
  options.on_error = errors.Sink();
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Notify(DeadAlert("a"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  // And a transport error, which libcurl words with the URL.
  WebhookOptions closed = FastOptions("http://127.0.0.1:1/hooks/T000/SECRET");
  closed.max_attempts = 1;
  closed.on_error = errors.Sink();
  auto refused = WebhookNotifier::Create(closed);
  ASSERT_TRUE(refused.ok()) << refused.status();
  (*refused)->Notify(DeadAlert("a"));
  ASSERT_TRUE((*refused)->Flush(absl::Seconds(10)));
  ASSERT_THAT(errors.Get(), SizeIs(2));
  for (const std::string& e : errors.Get()) {
    EXPECT_THAT(e, Not(HasSubstr("SECRET")));
    EXPECT_THAT(e, HasSubstr("http://127.0.0.1"));
  }
  EXPECT_EQ(WebhookNotifier::RedactUrl(
                "https://user:token@hooks.slack.com/services/T/B/X?q=1"),
            "https://hooks.slack.com/...");
}

TEST(WebhookNotifierTest, SameKeyWithinTheIntervalIsSentOnce) {
  testing::WebhookReceiver receiver;
  ManualClock clock(absl::FromUnixSeconds(1541203200));
  WebhookOptions options = FastOptions(receiver.url());
  options.clock = &clock;
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  (*notifier)->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  (*notifier)->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  Alert resolved = DeadAlert("dead/orders/2018-11-03/3");
  resolved.resolved = true;  // A recovery is another alert.
  (*notifier)->Notify(resolved);
  clock.Advance(absl::Hours(1));
  (*notifier)->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  EXPECT_THAT(receiver.bodies(), SizeIs(3));
  EXPECT_EQ((*notifier)->stats().deduplicated, 1);
}

TEST(WebhookNotifierTest, AConditionBackAfterItsRecoveryIsSentAgain) {
  testing::WebhookReceiver receiver;
  ManualClock clock(absl::FromUnixSeconds(1541203200));
  WebhookOptions options = FastOptions(receiver.url());
  options.clock = &clock;
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  // The store goes away, comes back, and goes away again within the hour:
  // the last word must be that it is away.
  Alert away = DeadAlert("store");
  Alert back = away;
  back.resolved = true;
  (*notifier)->Notify(away);
  (*notifier)->Notify(back);
  (*notifier)->Notify(away);
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  ASSERT_THAT(receiver.bodies(), SizeIs(3));
  EXPECT_THAT(receiver.bodies()[2], HasSubstr("\"resolved\":false"));
  EXPECT_EQ((*notifier)->stats().deduplicated, 0);
}

TEST(WebhookNotifierTest, GlobalRateLimitDropsAndCountsTheRest) {
  testing::WebhookReceiver receiver;
  ManualClock clock(absl::FromUnixSeconds(1541203200));
  WebhookOptions options = FastOptions(receiver.url());
  options.clock = &clock;
  options.max_per_minute = 2;
  auto notifier = WebhookNotifier::Create(options);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  for (int i = 0; i < 5; ++i) {
    (*notifier)->Notify(DeadAlert("k" + std::to_string(i)));
  }
  clock.Advance(absl::Seconds(30));  // One token back.
  (*notifier)->Notify(DeadAlert("k5"));
  ASSERT_TRUE((*notifier)->Flush(absl::Seconds(10)));
  const std::vector<std::string> bodies = receiver.bodies();
  ASSERT_THAT(bodies, SizeIs(3));
  EXPECT_THAT(bodies[2],
              HasSubstr("(3 earlier alerts dropped by the rate limit)"));
  EXPECT_EQ((*notifier)->stats().rate_limited, 3);
}

TEST(WebhookNotifierTest, CreateRefusesBadOptionsWithoutShowingTheSecret) {
  WebhookOptions options;
  EXPECT_THAT(WebhookNotifier::Create(options).status().message(),
              HasSubstr("no URL"));
  options.urls = {"ftp://example.com/hooks/SECRET"};
  const absl::Status s = WebhookNotifier::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("ftp://example.com/..."));
  EXPECT_THAT(s.message(), Not(HasSubstr("SECRET")));
}

}  // namespace
}  // namespace landfall
