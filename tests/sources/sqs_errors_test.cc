// The source against a scripted SQS server: throttling is retried with
// backoff, refused credentials stop the source naming the queue, and the
// requests are the JSON protocol, signed, with no secret in them.
#include <atomic>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "landfall/sqs_source.h"
#include "tests/sources/fake_sqs_server.h"
#include "tests/sources/sqs_test_env.h"

namespace landfall {
namespace {

using testing::Eventually;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeSqsServer;

constexpr char kSecret[] = "fake-secret-access-key-for-tests";

std::shared_ptr<const Pipeline> TestPipeline() {
  return Pipeline::FromText(R"(table { name: "orders" source: true })",
                            SpecFormat::kTextProto, "spec")
      .value();
}

SqsSourceOptions Options(const FakeSqsServer& server) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  setenv("AWS_SESSION_TOKEN", "fake-session-token", 1);
  setenv("AWS_REGION", "eu-west-1", 1);
  SqsSourceOptions options;
  options.queue_url = server.endpoint() + "/123456789012/landing";
  options.wait_time_seconds = 0;
  options.max_backoff = absl::Milliseconds(200);
  return options;
}

// A report callback that keeps each problem's message in `problems`.
auto Recorder(absl::Mutex* mu, std::vector<std::string>* problems) {
  return [mu, problems](const absl::Status& s) {
    absl::MutexLock lock(mu);
    problems->push_back(std::string(s.message()));
  };
}

constexpr char kOneMessage[] =
    R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"h1",)"
    R"("Body":"{\"event_id\":\"e1\",\"table\":\"orders\",\"partition\":\"p\"}"}]})";

TEST(SqsErrorsTest, ThrottlingIsRetriedWithBackoffThenDelivered) {
  int receives = 0;
  FakeSqsServer server([&](const FakeRequest& r) -> FakeResponse {
    if (r.action == "ReceiveMessage") {
      ++receives;
      if (receives <= 3) {
        return {400, R"({"__type":"com.amazonaws.sqs#ThrottlingException",)"
                     R"("message":"Rate exceeded"})"};
      }
      if (receives == 4) return {200, kOneMessage};
      return {200, "{}"};
    }
    if (r.action == "DeleteMessageBatch") {
      return {200, R"({"Successful":[{"Id":"0"}]})"};
    }
    return {200, R"({"Attributes":{}})"};
  });
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), Options(server)).value();
  absl::Mutex mu;
  std::vector<Arrival> delivered;
  std::vector<std::string> problems;
  ASSERT_TRUE(source
                  ->StartReporting(
                      [&](std::vector<Arrival> a) {
                        absl::MutexLock lock(&mu);
                        delivered.insert(delivered.end(), a.begin(), a.end());
                        return absl::OkStatus();
                      },
                      Recorder(&mu, &problems))
                  .ok());
  EXPECT_TRUE(Eventually([&] { return source->stats().deleted == 1; },
                         absl::Seconds(10)));
  source->Stop();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].event_id(), "e1");
  ASSERT_GE(problems.size(), 3u);
  EXPECT_NE(problems[0].find("ThrottlingException"), std::string::npos);
  EXPECT_TRUE(source->status().ok());
  // The delete names the received handle, after the delivery.
  bool deleted = false;
  for (const FakeRequest& r : server.requests()) {
    if (r.action == "DeleteMessageBatch") {
      EXPECT_NE(r.body.find("\"ReceiptHandle\":\"h1\""), std::string::npos);
      deleted = true;
    }
  }
  EXPECT_TRUE(deleted);
}

