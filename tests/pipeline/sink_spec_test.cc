// The spec's sinks and tables' sql: what loads (statements, bound
// parameters, timeouts) and every problem with its file:line.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "tests/pipeline/spec_problems.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const Pipeline> Load(const std::string& text) {
  auto pipeline = Pipeline::FromText(text, SpecFormat::kTextProto, "p");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return pipeline.ok() ? *pipeline : nullptr;
}

const std::string kSinks = R"(
sink { name: "redshift" postgres { conninfo: "service=dwh" statement_timeout: "30m" } }
sink { name: "bigquery" bigquery { project: "analytics-prod" location: "asia-northeast1" } }
pool { name: "redshift" slots: 3 }
table { name: "lake.reservations" source: true }
)";

// The statement text of table `name`'s sql, "|" between statements.
std::vector<std::string> Texts(const Pipeline& pipeline,
                               const std::string& name) {
  std::vector<std::string> texts;
  for (const SqlStatement& s : pipeline.table(*pipeline.FindTable(name)).sql) {
    texts.push_back(s.text);
  }
  return texts;
}

TEST(SinkSpecTest, PlaceholdersBecomeNumberedParametersPerStatement) {
  auto pipeline = Load(kSinks + R"(
table { name: "dwh.reservations" upstream: "lake.reservations" sink: "redshift" pool: "redshift"
        sql: "DELETE FROM dwh.reservations WHERE dt = {partition}::date; INSERT INTO dwh.reservations SELECT *, {attempt}, {input:lake.reservations} FROM lake.reservations WHERE dt = {partition}::date AND t = {table}" }
)");
  ASSERT_NE(pipeline, nullptr);
  const Table& table = pipeline->table(1);
  ASSERT_EQ(table.sql.size(), 2u);
  EXPECT_EQ(table.sql[0].text,
            "DELETE FROM dwh.reservations WHERE dt = $1::date");
  ASSERT_EQ(table.sql[0].parameters.size(), 1u);
  EXPECT_EQ(table.sql[0].parameters[0].kind, SqlParameter::Kind::kPartition);
  EXPECT_EQ(table.sql[1].text,
            "INSERT INTO dwh.reservations SELECT *, $1, $2 FROM "
            "lake.reservations WHERE dt = $3::date AND t = $4");
  ASSERT_EQ(table.sql[1].parameters.size(), 4u);
  EXPECT_EQ(table.sql[1].parameters[0].kind, SqlParameter::Kind::kAttempt);
  EXPECT_EQ(table.sql[1].parameters[1].kind, SqlParameter::Kind::kInput);
  EXPECT_EQ(table.sql[1].parameters[1].input, "lake.reservations");
  EXPECT_EQ(table.sql[1].parameters[3].kind, SqlParameter::Kind::kTable);
  EXPECT_EQ(table.statement_timeout, absl::Minutes(30));  // The sink's.
  ASSERT_NE(pipeline->FindSink("bigquery"), nullptr);
  EXPECT_EQ(pipeline->FindSink("bigquery")->kind, Sink::Kind::kBigQuery);
}

TEST(SinkSpecTest, SemicolonsAndBracesInQuotesCommentsAndDollarQuotesAreText) {
  auto pipeline = Load(kSinks + R"(
table { name: "t" upstream: "lake.reservations" sink: "redshift"
        statement_timeout: "5m"
        sql: "INSERT INTO x VALUES ('a;{b}', \"c;d\", E'e\\';f', $fn$ g; {h} $fn$); -- i; {j}\n/* k; /* {l} */ m; */ SELECT {partition}; ;  -- only a comment" }
)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_THAT(Texts(*pipeline, "t"),
              ElementsAre("INSERT INTO x VALUES ('a;{b}', \"c;d\", E'e\\';f', "
                          "$fn$ g; {h} $fn$)",
                          "-- i; {j}\n/* k; /* {l} */ m; */ SELECT $1"));
  EXPECT_EQ(pipeline->table(1).statement_timeout, absl::Minutes(5));
}

