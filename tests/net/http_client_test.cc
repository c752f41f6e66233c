// The shared HTTP client's limit on response bodies, against a real server
// on loopback: a body past it fails with a clear error whether its length
// was announced or streamed, and one within it is read whole.
#include "lib/net/http_client.h"

#include <httplib.h>

#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

using ::testing::HasSubstr;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // /big: 5 MiB with a Content-Length; /stream: 5 MiB chunked, no length.
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(size_t{5} << 20, 'x'), "text/plain");
    });
    server_.Get("/stream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(
          "text/plain", [](size_t offset, httplib::DataSink& sink) {
            if (offset >= (size_t{5} << 20)) {
              sink.done();
              return true;
            }
            const std::string chunk(64 << 10, 'y');
            return sink.write(chunk.data(), chunk.size());
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpClientTest, ABodyPastTheDefaultLimitFailsNamingTheLimit) {
  HttpClient client;
  for (const char* path : {"/big", "/stream"}) {
    absl::StatusOr<HttpResponse> r =
        client.Get(Url(path), {}, absl::Seconds(10));
    ASSERT_TRUE(absl::IsResourceExhausted(r.status())) << path << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(Url(path)));
    EXPECT_THAT(r.status().message(),
                HasSubstr("the response body is over 4194304 bytes"));
  }
}

TEST_F(HttpClientTest, ABodyWithinARaisedLimitIsReadWhole) {
  HttpClient client;
  client.set_max_body(size_t{5} << 20);  // Exactly the body's size.
  for (const char* path : {"/big", "/stream"}) {
    absl::StatusOr<HttpResponse> r =
        client.Get(Url(path), {}, absl::Seconds(10));
    ASSERT_TRUE(r.ok()) << path << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), size_t{5} << 20) << path;
  }
  // The same client, limited again, refuses again: the limit is per call.
  client.set_max_body(1024);
  EXPECT_TRUE(absl::IsResourceExhausted(
      client.Get(Url("/big"), {}, absl::Seconds(10)).status()));
}

}  // namespace
}  // namespace landfall::internal