// A receive of 10 large messages is larger than the HTTP client's default
// cap on bodies: it is read whole, not refused (and received again and
// again until the queue's redrive policy took the messages away).
TEST(SqsErrorsTest, AReceiveOfLargeMessagesIsReadWhole) {
  const std::string padding(600 << 10, ' ');
  std::string messages;
  for (int i = 0; i < 10; ++i) {
    absl::StrAppend(&messages, i == 0 ? "" : ",", R"({"MessageId":"m)", i,
                    R"(","ReceiptHandle":"h)", i,
                    R"(","Body":"{\"event_id\":\"e)", i, R"(\",)", padding,
                    R"(\"table\":\"orders\",\"partition\":\"p\"}"})");
  }
  const std::string batch = absl::StrCat(R"({"Messages":[)", messages, "]}");
  int receives = 0;
  FakeSqsServer server([&](const FakeRequest& r) -> FakeResponse {
    if (r.action == "ReceiveMessage") {
      return {200, ++receives == 1 ? batch : "{}"};
    }
    if (r.action == "DeleteMessageBatch") {
      std::string ok;
      for (int i = 0; i < 10; ++i) {
        absl::StrAppend(&ok, i == 0 ? "" : ",", R"({"Id":")", i, R"("})");
      }
      return {200, absl::StrCat(R"({"Successful":[)", ok, "]}")};
    }
    return {200, R"({"Attributes":{}})"};
  });
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), Options(server)).value();
  absl::Mutex mu;
  size_t delivered = 0;
  std::vector<std::string> problems;
  ASSERT_TRUE(source
                  ->StartReporting(
                      [&](std::vector<Arrival> a) {
                        absl::MutexLock lock(&mu);
                        delivered += a.size();
                        return absl::OkStatus();
                      },
                      Recorder(&mu, &problems))
                  .ok());
  EXPECT_TRUE(Eventually(
      [&] {
        absl::MutexLock lock(&mu);
        return delivered == 10;
      },
      absl::Seconds(10)));
  source->Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(delivered, 10u);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(SqsErrorsTest, RefusedCredentialsStopTheSourceNamingTheQueue) {
  std::atomic<bool> refuse{false};
  FakeSqsServer server([&](const FakeRequest& r) -> FakeResponse {
    if (r.action == "ReceiveMessage" && refuse.load()) {
      return {
          400,
          R"({"__type":"com.amazonaws.sqs#InvalidClientTokenId",)"
          R"("message":"The security token included in the request is invalid."})"};
    }
    return {200, "{}"};
  });
  const SqsSourceOptions options = Options(server);
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), options).value();
  ASSERT_TRUE(
      source->Start([](std::vector<Arrival>) { return absl::OkStatus(); })
          .ok());
  refuse.store(true);
  EXPECT_TRUE(
      Eventually([&] { return !source->status().ok(); }, absl::Seconds(10)));
  const absl::Status s = source->status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
  EXPECT_NE(s.message().find(options.queue_url), absl::string_view::npos);
  EXPECT_EQ(s.message().find(kSecret), absl::string_view::npos);
  // Stopped: no more receives.
  const size_t seen = server.requests().size();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(server.requests().size(), seen);
  source->Stop();
}

// The handles in a ChangeMessageVisibilityBatch body, in order.
std::vector<std::string> Handles(const std::string& body) {
  std::vector<std::string> out;
  const std::string key = "\"ReceiptHandle\":\"";
  for (size_t at = body.find(key); at != std::string::npos;
       at = body.find(key, at)) {
    at += key.size();
    out.push_back(body.substr(at, body.find('"', at) - at));
  }
  return out;
}

TEST(SqsErrorsTest, VisibilityIsExtendedTenAtATimeAndAFailedEntrySoonAgain) {
  // Twelve messages in one receive; the commit waits until the extender has
  // made three calls. The first call's second entry fails.
  std::string messages;
  for (int i = 1; i <= 12; ++i) {
    absl::StrAppend(&messages, i > 1 ? "," : "", R"({"MessageId":"m)", i,
                    R"(","ReceiptHandle":"h)", i,
                    R"(","Body":"{\"event_id\":\"e)", i,
                    R"(\",\"table\":\"orders\",\"partition\":\"p\"}"})");
  }
  absl::Mutex mu;
  std::vector<std::vector<std::string>> calls;
  bool received = false;
  FakeSqsServer server([&](const FakeRequest& r) -> FakeResponse {
    if (r.action == "ReceiveMessage") {
      absl::MutexLock lock(&mu);
      if (received) return {200, "{}"};
      received = true;
      return {200, absl::StrCat(R"({"Messages":[)", messages, "]}")};
    }
    if (r.action == "ChangeMessageVisibilityBatch") {
      absl::MutexLock lock(&mu);
      calls.push_back(Handles(r.body));
      if (calls.size() == 1) {
        return {200, R"({"Successful":[{"Id":"0"}],"Failed":[{"Id":"1",)"
                     R"("Code":"InternalError","Message":"try later",)"
                     R"("SenderFault":false}]})"};
      }
      return {200, "{}"};
    }
    if (r.action == "DeleteMessageBatch") return {200, "{}"};
    return {200, R"({"Attributes":{}})"};
  });
  SqsSourceOptions options = Options(server);
  // Rounds each second; a message is due 2s after its last extension.
  options.visibility_timeout = absl::Seconds(4);
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), options).value();
  std::vector<std::string> problems;
  ASSERT_TRUE(source
                  ->StartReporting(
                      [&](std::vector<Arrival>) {
                        absl::MutexLock lock(&mu);
                        auto three = [&] { return calls.size() >= 3; };
                        mu.AwaitWithTimeout(absl::Condition(&three),
                                            absl::Seconds(15));
                        return absl::OkStatus();
                      },
                      Recorder(&mu, &problems))
                  .ok());
  EXPECT_TRUE(Eventually([&] { return source->stats().deleted == 12; },
                         absl::Seconds(20)));
  source->Stop();
  absl::MutexLock lock(&mu);
  ASSERT_GE(calls.size(), 3u);
  std::vector<std::string> all = calls[0];
  all.insert(all.end(), calls[1].begin(), calls[1].end());
  EXPECT_EQ(calls[0].size(), 10u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 12u);
  // One round later only the failed one is due again: the others were
  // extended.
  EXPECT_EQ(calls[2], std::vector<std::string>{calls[0][1]});
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("visibility timeout not extended (InternalError"),
            std::string::npos)
      << problems[0];
}