TEST(SinkSpecTest, EachSinkAndSqlProblemIsReportedWithItsLine) {
  EXPECT_THAT(
      Problems(kSinks + R"(
sink { name: "redshift" }
sink { name: "leaky" postgres { conninfo: "host=dwh password=hunter2" } }
sink { name: "uri" postgres { conninfo: "postgresql://etl:hunter2@dwh/db" } }
sink { name: "bq" bigquery { } }
table { name: "a" upstream: "lake.reservations" sink: "redshfit" }
table { name: "b" upstream: "lake.reservations" sink: "redshift" }
table { name: "c" upstream: "lake.reservations" sink: "redshift"
        sql: "SELECT {partiton}" }
table { name: "d" upstream: "lake.reservations" sink: "redshift"
        sql: "SELECT {input:nope}" }
table { name: "e" upstream: "lake.reservations" sink: "redshift"
        sql: "SELECT '{partition}'" }
table { name: "f" upstream: "lake.reservations" sql: "SELECT 1" }
table { name: "g" upstream: "lake.reservations" sink: "redshift" sql: "SELECT $1" }
table { name: "h" upstream: "lake.reservations" sink: "redshift" sql: " -- nothing\n" }
table { name: "i" upstream: "lake.reservations" sink: "redshift" sql: "SELECT 'x" statement_timeout: "soon" }
)"),
      ElementsAre(
          "p.textproto:7:1: duplicate sink \"redshift\" (first defined at "
          "line 2)",
          "p.textproto:8:33: sink \"leaky\": postgres.conninfo holds a "
          "password; specs are checked into repositories, so take it from "
          "the environment (PGPASSWORD), a password file (PGPASSFILE) or a "
          "service file (PGSERVICE)",
          "p.textproto:9:31: sink \"uri\": postgres.conninfo holds a "
          "password; specs are checked into repositories, so take it from "
          "the environment (PGPASSWORD), a password file (PGPASSFILE) or a "
          "service file (PGSERVICE)",
          "p.textproto:10:1: sink \"bq\": bigquery.project is required",
          "p.textproto:11:49: table \"a\": unknown sink \"redshfit\" (did "
          "you mean \"redshift\"?)",
          "p.textproto:12:1: table \"b\": sink \"redshift\" runs SQL, but the "
          "table has no `sql`",
          "p.textproto:14:9: table \"c\": sql: unknown placeholder "
          "{partiton} (known: {partition}, {table}, {attempt}, "
          "{input:NAME})",
          "p.textproto:16:9: table \"d\": sql: placeholder {input:nope}: "
          "\"nope\" is not an upstream of the table",
          "p.textproto:18:9: table \"e\": sql: placeholder {partition} "
          "inside the string literal '{partition}' would not be replaced: "
          "write it unquoted (it is bound as a text parameter)",
          "p.textproto:19:49: table \"f\": sql needs a sink to run in (name "
          "a declared `sink`)",
          "p.textproto:20:66: table \"g\": sql: positional parameters ($1, "
          "...) are not allowed: write placeholders such as {partition}, "
          "which become them",
          "p.textproto:21:66: table \"h\": sql: sql holds no statement",
          "p.textproto:22:66: table \"i\": sql: unterminated string literal",
          "p.textproto:22:83: table \"i\": statement_timeout: "
          "invalid duration \"soon\" (expected e.g. \"90s\", \"15m\", "
          "\"26h\", \"1h30m\")"));
}

TEST(SinkSpecTest, PasswordNeverAppearsInProblems) {
  for (const std::string& problem : Problems(R"(
sink { name: "w" postgres { conninfo: "host=dwh password=hunter2" } }
sink { name: "v" postgres { conninfo: "host='dwh password=hunter2" } }
table { name: "s" source: true }
)")) {
    EXPECT_THAT(problem, ::testing::Not(HasSubstr("hunter2")));
  }
}

TEST(SinkSpecTest, SinkNamesStayFreeHostBindingsWhenTheSpecDeclaresNone) {
  auto pipeline = Load(R"(
table { name: "s" source: true }
table { name: "t" upstream: "s" sink: "loader" }
)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(pipeline->table(1).sink, "loader");
  EXPECT_TRUE(pipeline->sinks().empty());
  // But sql needs a sink that is declared.
  EXPECT_THAT(Problems(R"(
table { name: "s" source: true }
table { name: "t" upstream: "s" sink: "loader" sql: "SELECT 1" }
)"),
              ElementsAre(HasSubstr("p.textproto:3:33: table \"t\": sql needs "
                                    "a declared sink")));
}

TEST(SinkSpecTest, AHostBoundSinkNeedsNoSqlAndASourceTakesNone) {
  auto pipeline = Load(R"(
sink { name: "custom" }
table { name: "s" source: true }
table { name: "t" upstream: "s" sink: "custom" }
)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(pipeline->FindSink("custom")->kind, Sink::Kind::kHost);
  EXPECT_THAT(Problems(R"(
sink { name: "pg" postgres { } }
table { name: "s" source: true sql: "SELECT 1" }
table { name: "t" upstream: "s" sink: "pg" sql: "SELECT 1" }
)"),
              ElementsAre("p.textproto:3:32: table \"s\": a source table has "
                          "no sql (it only receives arrivals)"));
}

TEST(SinkSpecTest, DefaultSinkIsCheckedOnceWhereItIsWritten) {
  EXPECT_THAT(Problems(R"(
sink { name: "warehouse" postgres { } }
defaults { sink: "warehuose" }
table { name: "s" source: true }
table { name: "t" upstream: "s" sql: "SELECT 1" }
)"),
              ElementsAre("p.textproto:3:12: defaults: unknown sink "
                          "\"warehuose\" (did you mean \"warehouse\"?)"));
}

TEST(SinkSpecTest, JsonSpecProblemsNameTheEntryLine) {
  EXPECT_THAT(Problems(R"({
  "sink": [
    {"name": "w",
     "postgres": {"conninfo": "host=dwh password=x"}}
  ],
  "table": [
    {"name": "s", "source": true},
    {"name": "t", "upstream": ["s"], "sink": "w",
     "sql": "SELECT {nope}"}
  ]
})",
                       SpecFormat::kJson, "p.json"),
              ElementsAre(HasSubstr("p.json:3: sink \"w\": postgres.conninfo "
                                    "holds a password"),
                          HasSubstr("p.json:8: table \"t\": sql: unknown "
                                    "placeholder {nope}")));
}

