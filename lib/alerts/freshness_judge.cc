// Freshness judged against a table's deadline: which partitions are due,
// and which are breached.
#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "landfall/alerts.h"

namespace landfall {
namespace {

constexpr size_t kDayKeyLength = 10;   // "2018-11-03"
constexpr size_t kMonthKeyLength = 7;  // "2018-11"

// A civil time parsed from exactly `text`, normalization refused
// ("2018-02-30" is no day).
template <typename Civil>
std::optional<Civil> ParseExact(std::string_view text) {
  Civil c;
  const absl::string_view view(text.data(), text.size());
  if (!absl::ParseCivilTime(view, &c) || absl::FormatCivilTime(c) != view) {
    return std::nullopt;
  }
  return c;
}

// The date of a partition key: its leading "YYYY-MM-DD" (a day, or an hour
// "YYYY-MM-DDTHH" of it), or the last day of a month key "YYYY-MM".
std::optional<absl::CivilDay> KeyDate(std::string_view key) {
  if (key.size() == kMonthKeyLength) {
    std::optional<absl::CivilMonth> month = ParseExact<absl::CivilMonth>(key);
    if (!month) return std::nullopt;
    return absl::CivilDay(*month + 1) - 1;
  }
  if (key.size() < kDayKeyLength) return std::nullopt;
  if (key.size() > kDayKeyLength && key[kDayKeyLength] != 'T') {
    return std::nullopt;
  }
  return ParseExact<absl::CivilDay>(key.substr(0, kDayKeyLength));
}

absl::Time LocalTime(const FreshnessDeadline& d, absl::CivilDay day) {
  // FromCivil: a skipped local time is the instant of the change, a
  // repeated one its first occurrence.
  return absl::FromCivil(
      absl::CivilMinute(day.year(), day.month(), day.day(), d.hour, d.minute),
      d.zone);
}

// The one deadline of an unpartitioned table: the latest HH:MM at or
// before `now`, breached without an update since the HH:MM a day before.
DeadlineStatus UnpartitionedDeadline(const FreshnessDeadline& d,
                                     absl::Time last_update, absl::Time now) {
  absl::CivilDay day = absl::ToCivilDay(now, d.zone);
  if (LocalTime(d, day) > now) day -= 1;
  DeadlineStatus status;
  status.due = LocalTime(d, day);
  status.breached = last_update < LocalTime(d, day - 1);
  return status;
}

}  // namespace

std::string DeadlineText(const FreshnessDeadline& deadline) {
  return absl::StrFormat("%02d:%02d %s, day +%d", deadline.hour,
                         deadline.minute, deadline.zone_name, deadline.days);
}

std::optional<absl::Time> PartitionDueTime(const FreshnessDeadline& deadline,
                                           std::string_view partition) {
  std::optional<absl::CivilDay> date = KeyDate(partition);
  if (!date) return std::nullopt;
  return LocalTime(deadline, *date + deadline.days);
}

absl::StatusOr<FreshnessReport> JudgeFreshness(Scheduler& scheduler,
                                               const std::string& table,
                                               absl::Time now) {
  absl::StatusOr<Freshness> freshness = scheduler.GetFreshness(table);
  if (!freshness.ok()) return freshness.status();
  FreshnessReport report;
  report.freshness = *std::move(freshness);
  const Freshness& f = report.freshness;
  if (f.last_update != absl::InfinitePast()) report.lag = now - f.last_update;
  const Pipeline& pipeline = scheduler.pipeline();
  const Table& t = pipeline.table(*pipeline.FindTable(table));
  report.deadline = t.deadline;
  if (!t.deadline) return report;
  const FreshnessDeadline& d = *t.deadline;
  if (!t.partitioned) {
    report.deadlines.push_back(UnpartitionedDeadline(d, f.last_update, now));
    report.breached = report.deadlines.back().breached;
    return report;
  }
  std::set<std::string> built;
  for (const PartitionFreshness& p : f.partitions) built.insert(p.partition);
  // Every partition known: built, or with a task (an input landed).
  std::set<std::string> known = built;
  if (!t.source) {
    ListFilter filter;
    filter.table = table;
    for (const TaskStatus& s : scheduler.List(filter).tasks) {
      known.insert(s.task.partition);
    }
  }
  std::map<std::string, absl::Time> checked;
  std::optional<absl::CivilDay> earliest_day;
  for (const std::string& key : known) {
    std::optional<absl::Time> due = PartitionDueTime(d, key);
    if (!due || *due <= now - kDeadlineLookback) continue;
    checked[key] = *due;
  }
  for (const std::string& key : known) {
    if (key.size() != kDayKeyLength) continue;
    if (std::optional<absl::CivilDay> day = KeyDate(key)) {
      earliest_day = earliest_day ? std::min(*earliest_day, *day) : *day;
    }
  }
  if (earliest_day) {
    // The days that never arrived, from the earliest known one on.
    absl::CivilDay day = std::max(
        *earliest_day,
        absl::ToCivilDay(now - kDeadlineLookback, d.zone) - d.days - 1);
    for (; LocalTime(d, day + d.days) <= now; ++day) {
      const absl::Time due = LocalTime(d, day + d.days);
      if (due > now - kDeadlineLookback) {
        checked[absl::FormatCivilTime(day)] = due;
      }
    }
  }
  for (const auto& [key, due] : checked) {
    DeadlineStatus status;
    status.partition = key;
    status.due = due;
    status.breached = due <= now && built.count(key) == 0;
    report.breached = report.breached || status.breached;
    report.deadlines.push_back(std::move(status));
  }
  return report;
}

}  // namespace landfall
