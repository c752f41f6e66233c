#include "lib/pipeline/sink_validator.h"

#include <libpq-fe.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/pipeline/durations.h"
#include "lib/pipeline/internal/suggest.h"
#include "lib/pipeline/sql_template.h"

namespace landfall::internal {
namespace {

class SinkChecker {
 public:
  SinkChecker(const SpecLocator& locator, PipelineRep* rep,
              std::vector<SpecProblem>* problems)
      : locator_(locator), spec_(*rep->spec), rep_(rep), problems_(problems) {}

  void Sinks() {
    for (int i = 0; i < spec_.sink_size(); ++i) {
      const SinkSpec& spec = spec_.sink(i);
      const SpecLocation where = locator_.Find({{"sink", i}});
      if (spec.name().empty()) {
        Problem(where, absl::StrCat("sink #", i + 1, " has no name"));
        continue;
      }
      const std::string context = absl::StrCat("sink \"", spec.name(), "\"");
      if (const Sink* first = Find(spec.name()); first != nullptr) {
        std::string at;
        if (first->defined_at.line > 0) {
          at = absl::StrCat(" (first defined at line ", first->defined_at.line,
                            ")");
        }
        Problem(where, absl::StrCat("duplicate ", context, at));
        continue;
      }
      Sink sink;
      sink.name = spec.name();
      sink.spec = spec;
      sink.defined_at = where;
      auto field = [&](absl::string_view kind, absl::string_view name) {
        return locator_.Find({{"sink", i}, {kind}, {name}});
      };
      if (spec.has_postgres()) {
        sink.kind = Sink::Kind::kPostgres;
        const PostgresSinkSpec& pg = spec.postgres();
        CheckConninfo(pg.conninfo(), context, field("postgres", "conninfo"));
        Duration(pg.statement_timeout(), &sink.statement_timeout, context,
                 "postgres.statement_timeout",
                 field("postgres", "statement_timeout"));
        Duration(pg.connect_timeout(), &sink.connect_timeout, context,
                 "postgres.connect_timeout",
                 field("postgres", "connect_timeout"));
      } else if (spec.has_bigquery()) {
        sink.kind = Sink::Kind::kBigQuery;
        CheckBigQuery(spec.bigquery(), context, i, &sink);
      }
      rep_->sinks.push_back(std::move(sink));
    }
  }

  void Tables() {
    const bool declared = spec_.sink_size() > 0;
    const std::string& default_sink = spec_.defaults().sink();
    const bool default_known =
        !declared || default_sink.empty() || Find(default_sink) != nullptr;
    if (!default_known) {
      Problem(locator_.Find({{"defaults"}, {"sink"}}),
              UnknownSink("defaults", default_sink));
    }
    for (int i = 0; i < spec_.table_size(); ++i) {
      const TableSpec& t = spec_.table(i);
      Table& table = rep_->tables[i];
      const std::string context = absl::StrCat("table \"", t.name(), "\"");
      const SpecLocation sink_at = locator_.Find({{"table", i}, {"sink"}});
      const SpecLocation sql_at = locator_.Find({{"table", i}, {"sql"}});
      const Sink* sink = table.sink.empty() ? nullptr : Find(table.sink);
      if (declared && !table.sink.empty() && sink == nullptr &&
          (!t.sink().empty() || default_known)) {
        Problem(sink_at, UnknownSink(context, table.sink));
      }
      if (table.source) {
        if (!t.sql().empty()) {
          Problem(sql_at, absl::StrCat(context,
                                       ": a source table has no sql (it "
                                       "only receives arrivals)"));
        }
        continue;
      }
      const bool runs_sql = sink != nullptr && sink->kind != Sink::Kind::kHost;
      if (runs_sql && t.sql().empty()) {
        Problem(table.defined_at,
                absl::StrCat(context, ": sink \"", sink->name,
                             "\" runs SQL, but the table has no `sql`"));
      }
      if (!t.sql().empty()) {
        if (table.sink.empty()) {
          Problem(sql_at, absl::StrCat(context,
                                       ": sql needs a sink to run in (name "
                                       "a declared `sink`)"));
        } else if (!declared) {
          Problem(sink_at, absl::StrCat(context,
                                        ": sql needs a declared sink: "
                                        "add `sink { name: \"",
                                        table.sink, "\" postgres { ... } }`"));
        }
        CompileTableSql(t, sink, &table, context, sql_at);
      }
      if (sink != nullptr) table.statement_timeout = sink->statement_timeout;
      Duration(t.statement_timeout(), &table.statement_timeout, context,
               "statement_timeout",
               locator_.Find({{"table", i}, {"statement_timeout"}}));
    }
  }

 private:
  void Problem(SpecLocation where, std::string message) {
    problems_->push_back(SpecProblem{std::move(where), std::move(message)});
  }

  const Sink* Find(const std::string& name) const {
    for (const Sink& sink : rep_->sinks) {
      if (sink.name == name) return &sink;
    }
    return nullptr;
  }

