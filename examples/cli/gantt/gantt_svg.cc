#include "examples/cli/gantt/gantt_svg.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "examples/cli/serve/html.h"
#include "lib/core/utf8.h"

namespace landfall::cli {
namespace {

constexpr int kLabelWidth = 200;  // Pool names and row counts, on the left.
constexpr int kRightMargin = 40;  // Room for the last tick's label.
constexpr int kLegendHeight = 34;
constexpr int kAxisHeight = 22;
constexpr int kTitleHeight = 22;
constexpr int kArrivalHeight = 16;
constexpr int kLaneGap = 6;

// Class colours by rank; red is kept for failures.
constexpr const char* kClassColours[] = {"#4e79a7", "#59a14f", "#edc948",
                                         "#b07aa1", "#76b7b2", "#9c755f",
                                         "#ff9da7", "#bab0ac"};
constexpr int kColours = sizeof(kClassColours) / sizeof(kClassColours[0]);

constexpr char kStyle[] =
    "<style>text{font:11px sans-serif;fill:#222}"
    ".t{font-weight:bold;font-size:13px}.g{stroke:#ddd}"
    ".l{stroke:#999}.a{stroke:#777}.a.k{stroke:#000;stroke-width:2}"
    ".f{stroke:#d62728;stroke-width:1.5}.x{fill:#d62728}.d{fill:#7f0000}"
    ".r{stroke:#333;stroke-dasharray:3 2}.o{fill-opacity:.35}"
    ".k{stroke:#000;stroke-width:2}"
    ".p{fill:none;stroke:#000;stroke-width:1.5;stroke-dasharray:4 2}"
    "</style>\n";

// `text` as XML character data or a quoted attribute: escaped, with what
// XML cannot hold (control characters, bytes that are not UTF-8) as U+FFFD.
std::string XmlText(absl::string_view text) {
  std::string valid;
  valid.reserve(text.size());
  while (!text.empty()) {
    const size_t n =
        internal::Utf8CharLength(std::string_view(text.data(), text.size()));
    const unsigned char c = static_cast<unsigned char>(text[0]);
    if (n == 0 || (n == 1 && c < 0x20 && c != '\t' && c != '\n')) {
      valid += "\xEF\xBF\xBD";
      text.remove_prefix(1);
    } else {
      valid.append(text.data(), n);
      text.remove_prefix(n);
    }
  }
  return HtmlEscaped(valid);
}

// Time ticks: the smallest step from this list that gives at most 12.
absl::Duration TickStep(absl::Duration span) {
  const absl::Duration steps[] = {
      absl::Seconds(1),  absl::Seconds(5), absl::Seconds(10), absl::Seconds(30),
      absl::Minutes(1),  absl::Minutes(5), absl::Minutes(10), absl::Minutes(15),
      absl::Minutes(30), absl::Hours(1),   absl::Hours(2),    absl::Hours(3),
      absl::Hours(6),    absl::Hours(12),  absl::Hours(24)};
  for (absl::Duration step : steps) {
    if (absl::FDivDuration(span, step) <= 12) return step;
  }
  return absl::Hours(24) *
         std::ceil(absl::FDivDuration(span, absl::Hours(24)) / 12);
}

std::string Clock(absl::Time t) {
  return absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone());
}

const char* EndText(const GanttAttempt& a) {
  switch (a.ended) {
    case AttemptEnd::kSucceeded:
      return "succeeded";
    case AttemptEnd::kRetried:
      return "failed, retried";
    case AttemptEnd::kDead:
      return "failed for good";
    case AttemptEnd::kExpired:
      return a.dead ? "lease expired, dead" : "lease expired, retried";
    case AttemptEnd::kRunning:
      return "running";
  }
  return "";
}

// Draws charts on one time axis, top to bottom.
class SvgWriter {
 public:
  SvgWriter(const std::vector<GanttChart>& charts,
            const GanttSvgOptions& options)
      : charts_(charts), options_(options) {
    for (const GanttChart& c : charts) {
      begin_ = std::min(begin_, c.begin);
      end_ = std::max(end_, c.end);
      for (const std::string& name : c.classes) {
        if (colour_of_class_.emplace(name, static_cast<int>(classes_.size()))
                .second) {
          classes_.push_back(name);
        }
      }
    }
    if (begin_ >= end_) {  // Nothing, or one instant: a minute's axis.
      if (begin_ == absl::InfiniteFuture()) begin_ = absl::UnixEpoch();
      end_ = begin_ + absl::Minutes(1);
    }
    plot_width_ = std::max(100, options.width - kLabelWidth - kRightMargin);
  }

  std::string Write() && {
    int y = kLegendHeight + kAxisHeight;
    for (const GanttChart& c : charts_) y = Chart(c, y);
    const int height = y + kAxisHeight;
    std::string head = absl::StrFormat(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
        options_.width, height, options_.width, height);
    head += kStyle;
    head += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    head += Legend();
    head += Axis(kLegendHeight + kAxisHeight - 6, height - kAxisHeight);
    head += body_;
    head += "</svg>\n";
    return head;
  }

