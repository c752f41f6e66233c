#include "examples/cli/serve/status_page.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "examples/cli/serve/html.h"
#include "examples/cli/serve/state_graph.h"
#include "examples/cli/serve/status_history.h"
#include "examples/cli/serve/status_view.h"
#include "examples/cli/state_file.h"

namespace landfall::cli {
namespace {

constexpr char kStyle[] = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#222}
h1{font-size:1.4em;margin:.6em 0 .2em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.2em 0}
th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right}
.muted{color:#777}.err{white-space:pre-wrap;max-width:50em}
.cols{display:flex;flex-wrap:wrap;gap:2em}
.st-DEAD,.gs-dead{background:#f4a6a6}.st-BLOCKED,.gs-blocked{background:#d9d9d9}
.st-RETRY_WAIT,.gs-retrying{background:#fdc086}
.st-RUNNING,.st-EXPIRED,.gs-running{background:#9ecae1}
.st-READY,.st-WAITING,.st-PAUSED,.gs-pending{background:#ffffcc}
.st-SUCCEEDED,.gs-succeeded,.gs-landed{background:#b8e186}
.stale{background:#f4a6a6}
object{max-width:100%;border:1px solid #ccc}
#history tbody{font-family:monospace;font-size:12px}
)";

// The page's script: fetches the live parts every refresh, and the history
// entries after the last one shown. No framework, nothing from elsewhere.
constexpr char kScript[] = R"(
(function () {
  var body = document.body;
  var since = Number(body.dataset.since);
  var every = Number(body.dataset.refresh);
  var note = document.getElementById('connection');
  var rows = document.getElementById('history-rows');
  var graph = document.getElementById('graph-object');
  var ticks = 0;
  function tick() {
    fetch('/part/live' + location.search).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      document.getElementById('live').innerHTML = html;
      return fetch('/part/tables' + location.search);
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      document.getElementById('tables-part').innerHTML = html;
      return fetch('/part/history?since=' + since + '&table=' +
                   encodeURIComponent(body.dataset.table));
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      since = Number(r.headers.get('X-Next-Since')) || since;
      return r.text();
    }).then(function (html) {
      if (html) rows.insertAdjacentHTML('afterbegin', html);
      while (rows.rows.length > 200) rows.deleteRow(rows.rows.length - 1);
      if (graph && ++ticks % 5 === 0) graph.data = graph.data;
      note.textContent = 'live, as of ' + new Date().toISOString();
    }).catch(function (e) {
      note.textContent = 'not connected (' + e.message + '); retrying';
    });
  }
  tick();
  setInterval(tick, every);
})();
)";

std::string Td(absl::string_view text, absl::string_view cls = "") {
  return absl::StrCat("<td", cls.empty() ? "" : " class=\"", cls,
                      cls.empty() ? "" : "\"", ">", HtmlEscaped(text), "</td>");
}

std::string Num(int64_t n) {
  return absl::StrCat("<td class=\"n\">", n, "</td>");
}

std::string TableLink(const std::string& table) {
  return absl::StrCat("<a href=\"/?table=", UrlEncoded(table), "\">",
                      HtmlEscaped(table), "</a>");
}

std::string DurationText(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

// RFC 3339 to the second, or "never".
std::string SecondsText(absl::Time t) {
  return TimeText(t == absl::InfinitePast()
                      ? t
                      : absl::FromUnixSeconds(absl::ToUnixSeconds(t)));
}

std::string StateCell(absl::string_view state) {
  return Td(state, absl::StrCat("st-", state));
}

std::string SummaryHtml(const StatusSummary& s) {
  std::string out =
      "<div class=\"cols\"><section><h2>Tasks by state</h2>"
      "<table id=\"states\"><tr><th>state</th><th>tasks</th></tr>";
  for (const auto& [state, n] : s.by_state) {
    absl::StrAppend(&out, "<tr>", StateCell(state), Num(n), "</tr>");
  }
  absl::StrAppend(&out, "<tr><th>total</th>", Num(s.tasks),
                  "</tr></table></section>");
  out +=
      "<section><h2>Pools</h2><table id=\"pools\"><tr><th>pool</th>"
      "<th>slots used</th><th>running</th><th>queued</th>"
      "<th>longest queue wait</th></tr>";
  for (const PoolRow& p : s.pools) {
    const std::string slots = p.slots == kUnlimitedSlots
                                  ? absl::StrCat(p.slots_used, " (no cap)")
                                  : absl::StrCat(p.slots_used, " / ", p.slots);
    absl::StrAppend(
        &out, "<tr>", Td(p.name), Td(slots, "n"), Num(p.running), Num(p.queued),
        Td(p.queued > 0 ? DurationText(p.longest_wait) : "-", "n"), "</tr>");
  }
  out +=
      "</table></section><section><h2>Classes</h2><table id=\"classes\">"
      "<tr><th>class</th><th>tasks by state</th></tr>";
  for (const ClassRow& c : s.classes) {
    std::vector<std::string> parts;
    for (const auto& [state, n] : c.by_state) {
      parts.push_back(absl::StrCat(n, " ", state));
    }
    absl::StrAppend(&out, "<tr>", Td(c.name),
                    Td(parts.empty() ? "no tasks" : absl::StrJoin(parts, ", ")),
                    "</tr>");
  }
  out += "</table></section></div>";
  absl::StrAppend(&out, "<section><h2>Dead letter (", s.dead_total,
                  ")</h2><table id=\"dead\"><tr><th>task</th><th>attempts</th>"
                  "<th>error</th><th>explain</th></tr>");
  for (const DeadRow& d : s.dead) {
    absl::StrAppend(
        &out, "<tr class=\"dead-task\"><td>", TableLink(d.status.task.table),
        d.status.task.partition.empty()
            ? ""
            : absl::StrCat("/", HtmlEscaped(d.status.task.partition)),
        "</td>", Num(d.status.run_attempts), Td(d.status.last_error, "err"),
        Td(absl::StrJoin(d.reasons, "\n"), "err"), "</tr>");
  }
  if (s.dead_total > static_cast<int>(s.dead.size())) {
    absl::StrAppend(&out, "<tr><td colspan=\"4\" class=\"muted\">and ",
                    s.dead_total - static_cast<int>(s.dead.size()),
                    " more: landfall dlq list</td></tr>");
  }
  return out + "</table></section>";
}

std::string FreshnessText(const Freshness& f) {
  if (f.max_lag == absl::InfiniteDuration()) return "no max_lag";
  return absl::StrCat(f.stale ? "stale" : "fresh", " (max_lag ",
                      absl::FormatDuration(f.max_lag), ")");
}

}  // namespace

std::string RenderTables(Scheduler& scheduler, const PageQuery& query,
                         const PageOptions& options) {
  const TableRows tables =
      ListTables(scheduler, query.filter, options.max_table_rows);
  std::string out = absl::StrCat(
      "<section><h2>Tables (", tables.matched,
      query.filter.empty()
          ? ""
          : absl::StrCat(" matching \"", HtmlEscaped(query.filter), "\""),
      ")</h2><table id=\"tables\"><tr><th>table</th><th>class</th>"
      "<th>state</th><th>latest partition</th><th>its task</th>"
      "<th>attempts</th><th>last arrival</th><th>last update</th>"
      "<th>freshness</th></tr>");
  const Pipeline& pipeline = scheduler.pipeline();
  for (const TableRow& r : tables.rows) {
    const std::string state = GraphStateName(r.state);
    absl::StrAppend(
        &out, "<tr><td>", TableLink(r.table->name), "</td>",
        Td(pipeline.priority_classes()[r.table->priority_class].name),
        Td(state, absl::StrCat("gs-", state)),
        Td(r.table->partitioned ? r.latest_partition : "-"),
        r.has_task ? StateCell(TaskStateName(r.latest.state)) : Td("-"),
        Num(r.has_task ? r.latest.attempt : 0), Td(SecondsText(r.last_arrival)),
        Td(SecondsText(r.freshness.last_update)),
        Td(FreshnessText(r.freshness), r.freshness.stale ? "stale" : ""),
        "</tr>");
  }
  if (tables.matched > static_cast<int>(tables.rows.size())) {
    absl::StrAppend(&out, "<tr><td colspan=\"9\" class=\"muted\">first ",
                    tables.rows.size(), " shown: filter by name</td></tr>");
  }
  return out + "</table></section>";
}

namespace {

std::string TableViewHtml(Scheduler& scheduler, const PageQuery& query) {
  absl::StatusOr<TableDetail> d = DescribeTable(scheduler, query.table);
  if (!d.ok()) {
    return absl::StrCat("<section id=\"table-view\"><p class=\"err\">",
                        HtmlEscaped(d.status().message()), "</p></section>");
  }
  const Table& t = *d->row.table;
  std::string out = absl::StrCat(
      "<section id=\"table-view\"><h2>Table ", HtmlEscaped(t.name), "</h2><p>",
      t.source ? "source" : "derived", ", state <b>",
      GraphStateName(d->row.state), "</b>, ",
      HtmlEscaped(FreshnessText(d->row.freshness)), ", last update ",
      HtmlEscaped(SecondsText(d->row.freshness.last_update)), ".</p><p>");
  if (d->arrival_found) {
    const HistoryEntry& a = d->last_arrival;
    absl::StrAppend(
        &out, "Last arrival: #", a.seq, " at ", HtmlEscaped(SecondsText(a.at)),
        ", partition ", HtmlEscaped(a.partition.empty() ? "-" : a.partition),
        ", event ", HtmlEscaped(a.event_id), ", origin <code>",
        HtmlEscaped(a.origin.empty() ? "(none)" : a.origin), "</code>.");
  } else {
    absl::StrAppend(&out, "No arrival in the last ", kArrivalLookback,
                    " history entries.");
  }
  out += "</p>";
  if (!d->reasons.empty()) {
    absl::StrAppend(&out, "<p>Latest task: <span class=\"err\">",
                    HtmlEscaped(absl::StrJoin(d->reasons, "\n")),
                    "</span></p>");
  }
  if (!d->tasks.empty()) {
    out +=
        "<table id=\"partitions\"><tr><th>partition</th><th>state</th>"
        "<th>attempt</th><th>version</th><th>last success</th>"
        "<th>error</th></tr>";
    for (const TaskStatus& task : d->tasks) {
      absl::StrAppend(
          &out, "<tr>",
          Td(task.task.partition.empty() ? "-" : task.task.partition),
          StateCell(TaskStateName(task.state)), Num(task.attempt),
          Num(task.version), Td(SecondsText(task.last_success)),
          Td(task.last_error, "err"), "</tr>");
    }
    out += "</table>";
  }
  return out + "</section>";
}

}  // namespace

std::string RenderLive(Scheduler& scheduler, const PageQuery& query,
                       const PageOptions&) {
  const StatusSummary summary = Summarize(scheduler, absl::Now());
  std::string out = absl::StrCat(
      "<p class=\"muted\">", summary.tables, " tables, ", summary.tasks,
      " tasks, history at #", summary.last_seq, "</p>", SummaryHtml(summary));
  if (!query.table.empty()) out += TableViewHtml(scheduler, query);
  return out;
}

std::string RenderHistoryRows(const std::vector<HistoryEntry>& entries) {
  std::string out;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const HistoryEntry& h = *it;
    std::string task = h.table;
    if (!h.partition.empty()) absl::StrAppend(&task, "/", h.partition);
    std::string more;
    if (h.attempt > 0) absl::StrAppend(&more, "attempt ", h.attempt, " ");
    if (!h.worker.empty()) absl::StrAppend(&more, "by ", h.worker, " ");
    if (!h.origin.empty()) absl::StrAppend(&more, "from ", h.origin, " ");
    more += h.detail;
    absl::StrAppend(&out, "<tr>", Num(h.seq), Td(SecondsText(h.at)),
                    Td(EntryKindName(h.kind)), Td(task), Td(more, "err"),
                    "</tr>");
  }
  return out;
}

std::string RenderPage(Scheduler& scheduler, const PageQuery& query,
                       const PageOptions& options) {
  const std::string name = scheduler.pipeline().name();
  const HistoryPage recent =
      ReadRecentHistory(scheduler, query.table, kHistoryRowsShown);
  std::string out = absl::StrCat(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>landfall: ",
      HtmlEscaped(name), "</title><style>", kStyle,
      "</style></head>\n<body data-since=\"", recent.next_seq,
      "\" data-refresh=\"", absl::ToInt64Milliseconds(options.refresh),
      "\" data-table=\"", HtmlEscaped(query.table),
      "\"><h1>landfall: ", HtmlEscaped(name),
      "</h1><p class=\"muted\">Read-only status. <span id=\"connection\">"
      "</span></p><form method=\"get\" action=\"/\">"
      "<label>Tables named <input name=\"q\" value=\"",
      HtmlEscaped(query.filter), "\"></label> ");
  if (!query.table.empty()) {
    absl::StrAppend(&out, "<input type=\"hidden\" name=\"table\" value=\"",
                    HtmlEscaped(query.table), "\">");
  }
  absl::StrAppend(&out, "<button>filter</button> <a href=\"/\">all</a></form>",
                  "<div id=\"live\">", RenderLive(scheduler, query, options),
                  "</div><section id=\"graph\"><h2>Graph</h2>");
  const int tables = scheduler.pipeline().table_count();
  if (!query.table.empty() || tables <= options.max_graph_nodes) {
    const std::string src =
        query.table.empty()
            ? std::string("/graph.svg")
            : absl::StrCat("/graph.svg?table=", UrlEncoded(query.table),
                           "&depth=", query.depth);
    absl::StrAppend(
        &out, "<p class=\"muted\">Click a table to see its neighbourhood",
        query.table.empty()
            ? ""
            : absl::StrCat("; <a href=\"/?table=", UrlEncoded(query.table),
                           "&amp;depth=", query.depth + 1,
                           "\">one edge more</a>"),
        ".</p><object id=\"graph-object\" type=\"image/svg+xml\" data=\"",
        HtmlEscaped(src), "\"></object>");
  } else {
    absl::StrAppend(&out, "<p class=\"muted\">", tables,
                    " tables: choose one above to see its neighbourhood.</p>");
  }
  absl::StrAppend(
      &out, "</section><section id=\"history\"><h2>History",
      query.table.empty() ? "" : absl::StrCat(" of ", HtmlEscaped(query.table)),
      "</h2><table><thead><tr><th>#</th><th>at</th><th>kind</th><th>task</th>"
      "<th>detail</th></tr></thead><tbody id=\"history-rows\">",
      RenderHistoryRows(recent.entries),
      "</tbody></table></section><div id=\"tables-part\">",
      RenderTables(scheduler, query, options), "</div><script>", kScript,
      "</script></body></html>\n");
  return out;
}

}  // namespace landfall::cli