  std::string UnknownSink(const std::string& context,
                          const std::string& name) const {
    std::vector<std::string> known;
    for (const Sink& sink : rep_->sinks) known.push_back(sink.name);
    std::string hint = DidYouMean(name, known);
    if (hint.empty()) {
      hint = absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")");
    }
    return absl::StrCat(context, ": unknown sink \"", name, "\"", hint);
  }

  void CompileTableSql(const TableSpec& t, const Sink* sink, Table* table,
                       const std::string& context, SpecLocation where) {
    auto is_input = [&](absl::string_view name) {
      return std::find(t.upstream().begin(), t.upstream().end(), name) !=
                 t.upstream().end() ||
             std::any_of(
                 t.input().begin(), t.input().end(),
                 [&](const InputSpec& in) { return in.table() == name; });
    };
    absl::StatusOr<std::vector<SqlStatement>> sql =
        sink != nullptr && sink->kind == Sink::Kind::kBigQuery
            ? CompileBigQuerySql(t.sql(), is_input)
            : CompileSql(t.sql(), is_input);
    if (!sql.ok()) {
      Problem(std::move(where),
              absl::StrCat(context, ": sql: ", sql.status().message()));
      return;
    }
    table->sql = *std::move(sql);
  }

  // A password in a spec would be checked into a repository with it.
  void CheckConninfo(const std::string& conninfo, const std::string& context,
                     SpecLocation where) {
    if (conninfo.empty()) return;
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
      // libpq's message may quote the text, password and all.
      PQfreemem(error);
      Problem(std::move(where),
              absl::StrCat(context,
                           ": postgres.conninfo is not a valid libpq "
                           "conninfo (key=value pairs or a postgresql:// "
                           "URI)"));
      return;
    }
    bool password = false;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) == "password" && o->val != nullptr &&
          o->val[0] != '\0') {
        password = true;
      }
    }
    PQconninfoFree(options);
    if (password) {
      Problem(std::move(where),
              absl::StrCat(context,
                           ": postgres.conninfo holds a password; specs are "
                           "checked into repositories, so take it from the "
                           "environment (PGPASSWORD), a password file "
                           "(PGPASSFILE) or a service file (PGSERVICE)"));
    }
  }

  void CheckBigQuery(const BigQuerySinkSpec& bq, const std::string& context,
                     int index, Sink* sink) {
    auto field = [&](absl::string_view name) {
      return locator_.Find({{"sink", index}, {"bigquery"}, {name}});
    };
    if (bq.project().empty()) {
      Problem(locator_.Find({{"sink", index}}),
              absl::StrCat(context, ": bigquery.project is required"));
    }
    const int sources = !bq.token_command().empty() + !bq.token_env().empty() +
                        !bq.key_file().empty();
    if (sources > 1) {
      Problem(locator_.Find({{"sink", index}, {"bigquery"}}),
              absl::StrCat(context,
                           ": bigquery takes one of token_command, token_env "
                           "and key_file"));
    }
    Duration(bq.job_timeout(), &sink->job_timeout, context,
             "bigquery.job_timeout", field("job_timeout"));
    if (!bq.endpoint().empty() && !absl::StartsWith(bq.endpoint(), "http://") &&
        !absl::StartsWith(bq.endpoint(), "https://")) {
      Problem(field("endpoint"),
              absl::StrCat(context,
                           ": bigquery.endpoint must be an http:// or "
                           "https:// URL"));
    }
    const std::string& prefix = bq.job_id_prefix();
    if (prefix.size() > 100 ||
        !std::all_of(prefix.begin(), prefix.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                 c == '_' || c == '-';
        })) {
      Problem(field("job_id_prefix"),
              absl::StrCat(context,
                           ": bigquery.job_id_prefix takes at most 100 of "
                           "A-Z, a-z, 0-9, _ and -"));
    }
  }

  void Duration(const std::string& text, absl::Duration* out,
                const std::string& context, absl::string_view field,
                SpecLocation where) {
    if (text.empty()) return;
    absl::StatusOr<absl::Duration> d = ParseSpecDuration(text);
    if (!d.ok()) {
      Problem(std::move(where),
              absl::StrCat(context, ": ", field, ": ", d.status().message()));
      return;
    }
    *out = *d;
  }

  const SpecLocator& locator_;
  const PipelineSpec& spec_;
  PipelineRep* rep_;
  std::vector<SpecProblem>* problems_;
};

}  // namespace

void ResolveSinks(const SpecLocator& locator, PipelineRep* rep,
                  std::vector<SpecProblem>* problems) {
  SinkChecker(locator, rep, problems).Sinks();
}

void ResolveTableSinks(const SpecLocator& locator, PipelineRep* rep,
                       std::vector<SpecProblem>* problems) {
  SinkChecker(locator, rep, problems).Tables();
}

}  // namespace landfall::internal
