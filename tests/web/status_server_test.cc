// The status page over HTTP: each endpoint, escaping of hostile names and
// errors, read-only methods, following a store another process writes, and
// the graph's neighbourhood cap on a real 6,000-table pipeline.
#include "examples/cli/serve/status_server.h"

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "examples/cli/serve/html.h"
#include "examples/cli/serve/state_graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/clock.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHostile[] = "<script>alert(1)</script>";
constexpr char kHostileError[] = "<b>boom</b> \"quoted\" & more";
constexpr char kHostileOrigin[] = "s3://x/<img src=x onerror=alert(2)>";

// A hostile table name is a valid one: names may hold any printable text.
constexpr char kSpec[] = R"(
name: "web"
pool { name: "wh" slots: 3 }
priority_class { name: "etl" }
priority_class { name: "adhoc" }
defaults { pool: "wh" priority_class: "etl" retry { max_attempts: 1 } }
table { name: "src" source: true }
table { name: "<script>alert(1)</script>" upstream: "src" }
table { name: "load" upstream: "src" }
table { name: "mart" upstream: "<script>alert(1)</script>" priority_class: "adhoc" }
)";

std::shared_ptr<const Pipeline> WebPipeline() {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return *pipeline;
}

Arrival SourceArrival(const std::string& id, const std::string& partition) {
  Arrival a;
  a.set_event_id(id);
  a.set_table("src");
  a.set_partition(partition);
  a.set_origin(kHostileOrigin);
  return a;
}

// src/p1 landed; the hostile table's task is dead (so mart is blocked) and
// load's runs.
void MakeDeadAndRunning(Scheduler& s) {
  ASSERT_TRUE(s.Ingest(SourceArrival("e1", "p1")).ok());
  auto claimed = s.Claim("w1", 2);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 2u);
  for (const ClaimedTask& t : *claimed) {
    if (t.task.table == kHostile) {
      ASSERT_TRUE(
          s.Complete(t.task, t.attempt, Outcome::FATAL, kHostileError).ok());
    }
  }
}

class StatusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scheduler = Scheduler::Create(WebPipeline(), Options());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    scheduler_ = *std::move(scheduler);
    MakeDeadAndRunning(*scheduler_);
    Serve(scheduler_);
  }

  SchedulerOptions Options() {
    SchedulerOptions options;
    options.clock = &clock_;
    return options;
  }

  void Serve(std::shared_ptr<Scheduler> scheduler) {
    StatusServerOptions options;
    options.port = 0;
    auto server = StatusServer::Start(std::move(scheduler), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10);
  }

  // The body of GET `path`, expecting `status`.
  std::string Get(const std::string& path, int status = 200) {
    httplib::Result res = client_->Get(path.c_str());
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    if (!res) return "";
    EXPECT_EQ(res->status, status) << path << ": " << res->body;
    return res->body;
  }

  ManualClock clock_{absl::FromUnixSeconds(1541203200)};
  std::shared_ptr<Scheduler> scheduler_;
  std::unique_ptr<StatusServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(StatusServerTest, PageShowsPoolsStateCountsAndTheDeadTaskWithItsError) {
  const std::string page = Get("/");
  EXPECT_THAT(page, HasSubstr("<table id=\"pools\">"));
  EXPECT_THAT(page, HasSubstr("<td>wh</td><td class=\"n\">1 / 3</td>"));
  EXPECT_THAT(page, HasSubstr("<td class=\"st-DEAD\">DEAD</td><td "
                              "class=\"n\">1</td>"));
  EXPECT_THAT(page, HasSubstr("<td class=\"st-RUNNING\">RUNNING</td><td "
                              "class=\"n\">1</td>"));
  EXPECT_THAT(page, HasSubstr("Dead letter (1)"));
  EXPECT_THAT(page, HasSubstr("&lt;b&gt;boom&lt;/b&gt; &quot;quoted&quot; "
                              "&amp; more"));
  EXPECT_THAT(page, HasSubstr("<script>"));  // Its own script, one.
  EXPECT_EQ(page.find("<script>"), page.rfind("<script>"));
}

