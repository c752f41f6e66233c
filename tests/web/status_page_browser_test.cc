// The status page in a real browser: headless Chromium loads the page of a
// demo pipeline's state file, runs its script, and the DOM holds the
// pools, the state counts and the dead task. The screenshot is kept under
// the build directory (its path is printed) for CI to keep as an artifact.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/cli/serve/status_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall::cli {
namespace {

using ::testing::HasSubstr;

// Chromium's path, or "" when it is not installed.
std::string FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

bool InCi() {
  const char* ci = getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// The demo pipeline's state file after a day: every source landed, the
// etl tables built but one, which is dead (its marts blocked), and one
// attempt running.
void MakeDemoState(const std::string& uri) {
  auto pipeline = Pipeline::FromFile(LANDFALL_DEMO_SPEC);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  StoreOpenOptions create;
  create.create = true;
  auto store = OpenStateStore(uri, create);
  ASSERT_TRUE(store.ok()) << store.status();
  auto s = Scheduler::Open(*pipeline, *store);
  ASSERT_TRUE(s.ok()) << s.status();
  int n = 0;
  for (const Table& t : (*pipeline)->tables()) {
    if (!t.source) continue;
    Arrival a;
    a.set_event_id(absl::StrCat("e", ++n));
    a.set_table(t.name);
    if (t.partitioned) a.set_partition("2018-11-03");
    a.set_origin(absl::StrCat("s3://landing/", t.name, "/part-0.csv"));
    ASSERT_TRUE((*s)->Ingest(a).ok());
  }
  ClaimFilter etl;
  etl.classes = {"etl"};
  auto claimed = (*s)->Claim("loader-1", 1000, etl);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  bool running_left = false;
  for (const ClaimedTask& t : *claimed) {
    if (t.task.table == "dwh.jalan_reservations") {
      ASSERT_TRUE((*s)->Complete(t.task, t.attempt, Outcome::FATAL,
                                 "COPY failed: column \"price\" is numeric, "
                                 "got \"N/A\" (line 1042)")
                      .ok());
    } else if (!running_left && t.task.table == "bq.jalan_reservations") {
      running_left = true;
    } else {
      ASSERT_TRUE((*s)->Complete(t.task, t.attempt, Outcome::SUCCEEDED).ok());
    }
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(StatusPageBrowserTest, ChromiumShowsPoolsStateCountsAndTheDeadTask) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    if (InCi()) FAIL() << "CI=true but chromium is not installed (.ci/deps)";
    GTEST_SKIP() << "no chromium: install it (Debian: chromium) to run the "
                    "browser test";
  }
  const std::string dir = ::testing::TempDir() + "/status_browser";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string uri = "sqlite:" + dir + "/state.db";
  ASSERT_NO_FATAL_FAILURE(MakeDemoState(uri));

  // Served as `landfall serve` does: read-only.
  StoreOpenOptions read_only;
  read_only.read_only = true;
  auto store = OpenStateStore(uri, read_only);
  ASSERT_TRUE(store.ok()) << store.status();
  auto scheduler = Scheduler::Open(*store);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  StatusServerOptions options;
  options.port = 0;
  auto server = StatusServer::Start(*std::move(scheduler), options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url =
      absl::StrCat((*server)->url(), "?table=dwh.jalan_reservations");

  const std::string browser = absl::StrCat(
      "timeout 30 ", chromium,
      " --headless=new --no-sandbox --disable-gpu --hide-scrollbars "
      "--user-data-dir=",
      dir, "/profile --virtual-time-budget=3000 ");
  const std::string dom_path = dir + "/dom.html";
  ASSERT_EQ(system(absl::StrCat(browser, "--dump-dom '", url, "' > ", dom_path,
                                " 2>/dev/null")
                       .c_str()),
            0);
  const std::string dom = ReadAll(dom_path);
  // The script ran: it says when it last fetched the live parts.
  EXPECT_THAT(dom, HasSubstr("<span id=\"connection\">live, as of "));
  EXPECT_THAT(dom, HasSubstr("<td>redshift</td>"));
  EXPECT_THAT(dom, HasSubstr("<td>bigquery</td><td class=\"n\">1 / 100</td>"));
  EXPECT_THAT(dom, HasSubstr("<td class=\"st-DEAD\">DEAD</td><td "
                             "class=\"n\">1</td>"));
  EXPECT_THAT(dom, HasSubstr("<td class=\"st-RUNNING\">RUNNING</td><td "
                             "class=\"n\">1</td>"));
  EXPECT_THAT(dom, HasSubstr("<tr class=\"dead-task\"><td><a "
                             "href=\"/?table=dwh.jalan_reservations\">"));
  EXPECT_THAT(dom, HasSubstr("COPY failed: column \"price\" is numeric"));
  EXPECT_THAT(dom, HasSubstr("<tbody id=\"history-rows\"><tr>"));

  const std::string artifacts = LANDFALL_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  const std::string shot = artifacts + "/status-page.png";
  std::filesystem::remove(shot);
  ASSERT_EQ(system(absl::StrCat(browser,
                                "--window-size=1400,1000 "
                                "--screenshot=",
                                shot, " '", url, "' >/dev/null 2>&1")
                       .c_str()),
            0);
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
  std::cout << "screenshot: " << shot << "\n";
}

}  // namespace
}  // namespace landfall::cli
