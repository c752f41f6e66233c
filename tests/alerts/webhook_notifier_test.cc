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

// A receiver on loopback and a notifier sending to it.
class WebhookNotifierTest : public ::testing::Test {
 protected:
  // A receiver answering 500 to its first `failures` requests, and options
  // that send to it with short backoffs, telling errors_ of problems.
  WebhookOptions Receive(int failures = 0) {
    receiver_ = std::make_unique<testing::WebhookReceiver>(failures);
    WebhookOptions options = FastOptions(receiver_->url());
    options.on_error = errors_.Sink();
    return options;
  }
  // Makes notifier_; use under ASSERT_NO_FATAL_FAILURE.
  void Start(WebhookOptions options) {
    auto notifier = WebhookNotifier::Create(std::move(options));
    ASSERT_TRUE(notifier.ok()) << notifier.status();
    notifier_ = *std::move(notifier);
  }
  // Notifies each alert, then waits until all are delivered or given up.
  void Send(const std::vector<Alert>& alerts) {
    for (const Alert& a : alerts) notifier_->Notify(a);
    ASSERT_TRUE(notifier_->Flush(absl::Seconds(10)));
  }

  std::unique_ptr<testing::WebhookReceiver> receiver_;
  Errors errors_;
  ManualClock clock_{absl::FromUnixSeconds(1541203200)};
  std::unique_ptr<WebhookNotifier> notifier_;
};

TEST_F(WebhookNotifierTest, PostsJsonWithATextFieldSlackRenders) {
  ASSERT_NO_FATAL_FAILURE(Start(Receive()));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("dead/orders/2018-11-03/3")}));
  ASSERT_THAT(receiver_->bodies(), SizeIs(1));
  EXPECT_EQ(receiver_->bodies()[0],
            "{\"text\":\"landfall: task orders/2018-11-03 is DEAD\","
            "\"kind\":\"task_dead\",\"resolved\":false,"
            "\"key\":\"dead/orders/2018-11-03/3\",\"table\":\"orders\","
            "\"partition\":\"2018-11-03\",\"pool\":\"\","
            "\"time\":\"2018-11-03T00:00:00Z\","
            "\"fields\":{\"error\":\"exit 1\"}}");
  EXPECT_EQ(notifier_->stats().delivered, 1);
}

TEST_F(WebhookNotifierTest, RetriesWithBackoffUntilTheEndpointAccepts) {
  ASSERT_NO_FATAL_FAILURE(Start(Receive(/*failures=*/2)));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("dead/orders/2018-11-03/3")}));
  // Two 500s, then the third request is accepted: one alert delivered.
  EXPECT_THAT(receiver_->bodies(), SizeIs(3));
  const WebhookStats stats = notifier_->stats();
  EXPECT_EQ(stats.requests, 3);
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.given_up, 0);
  ASSERT_THAT(errors_.Get(), SizeIs(2));
  EXPECT_THAT(errors_.Get()[0], HasSubstr("HTTP 500 (trying again)"));
}

TEST_F(WebhookNotifierTest, GivesUpAfterMaxAttempts) {
  WebhookOptions options = Receive(/*failures=*/100);
  options.max_attempts = 3;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("k")}));
  EXPECT_THAT(receiver_->bodies(), SizeIs(3));
  EXPECT_EQ(notifier_->stats().given_up, 1);
}

TEST_F(WebhookNotifierTest, EndpointThatNeverAnswersTimesOutWithoutBlocking) {
  WebhookOptions options = Receive();
  receiver_->Hang();
  options.timeout = absl::Milliseconds(300);
  options.max_attempts = 1;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  const absl::Time start = absl::Now();
  notifier_->Notify(DeadAlert("a"));
  notifier_->Notify(DeadAlert("b"));
  // Notify only queues.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(250));
  ASSERT_TRUE(notifier_->Flush(absl::Seconds(10)));
  const absl::Duration took = absl::Now() - start;
  // Two requests, each ended by the 300ms timeout.
  EXPECT_GE(took, absl::Milliseconds(600));
  EXPECT_LT(took, absl::Seconds(8));
  EXPECT_EQ(notifier_->stats().given_up, 2);
  ASSERT_THAT(errors_.Get(), SizeIs(2));
  EXPECT_THAT(errors_.Get()[0], HasSubstr("Timeout was reached"));
}

TEST_F(WebhookNotifierTest, ErrorsNeverShowTheUrlsSecretPath) {
  WebhookOptions options = Receive(/*failures=*/1);
  options.max_attempts = 1;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("a")}));
  // And a transport error, which libcurl words with the URL.
  options.urls = {"http://127.0.0.1:1/hooks/T000/SECRET"};
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("a")}));
  ASSERT_THAT(errors_.Get(), SizeIs(2));
  for (const std::string& e : errors_.Get()) {
    EXPECT_THAT(e, Not(HasSubstr("SECRET")));
    EXPECT_THAT(e, HasSubstr("http://127.0.0.1"));
  }
  EXPECT_EQ(WebhookNotifier::RedactUrl(
                "https://user:token@hooks.slack.com/services/T/B/X?q=1"),
            "https://hooks.slack.com/...");
}

TEST_F(WebhookNotifierTest, SameKeyWithinTheIntervalIsSentOnce) {
  WebhookOptions options = Receive();
  options.clock = &clock_;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  notifier_->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  notifier_->Notify(DeadAlert("dead/orders/2018-11-03/3"));
  Alert resolved = DeadAlert("dead/orders/2018-11-03/3");
  resolved.resolved = true;  // A recovery is another alert.
  notifier_->Notify(resolved);
  clock_.Advance(absl::Hours(1));
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("dead/orders/2018-11-03/3")}));
  EXPECT_THAT(receiver_->bodies(), SizeIs(3));
  EXPECT_EQ(notifier_->stats().deduplicated, 1);
}

TEST_F(WebhookNotifierTest, AConditionBackAfterItsRecoveryIsSentAgain) {
  WebhookOptions options = Receive();
  options.clock = &clock_;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  // The store goes away, comes back, and goes away again within the hour:
  // the last word must be that it is away.
  Alert away = DeadAlert("store");
  Alert back = away;
  back.resolved = true;
  ASSERT_NO_FATAL_FAILURE(Send({away, back, away}));
  ASSERT_THAT(receiver_->bodies(), SizeIs(3));
  EXPECT_THAT(receiver_->bodies()[2], HasSubstr("\"resolved\":false"));
  EXPECT_EQ(notifier_->stats().deduplicated, 0);
}

TEST_F(WebhookNotifierTest, GlobalRateLimitDropsAndCountsTheRest) {
  WebhookOptions options = Receive();
  options.clock = &clock_;
  options.max_per_minute = 2;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  for (int i = 0; i < 5; ++i) {
    notifier_->Notify(DeadAlert("k" + std::to_string(i)));
  }
  clock_.Advance(absl::Seconds(30));  // One token back.
  ASSERT_NO_FATAL_FAILURE(Send({DeadAlert("k5")}));
  const std::vector<std::string> bodies = receiver_->bodies();
  ASSERT_THAT(bodies, SizeIs(3));
  EXPECT_THAT(bodies[2],
              HasSubstr("(3 earlier alerts dropped by the rate limit)"));
  EXPECT_EQ(notifier_->stats().rate_limited, 3);
}

TEST(WebhookNotifierOptionsTest, CreateRefusesBadOptionsWithoutTheSecret) {
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