TEST_F(StatusServerTest, EscapesTableNamesErrorsAndOriginsOnEveryPage) {
  const std::string hostile = UrlEncoded(kHostile);
  for (const std::string& path : std::vector<std::string>{
           "/", "/?table=" + hostile, "/?q=%3Cscript",
           "/part/live?table=" + hostile, "/part/tables",
           "/part/history?since=1", "/?table=" + hostile + "x"}) {
    const std::string body = Get(path);
    SCOPED_TRACE(path);
    EXPECT_THAT(body, Not(HasSubstr(kHostile)));
    EXPECT_THAT(body, Not(HasSubstr("<b>boom")));
    EXPECT_THAT(body, Not(HasSubstr("<img")));
  }
  EXPECT_THAT(Get("/?table=" + hostile),
              HasSubstr("Table &lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(Get("/?table=src"), HasSubstr("origin <code>s3://x/&lt;img"));
  // Links carry the name URL-encoded.
  EXPECT_THAT(Get("/"), HasSubstr("href=\"/?table=" + hostile + "\""));
}

TEST_F(StatusServerTest, JsonEndpointsEscapeAsJson) {
  const std::string summary = Get("/api/summary");
  EXPECT_THAT(summary, HasSubstr("\"last_error\":\"<b>boom</b> "
                                 "\\\"quoted\\\" & more\""));
  EXPECT_THAT(summary, HasSubstr("\"DEAD\":1"));
  EXPECT_THAT(summary, HasSubstr("{\"name\":\"wh\",\"slots\":3,\"slots_used\":"
                                 "1,\"running\":1,\"queued\":0"));
  httplib::Result res = client_->Get("/api/summary");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST_F(StatusServerTest, ApiTablesListsStateAndLatestPartition) {
  const std::string tables = Get("/api/tables");
  EXPECT_THAT(tables, HasSubstr("\"matched\":4"));
  EXPECT_THAT(tables, HasSubstr("{\"name\":\"mart\",\"source\":false,"
                                "\"class\":\"adhoc\",\"state\":\"blocked\","
                                "\"latest_partition\":\"p1\""));
  EXPECT_THAT(Get("/api/tables?q=loa"), HasSubstr("\"matched\":1"));
}

TEST_F(StatusServerTest, ApiTableGivesLastArrivalWithItsOrigin) {
  const std::string src = Get("/api/table?name=src");
  EXPECT_THAT(src, HasSubstr("\"state\":\"landed\""));
  EXPECT_THAT(src, HasSubstr("\"origin\":\"s3://x/<img src=x "
                             "onerror=alert(2)>\""));
  EXPECT_THAT(Get("/api/table?name=lod", 404),
              HasSubstr("unknown table \"lod\" (did you mean \"load\"?)"));
}

TEST_F(StatusServerTest, ApiHistoryReadsFromSinceAndFiltersByTable) {
  const std::string all = Get("/api/history?since=1");
  EXPECT_THAT(all, HasSubstr("{\"seq\":1,"));
  const int64_t next = scheduler_->LastSequence() + 1;
  EXPECT_THAT(all, HasSubstr(absl::StrCat("\"next\":", next)));
  EXPECT_EQ(Get(absl::StrCat("/api/history?since=", next)),
            absl::StrCat("{\"entries\":[],\"next\":", next, "}"));
  ASSERT_TRUE(scheduler_->Ingest(SourceArrival("e2", "p2")).ok());
  const std::string later = Get(absl::StrCat("/api/history?since=", next));
  EXPECT_THAT(later, HasSubstr(absl::StrCat("{\"seq\":", next,
                                            ",\"at\":\"2018-11-03T00:00:00Z\","
                                            "\"kind\":\"arrival\"")));
  const std::string load = Get("/api/history?since=1&table=load");
  EXPECT_THAT(load, HasSubstr("\"table\":\"load\""));
  EXPECT_THAT(load, Not(HasSubstr("\"table\":\"src\"")));
}

TEST_F(StatusServerTest, HistoryRowsComeNewestFirstWithTheNextSequence) {
  httplib::Result res = client_->Get("/part/history?since=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Next-Since"),
            absl::StrCat(scheduler_->LastSequence() + 1));
  const size_t last = res->body.find(
      absl::StrCat("<td class=\"n\">", scheduler_->LastSequence(), "</td>"));
  const size_t second = res->body.find("<td class=\"n\">2</td>");
  ASSERT_NE(last, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(last, second);
  EXPECT_THAT(res->body, Not(HasSubstr("<td class=\"n\">1</td><td>")));
}

TEST_F(StatusServerTest, RefusesEveryMethodButGetAndHead) {
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    httplib::Request req;
    req.method = method;
    req.path = "/api/summary";
    httplib::Result res = client_->send(req);
    ASSERT_TRUE(res) << method;
    EXPECT_EQ(res->status, 405) << method;
    EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD") << method;
  }
  // With a body too: refused before it is read.
  httplib::Result post = client_->Post("/", "redrive=all", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  httplib::Result head = client_->Head("/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

TEST_F(StatusServerTest, GraphSvgDrawsTheNeighbourhoodWithLinksToEachTable) {
  const std::string svg = Get("/graph.svg?table=src&depth=1");
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("xlink:href=\"/?table=load\""));
  // The hostile name is escaped by Graphviz and linked URL-encoded.
  EXPECT_THAT(svg, Not(HasSubstr(kHostile)));
  EXPECT_THAT(svg, HasSubstr(absl::StrCat("/?table=", UrlEncoded(kHostile))));
  // mart is two edges away.
  EXPECT_THAT(svg, Not(HasSubstr(">mart<")));
  EXPECT_THAT(Get("/graph.svg?table=src&depth=2"), HasSubstr(">mart<"));
  EXPECT_THAT(Get("/graph.dot?table=nope", 404), HasSubstr("unknown table"));
}

TEST_F(StatusServerTest, ServesNothingWhenDotCannotRun) {
  server_.reset();
  StatusServerOptions options;
  options.port = 0;
  options.dot_command = "/nonexistent/dot";
  auto server = StatusServer::Start(scheduler_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result res = client.Get("/graph.svg");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_THAT(res->body, HasSubstr("cannot run /nonexistent/dot"));
}

TEST(StatusServerListenTest, ListensOnLoopbackByDefault) {
  EXPECT_EQ(StatusServerOptions().host, "127.0.0.1");
  auto parsed = ParseListenAddress("--listen", "0.0.0.0:8080");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "0.0.0.0");
  EXPECT_EQ(parsed->second, 8080);
  parsed = ParseListenAddress("--listen", "[::1]:0");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "::1");
  for (const char* bad :
       {"8080", ":8080", "host:", "host:70000", "[::1:80", "host:-1"}) {
    EXPECT_THAT(ParseListenAddress("--listen", bad).status().message(),
                HasSubstr("--listen: expected HOST:PORT"))
        << bad;
  }
}

TEST(StatusServerListenTest, RefusesAnAddressInUse) {
  auto pipeline = WebPipeline();
  std::shared_ptr<Scheduler> s = *Scheduler::Create(pipeline);
  StatusServerOptions options;
  options.port = 0;
  auto first = StatusServer::Start(s, options);
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  auto second = StatusServer::Start(s, options);
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen on"));
}

// The page of a store another scheduler writes: each request catches up.
TEST(StatusServerStoreTest, FollowsAStoreThatAnotherSchedulerWrites) {
  const std::string dir = ::testing::TempDir() + "/status_follow";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string uri = "sqlite:" + dir + "/state.db";
  StoreOpenOptions create;
  create.create = true;
  auto writer_store = OpenStateStore(uri, create);
  ASSERT_TRUE(writer_store.ok()) << writer_store.status();
  auto writer = Scheduler::Open(WebPipeline(), *writer_store);
  ASSERT_TRUE(writer.ok()) << writer.status();
  StoreOpenOptions read_only;
  read_only.read_only = true;
  auto reader_store = OpenStateStore(uri, read_only);
  ASSERT_TRUE(reader_store.ok()) << reader_store.status();
  auto reader = Scheduler::Open(*reader_store);
  ASSERT_TRUE(reader.ok()) << reader.status();
  StatusServerOptions options;
  options.port = 0;
  auto server = StatusServer::Start(*std::move(reader), options);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto summary = [&client] {
    httplib::Result res = client.Get("/api/summary");
    return res ? res->body : std::string();
  };
  EXPECT_THAT(summary(), HasSubstr("\"DEAD\":0"));
  MakeDeadAndRunning(**writer);
  EXPECT_THAT(summary(), HasSubstr("\"DEAD\":1"));
  EXPECT_THAT(summary(), HasSubstr("\"RUNNING\":1"));
}

}  // namespace
}  // namespace landfall::cli