 private:
  double X(absl::Time t) const {
    return kLabelWidth +
           plot_width_ * absl::FDivDuration(t - begin_, end_ - begin_);
  }

  std::string Legend() const {
    std::string out;
    int x = 8;
    auto item = [&](const std::string& swatch, absl::string_view label) {
      absl::StrAppend(&out, swatch,
                      absl::StrFormat("<text x=\"%d\" y=\"21\">", x + 16),
                      XmlText(label), "</text>\n");
      x += 26 + 7 * static_cast<int>(label.size());
    };
    for (size_t i = 0; i < classes_.size(); ++i) {
      item(absl::StrFormat("<rect x=\"%d\" y=\"12\" width=\"12\" "
                           "height=\"10\" fill=\"%s\"/>",
                           x, kClassColours[i % kColours]),
           absl::StrCat("class ", classes_[i]));
    }
    item(absl::StrFormat("<rect class=\"f\" x=\"%d\" y=\"12\" width=\"12\" "
                         "height=\"10\" fill=\"#fff\"/><rect class=\"x\" "
                         "x=\"%d\" y=\"12\" width=\"3\" height=\"10\"/>",
                         x, x + 9),
         "failed, retried");
    item(absl::StrFormat("<rect class=\"f\" x=\"%d\" y=\"12\" width=\"12\" "
                         "height=\"10\" fill=\"#fff\"/><rect class=\"d\" "
                         "x=\"%d\" y=\"12\" width=\"3\" height=\"10\"/>",
                         x, x + 9),
         "failed for good");
    item(absl::StrFormat("<rect class=\"r\" x=\"%d\" y=\"12\" width=\"12\" "
                         "height=\"10\" fill=\"#fff\"/>",
                         x),
         "running");
    item(absl::StrFormat("<rect class=\"k\" x=\"%d\" y=\"12\" width=\"12\" "
                         "height=\"10\" fill=\"#fff\"/>",
                         x),
         "critical path");
    item(absl::StrFormat("<line class=\"a\" x1=\"%d\" x2=\"%d\" y1=\"10\" "
                         "y2=\"24\"/>",
                         x + 6, x + 6),
         "arrival");
    return out;
  }