// A server that refuses session token "old" as expired, and also "new"
// when `refuse_new`.
FakeSqsServer::Handler RotatingTokens(bool refuse_new, int* receives) {
  return [refuse_new, receives](const FakeRequest& r) -> FakeResponse {
    if (r.action != "ReceiveMessage") return {200, R"({"Attributes":{}})"};
    ++*receives;
    const std::string token = r.headers.at("x-amz-security-token");
    if (token == "old" || refuse_new) {
      return {400, R"({"__type":"com.amazonaws.sqs#ExpiredToken",)"
                   R"("message":"The security token included in the request )"
                   R"(is expired"})"};
    }
    return {200, *receives == 2 ? kOneMessage : "{}"};
  };
}

// A source that read session token "old", started once the environment
// holds "new": the token rotated meanwhile.
std::unique_ptr<SqsSource> StartAfterRotation(const FakeSqsServer& server,
                                              std::vector<Arrival>* delivered,
                                              absl::Mutex* mu) {
  SqsSourceOptions options = Options(server);
  setenv("AWS_SESSION_TOKEN", "old", 1);
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), options).value();
  setenv("AWS_SESSION_TOKEN", "new", 1);
  EXPECT_TRUE(source
                  ->Start([=](std::vector<Arrival> a) {
                    absl::MutexLock lock(mu);
                    delivered->insert(delivered->end(), a.begin(), a.end());
                    return absl::OkStatus();
                  })
                  .ok());
  return source;
}

TEST(SqsErrorsTest, AnExpiredTokenIsReadAgainAndTheCallRetried) {
  int receives = 0;
  FakeSqsServer server(RotatingTokens(/*refuse_new=*/false, &receives));
  absl::Mutex mu;
  std::vector<Arrival> delivered;
  std::unique_ptr<SqsSource> source =
      StartAfterRotation(server, &delivered, &mu);
  EXPECT_TRUE(Eventually([&] { return source->stats().deleted == 1; },
                         absl::Seconds(10)));
  source->Stop();
  EXPECT_TRUE(source->status().ok()) << source->status();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].event_id(), "e1");
}

TEST(SqsErrorsTest, FreshCredentialsRefusedTooStopTheSourceAfterOneRetry) {
  int receives = 0;
  FakeSqsServer server(RotatingTokens(/*refuse_new=*/true, &receives));
  absl::Mutex mu;
  std::vector<Arrival> delivered;
  std::unique_ptr<SqsSource> source =
      StartAfterRotation(server, &delivered, &mu);
  EXPECT_TRUE(
      Eventually([&] { return !source->status().ok(); }, absl::Seconds(10)));
  source->Stop();
  EXPECT_TRUE(absl::IsUnauthenticated(source->status())) << source->status();
  int tokens_old = 0, tokens_new = 0;
  for (const FakeRequest& r : server.requests()) {
    if (r.action != "ReceiveMessage") continue;
    const std::string token = r.headers.at("x-amz-security-token");
    tokens_old += token == "old";
    tokens_new += token == "new";
  }
  EXPECT_EQ(tokens_old, 1);
  EXPECT_EQ(tokens_new, 1);
}

TEST(SqsErrorsTest, RequestsAreSignedJsonProtocolWithoutTheSecret) {
  FakeSqsServer server([](const FakeRequest&) -> FakeResponse {
    return {200, "{}"};
  });
  std::unique_ptr<SqsSource> source =
      NewSqsSource(TestPipeline(), Options(server)).value();
  ASSERT_TRUE(
      source->Start([](std::vector<Arrival>) { return absl::OkStatus(); })
          .ok());
  EXPECT_TRUE(Eventually([&] { return server.requests().size() >= 2; },
                         absl::Seconds(10)));
  source->Stop();
  const std::vector<FakeRequest> requests = server.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].action, "GetQueueAttributes");
  EXPECT_EQ(requests[1].action, "ReceiveMessage");
  for (const FakeRequest& r : requests) {
    auto header = [&](const std::string& name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    EXPECT_EQ(header("content-type"), "application/x-amz-json-1.0");
    EXPECT_EQ(header("x-amz-security-token"), "fake-session-token");
    const std::string authorization = header("authorization");
    EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDFAKE/", 0),
              0u)
        << authorization;
    EXPECT_NE(authorization.find("/eu-west-1/sqs/aws4_request, SignedHeaders="
                                 "content-type;host;x-amz-date;"
                                 "x-amz-security-token;x-amz-target, "),
              std::string::npos)
        << authorization;
    for (const auto& [name, value] : r.headers) {
      EXPECT_EQ(value.find(kSecret), std::string::npos) << name;
    }
    EXPECT_EQ(r.body.find(kSecret), std::string::npos);
  }
}

}  // namespace
}  // namespace landfall
