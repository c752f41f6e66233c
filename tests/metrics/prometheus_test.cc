// A real scrape of /metrics over HTTP, parsed by the text format's rules.
#include <httplib.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/metrics.h"
#include "tests/metrics/metrics_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::HasSubstr;

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // By family name.
  std::map<std::string, std::string> help;
  std::vector<ParsedSample> samples;
};

// Parses text format 0.0.4, failing the test on any line that breaks it:
// HELP and TYPE once per family, before its samples; label values quoted
// with \\, \" and \n escapes; a sample's family declared.
Exposition Parse(const std::string& text) {
  Exposition out;
  std::string family;  // The one whose samples may follow.
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "# HELP ")) {
      const std::string name(line.substr(0, line.find(' ')));
      EXPECT_EQ(out.help.count(name), 0u) << "HELP twice: " << name;
      out.help[name] = std::string(line.substr(name.size() + 1));
      continue;
    }
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      EXPECT_EQ(parts.size(), 2u) << line;
      if (parts.size() != 2) continue;
      EXPECT_EQ(out.types.count(parts[0]), 0u) << "TYPE twice: " << parts[0];
      EXPECT_THAT(parts[1],
                  ::testing::AnyOf("counter", "gauge", "histogram", "summary"));
      out.types[parts[0]] = parts[1];
      family = parts[0];
      continue;
    }
    EXPECT_NE(line[0], '#') << line;
    ParsedSample s;
    size_t i = line.find_first_of("{ ");
    EXPECT_NE(i, absl::string_view::npos) << line;
    if (i == absl::string_view::npos) continue;
    s.name = std::string(line.substr(0, i));
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        const size_t eq = line.find('=', i);
        const std::string key(line.substr(i, eq - i));
        EXPECT_EQ(line[eq + 1], '"') << line;
        std::string value;
        size_t j = eq + 2;
        for (; line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            ++j;
            EXPECT_THAT(line[j], ::testing::AnyOf('\\', '"', 'n')) << line;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    EXPECT_EQ(line[i], ' ') << line;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(i + 1), &s.value)) << line;
    // The sample belongs to the family declared last.
    std::string base = s.name;
    if (out.types[family] == "histogram" || out.types[family] == "summary") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (absl::EndsWith(base, suffix)) {
          base = base.substr(0, base.size() - strlen(suffix));
          break;
        }
      }
    }
    EXPECT_EQ(base, family) << "sample outside its family: " << line;
    out.samples.push_back(std::move(s));
  }
  return out;
}

class PrometheusTest : public MetricsTestBase {
 protected:
  std::string Scrape(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    auto response = client.Get("/metrics");
    EXPECT_TRUE(response) << "no answer from port " << port;
    if (!response) return "";
    EXPECT_EQ(response->status, 200);
    EXPECT_THAT(response->get_header_value("Content-Type"),
                HasSubstr("text/plain"));
    return response->body;
  }
};

TEST_F(PrometheusTest, AScrapeOfMetricsFollowsTheTextFormat) {
  RunSmallNight();
  QueueStats queue;
  queue.visible = 3;
  queue.oldest_age_seconds = 42.5;
  metrics_->SetQueueStats("odd \"queue\" \\ name", queue);
  auto server = MetricsServer::Start(metrics_.get(), "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const Exposition e = Parse(Scrape((*server)->port()));

  EXPECT_EQ(e.types.at("landfall_tasks"), "gauge");
  EXPECT_EQ(e.types.at("landfall_attempts_started_total"), "counter");
  EXPECT_EQ(e.types.at("landfall_queue_wait_seconds"), "histogram");
  for (const auto& [name, type] : e.types) {
    EXPECT_EQ(e.help.count(name), 1u) << name;
    if (type == "counter") {
      EXPECT_TRUE(absl::EndsWith(name, "_total")) << name;
    }
  }
  bool found_queue = false;
  bool found_ready = false;
  for (const ParsedSample& s : e.samples) {
    if (s.name == "landfall_queue_oldest_message_age_seconds") {
      EXPECT_EQ(s.labels.at("queue"), "odd \"queue\" \\ name");
      EXPECT_EQ(s.value, 42.5);
      found_queue = true;
    }
    if (s.name == "landfall_tasks" && s.labels.at("state") == "ready" &&
        s.labels.at("pool") == "bigquery" && s.labels.at("class") == "adhoc") {
      EXPECT_EQ(s.value, 2);
      found_ready = true;
    }
  }
  EXPECT_TRUE(found_queue);
  EXPECT_TRUE(found_ready);

  // Histograms: per series, buckets by le never decrease, end in le="+Inf"
  // equal to _count, and _sum is there.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  std::map<std::string, double> counts, sums;
  for (const ParsedSample& s : e.samples) {
    std::map<std::string, std::string> labels = s.labels;
    std::string le;
    if (auto it = labels.find("le"); it != labels.end()) {
      le = it->second;
      labels.erase(it);
    }
    std::string series = s.name.substr(0, s.name.rfind('_'));
    for (const auto& [k, v] : labels) series += "," + k + "=" + v;
    if (absl::EndsWith(s.name, "_bucket")) {
      double bound = 0;
      ASSERT_TRUE(le == "+Inf" || absl::SimpleAtod(le, &bound)) << le;
      buckets[series].push_back(
          {le == "+Inf" ? std::numeric_limits<double>::infinity() : bound,
           s.value});
    } else if (absl::EndsWith(s.name, "_count")) {
      counts[series] = s.value;
    } else if (absl::EndsWith(s.name, "_sum")) {
      sums[series] = s.value;
    }
  }
  ASSERT_FALSE(buckets.empty());
  for (const auto& [series, list] : buckets) {
    if (!absl::StartsWith(series, "landfall_")) continue;
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LT(list[i - 1].first, list[i].first) << series;
      EXPECT_LE(list[i - 1].second, list[i].second) << series;
    }
    EXPECT_TRUE(std::isinf(list.back().first)) << series;
    EXPECT_EQ(list.back().second, counts.at(series)) << series;
    EXPECT_EQ(sums.count(series), 1u) << series;
  }
  EXPECT_EQ(counts.at("landfall_queue_wait_seconds,class=etl,pool=redshift"),
            3);
}

TEST_F(PrometheusTest, ScrapesSeeWorkDoneSinceTheLast) {
  auto server = MetricsServer::Start(metrics_.get(), "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  // Every pool and class of the spec has its series from the start.
  EXPECT_THAT(Scrape((*server)->port()),
              HasSubstr("landfall_attempts_started_total{pool=\"redshift\","
                        "class=\"etl\"} 0"));
  RunSmallNight();
  EXPECT_THAT(Scrape((*server)->port()),
              HasSubstr("landfall_attempts_started_total{pool=\"redshift\","
                        "class=\"etl\"} 3"));
}

TEST_F(PrometheusTest, AnAddressWithoutAPortIsRefused) {
  auto server = MetricsServer::Start(metrics_.get(), "127.0.0.1");
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("127.0.0.1"));
}

TEST_F(PrometheusTest, APortInUseIsUnavailable) {
  auto first = MetricsServer::Start(metrics_.get(), "127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsServer::Start(
      metrics_.get(), "127.0.0.1:" + std::to_string((*first)->port()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace landfall::testing