TEST(SinkSpecTest, BigQuerySinkTakesOneTokenSourceAndValidFields) {
  EXPECT_THAT(
      Problems(R"(
sink { name: "bq" bigquery { project: "p" token_env: "T" key_file: "k.json" } }
sink { name: "bq2" bigquery { project: "p" job_timeout: "forever" } }
sink { name: "bq3" bigquery { project: "p" endpoint: "localhost:9050" job_id_prefix: "a.b" } }
table { name: "s" source: true }
)"),
      ElementsAre("p.textproto:2:19: sink \"bq\": bigquery takes one of "
                  "token_command, token_env and key_file",
                  HasSubstr("p.textproto:3:44: sink \"bq2\": "
                            "bigquery.job_timeout: invalid duration"),
                  "p.textproto:4:44: sink \"bq3\": bigquery.endpoint must "
                  "be an http:// or https:// URL",
                  "p.textproto:4:71: sink \"bq3\": bigquery.job_id_prefix "
                  "takes at most 100 of A-Z, a-z, 0-9, _ and -"));
}

// GoogleSQL's lexical rules: # comments, backquoted identifiers, raw and
// triple-quoted strings and backslash escapes hide `;`, quotes and braces.
TEST(SinkSpecTest, BigQuerySqlIsOneScriptWithNamedParameters) {
  auto pipeline = Load(kSinks + R"(
table { name: "bq.daily" upstream: "lake.reservations" sink: "bigquery"
        sql: "DECLARE d DATE DEFAULT CAST({partition} AS DATE); # {not} one; 'x\n-- {nor} this\nMERGE `p.d.t;{table}` t USING (SELECT * FROM x WHERE s = r'\\\\' OR s = '''a;'{b}''' OR s = \"\"\"c\"\"\" OR @@project_id = 'p\\'{c}') s ON TRUE WHEN NOT MATCHED THEN INSERT ROW; /* {x} */ SELECT {table}, {input:lake.reservations}, {partition};" }
)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_THAT(
      Texts(*pipeline, "bq.daily"),
      ElementsAre("DECLARE d DATE DEFAULT CAST(@partition AS DATE); # {not} "
                  "one; 'x\n-- {nor} this\nMERGE `p.d.t;{table}` t USING "
                  "(SELECT * FROM x WHERE s = r'\\\\' OR s = '''a;'{b}''' OR "
                  "s = \"\"\"c\"\"\" OR @@project_id = 'p\\'{c}') s ON TRUE "
                  "WHEN NOT MATCHED THEN INSERT ROW; /* {x} */ SELECT @table, "
                  "@input_lake_reservations, @partition;"));
  const std::vector<SqlParameter>& parameters =
      pipeline->table(1).sql[0].parameters;
  ASSERT_EQ(parameters.size(), 3u);
  EXPECT_EQ(parameters[0].kind, SqlParameter::Kind::kPartition);
  EXPECT_EQ(parameters[1].kind, SqlParameter::Kind::kTable);
  EXPECT_EQ(parameters[2].kind, SqlParameter::Kind::kInput);
  EXPECT_EQ(parameters[2].input, "lake.reservations");
}

TEST(SinkSpecTest, BigQuerySqlProblemsAreReportedWithTheirLine) {
  EXPECT_THAT(
      Problems(R"(
sink { name: "bq" bigquery { project: "p" } }
table { name: "a.b" source: true }
table { name: "a_b" source: true }
table { name: "t1" upstream: "a.b" sink: "bq" sql: "SELECT @day" }
table { name: "t2" upstream: "a.b" sink: "bq" sql: "SELECT \"{partition}\"" }
table { name: "t3" upstream: "a.b" sink: "bq" sql: "SELECT 1 /* open" }
table { name: "t4" upstream: "a.b" sink: "bq" sql: "SELECT '''abc''" }
table { name: "t5" upstream: "a.b" upstream: "a_b" sink: "bq" sql: "SELECT {input:a.b}, {input:a_b}" }
table { name: "t6" upstream: "a.b" sink: "bq" sql: "# only a comment" }
)"),
      ElementsAre(
          "p.textproto:5:47: table \"t1\": sql: query parameters (@name) are "
          "not allowed: write placeholders such as {partition}, which become "
          "them",
          "p.textproto:6:47: table \"t2\": sql: placeholder {partition} "
          "inside the string literal \"{partition}\" would not be replaced: "
          "write it unquoted (it is bound as a STRING query parameter)",
          "p.textproto:7:47: table \"t3\": sql: unterminated comment",
          "p.textproto:8:47: table \"t4\": sql: unterminated string literal",
          "p.textproto:9:63: table \"t5\": sql: placeholders {input:a.b} and "
          "{input:a_b} would both be the parameter @input_a_b",
          "p.textproto:10:47: table \"t6\": sql: sql holds no statement"));
}

}  // namespace
}  // namespace landfall