  std::string Axis(int label_y, int bottom) const {
    std::string out;
    const absl::Duration step = TickStep(end_ - begin_);
    const bool seconds = step < absl::Minutes(1);
    // The first tick on a whole step (UTC) at or after the start.
    absl::Time t =
        absl::UnixEpoch() + absl::Ceil(begin_ - absl::UnixEpoch(), step);
    for (bool first = true; t <= end_; t += step, first = false) {
      const double x = X(t);
      const char* format =
          first ||
                  absl::FormatTime("%H%M%S", t, absl::UTCTimeZone()) == "000000"
              ? (seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M")
              : (seconds ? "%H:%M:%S" : "%H:%M");
      absl::StrAppendFormat(
          &out,
          "<line class=\"g\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>"
          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
          x, x, label_y + 4, bottom, x, label_y, FormatTime(format, t), x,
          bottom + 14, FormatTime(format, t));
    }
    return out;
  }

  static std::string FormatTime(const char* format, absl::Time t) {
    return absl::FormatTime(format, t, absl::UTCTimeZone());
  }

  // Draws `c` from `y` down; returns where the next one starts.
  int Chart(const GanttChart& c, int y) {
    absl::StrAppendFormat(&body_,
                          "<text class=\"t\" x=\"8\" y=\"%d\">%s</text>\n",
                          y + 15, XmlText(c.title));
    y += kTitleHeight;
    // Arrivals, as ticks.
    absl::StrAppendFormat(&body_,
                          "<text x=\"8\" y=\"%d\">arrivals (%d)</text>\n",
                          y + 12, c.arrivals.size());
    for (const GanttArrival& a : c.arrivals) {
      const double x = X(a.at);
      absl::StrAppendFormat(
          &body_,
          "<line class=\"a%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\">"
          "<title>arrival %s at %s</title></line>\n",
          a.critical ? " k" : "", x, x, y + 2, y + kArrivalHeight - 2,
          XmlText(TaskText(a.table, a.partition)), Clock(a.at));
    }
    y += kArrivalHeight;
    // Lanes: where each pool's rows start, and how high they are.
    std::map<std::string, std::pair<int, int>> lane_top;  // pool: y, row h.
    std::map<std::string, int> lane_rows;
    for (const GanttLane& lane : c.lanes) {
      const int rows =
          std::max(1, std::min(lane.rows, options_.max_rows_per_pool));
      const int row_height = rows > 20 ? 6 : 12;
      const std::string limit = lane.slots == kUnlimitedSlots
                                    ? "no limit"
                                    : absl::StrCat(lane.slots, " slots");
      absl::StrAppendFormat(
          &body_,
          "<line class=\"l\" x1=\"0\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>"
          "<text x=\"8\" y=\"%d\">%s</text>"
          "<text x=\"8\" y=\"%d\">%s, %d used</text>\n",
          options_.width, y + kLaneGap / 2, y + kLaneGap / 2, y + 18,
          XmlText(lane.pool), y + 31, limit, lane.rows);
      const bool collapsed = lane.rows > rows;
      if (collapsed) {
        absl::StrAppendFormat(
            &body_, "<text x=\"8\" y=\"%d\">rows from %d in the last</text>\n",
            y + 44, rows);
      }
      y += kLaneGap;
      lane_top[lane.pool] = {y, row_height};
      lane_rows[lane.pool] = rows;
      y += std::max(rows * row_height, collapsed ? 44 : 30);
    }
    // Bars, then the critical path's joins over them.
    std::vector<double> mid_y(c.attempts.size(), -1);
    for (size_t i = 0; i < c.attempts.size(); ++i) {
      const GanttAttempt& a = c.attempts[i];
      auto lane = lane_top.find(a.pool);
      if (lane == lane_top.end()) continue;
      const auto [top, row_height] = lane->second;
      const int rows = lane_rows[a.pool];
      const bool collapsed = a.row >= rows - 1 && rows < LaneRows(c, a.pool);
      const int row = std::min(a.row, rows - 1);
      const double bar_y = top + row * row_height + 1;
      mid_y[i] = bar_y + (row_height - 2) / 2.0;
      Bar(a, bar_y, row_height - 2, collapsed);
    }
    std::string path;
    for (size_t i : c.critical_path) {
      if (mid_y[i] < 0) continue;
      const GanttAttempt& a = c.attempts[i];
      absl::StrAppendFormat(&path, "%.1f,%.1f %.1f,%.1f ", X(a.start), mid_y[i],
                            X(a.end), mid_y[i]);
    }
    if (!path.empty()) {
      absl::StrAppend(&body_, "<polyline class=\"p\" points=\"", path,
                      "\"/>\n");
    }
    return y + kLaneGap * 3;
  }

  static int LaneRows(const GanttChart& c, const std::string& pool) {
    for (const GanttLane& lane : c.lanes) {
      if (lane.pool == pool) return lane.rows;
    }
    return 0;
  }

  static std::string TaskText(const std::string& table,
                              const std::string& partition) {
    return partition.empty() ? table : absl::StrCat(table, "/", partition);
  }

  void Bar(const GanttAttempt& a, double y, int height, bool collapsed) {
    const double x = X(a.start);
    const double width = std::max(1.0, X(a.end) - x);
    auto colour = colour_of_class_.find(a.priority_class);
    const int rank = colour == colour_of_class_.end() ? 0 : colour->second;
    const bool failed =
        a.ended != AttemptEnd::kSucceeded && a.ended != AttemptEnd::kRunning;
    std::string classes;
    if (failed) classes += " f";
    if (a.ended == AttemptEnd::kRunning) classes += " r";
    if (collapsed) classes += " o";
    if (a.critical) classes += " k";
    std::string title = absl::StrCat(
        TaskText(a.table, a.partition), " attempt ", a.attempt, " (class ",
        a.priority_class, ", pool ", a.pool, "): ", Clock(a.start), " to ",
        Clock(a.end), ", ", absl::FormatDuration(a.end - a.start), ", ",
        EndText(a), a.detail.empty() ? "" : ": ", a.detail,
        a.critical ? "; on the critical path" : "");
    absl::StrAppendFormat(
        &body_,
        "<rect%s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
        "height=\"%d\" fill=\"%s\"><title>%s</title></rect>\n",
        classes.empty() ? ""
                        : absl::StrCat(" class=\"", classes.substr(1), "\""),
        x, y, width, height, kClassColours[rank % kColours], XmlText(title));
    if (failed) {
      // The end marked, so a failure shows on a bar a pixel wide.
      absl::StrAppendFormat(
          &body_,
          "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"3\" "
          "height=\"%d\"/>\n",
          a.dead ? "d" : "x", x + width - std::min(3.0, width), y, height);
    }
  }

  const std::vector<GanttChart>& charts_;
  const GanttSvgOptions& options_;
  absl::Time begin_ = absl::InfiniteFuture();
  absl::Time end_ = absl::InfinitePast();
  int plot_width_ = 0;
  std::string body_;
  // Colour index per class name, in the order the charts first list them,
  // so one class has one colour in every chart.
  std::map<std::string, int> colour_of_class_;
  std::vector<std::string> classes_;  // By colour index.
};

}  // namespace

std::string GanttSvg(const std::vector<GanttChart>& charts,
                     const GanttSvgOptions& options) {
  return SvgWriter(charts, options).Write();
}

absl::Status WriteGanttSvg(const std::vector<GanttRun>& runs,
                           const GanttSvgOptions& options,
                           const std::string& path) {
  std::vector<GanttChart> charts;
  for (const GanttRun& run : runs) charts.push_back(BuildGanttChart(run));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << GanttSvg(charts, options);
  out.close();
  if (!out) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace landfall::cli
