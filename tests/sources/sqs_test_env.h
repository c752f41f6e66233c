// The SQS emulator the end-to-end tests run against: .ci/fauxqs starts one
// and exports LANDFALL_TEST_SQS_ENDPOINT. Without it a test is skipped,
// saying why; in CI (CI=true) it fails instead, so that CI never passes
// without having run them.
#pragma once

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/sources/sqs/sqs_client.h"
#include "tests/ci_env.h"

namespace landfall::testing {

inline std::string TestSqsEndpoint() {
  const char* e = std::getenv("LANDFALL_TEST_SQS_ENDPOINT");
  return e == nullptr ? "" : e;
}

// Skips the test (fails it in CI) without an emulator.
#define LANDFALL_REQUIRE_SQS_EMULATOR()                                     \
  do {                                                                      \
    if (::landfall::testing::TestSqsEndpoint().empty()) {                   \
      if (::landfall::testing::InCi()) {                                    \
        FAIL() << "CI=true but LANDFALL_TEST_SQS_ENDPOINT is not set: run " \
                  "the tests with bash .ci/test";                           \
      }                                                                     \
      GTEST_SKIP() << "no SQS emulator: LANDFALL_TEST_SQS_ENDPOINT is not " \
                      "set (bash .ci/fauxqs start; eval \"$(bash "          \
                      ".ci/fauxqs env)\")";                                 \
    }                                                                       \
  } while (0)

// Fake credentials and a region for the emulator, in the environment as
// the AWS tools take them; and a client of the emulator.
inline internal::SqsClient EmulatorClient() {
  setenv("AWS_ACCESS_KEY_ID", "AKIDLANDFALLTEST", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "landfall-test-secret-key", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  unsetenv("AWS_SESSION_TOKEN");
  internal::SqsClientConfig config =
      internal::ResolveSqsConfig(TestSqsEndpoint() + "/000000000000/probe",
                                 TestSqsEndpoint(), "")
          .value();
  config.credentials = internal::LoadAwsCredentials().value();
  return internal::SqsClient(config);
}

// Waits up to `timeout` for `done`, polling every 20ms.
template <typename F>
bool Eventually(F done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// A queue name no other test (nor process) uses.
inline std::string NewQueueName(const std::string& what) {
  static int counter = 0;
  return absl::StrCat("landfall-", what, "-", getpid(), "-", ++counter);
}

// An S3 event notification of `key` in bucket "lake".
inline std::string S3Notification(const std::string& key,
                                  const std::string& sequencer) {
  return absl::StrCat(
      R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",)",
      R"("awsRegion":"us-east-1","eventTime":"2018-11-04T01:00:00.000Z",)",
      R"("eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",)",
      R"("bucket":{"name":"lake"},"object":{"key":")", key,
      R"(","size":1024,"sequencer":")", sequencer, R"("}}}]})");
}

// The queue's visible and in-flight message counts.
inline std::pair<int, int> QueueDepth(internal::SqsClient& client,
                                      const std::string& url) {
  absl::StatusOr<std::map<std::string, std::string>> a =
      client.GetAttributes(url);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok()) return {-1, -1};
  return {std::atoi((*a)["ApproximateNumberOfMessages"].c_str()),
          std::atoi((*a)["ApproximateNumberOfMessagesNotVisible"].c_str())};
}

}  // namespace landfall::testing
