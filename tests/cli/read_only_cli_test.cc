// The commands that only read (status, explain, freshness, dlq list,
// history, dot --state) never create, migrate or change a state store: a
// missing, empty or foreign one exits 2 naming it and stays byte for byte (and
// modification time) as it was; on PostgreSQL a mistyped schema is not
// created.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "landfall/state_store.h"
#include "tests/file_state.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSpec[] = R"(
name: "ro_cli"
table { name: "landed" source: true }
table { name: "built" upstream: "landed" }
)";

// Every read-only command, with STATE where its --state value goes.
const std::vector<std::string>& ReadCommands() {
  static const auto* commands = new std::vector<std::string>{
      "status --state STATE",        "explain --state STATE built 2018-11-03",
      "freshness --state STATE",     "dlq --state STATE list",
      "history --state STATE",       "history --state STATE --json",
      "status --state sqlite:STATE", "dot --state STATE",
  };
  return *commands;
}

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// Runs `landfall ARGS` through the shell.
Result RunCli(const std::string& args) {
  FILE* out =
      popen(absl::StrCat(LANDFALL_CLI, " ", args, " 2>&1").c_str(), "r");
  Result result;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), out)) {
    result.output.append(buffer, n);
  }
  const int status = pclose(out);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string WithState(const std::string& command, const std::string& state) {
  return absl::StrReplaceAll(command, {{"STATE", "'" + state + "'"}});
}

class ReadOnlyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    std::ofstream(spec_) << kSpec;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `sql` on the file at db_ with SQLite directly.
  void ExecSqlite(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // Runs every read command on `path`, expecting exit 2 and `message`, and
  // the file as it was.
  void ExpectRefusedAndUnchanged(const std::string& path,
                                 const std::string& message) {
    const FileState before = AgedState(path);
    for (const std::string& command : ReadCommands()) {
      const Result r = RunCli(WithState(command, path));
      EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
      EXPECT_THAT(r.output, HasSubstr(message)) << command;
      EXPECT_THAT(r.output, HasSubstr(path)) << command;
      EXPECT_TRUE(StateOf(path) == before) << command << " changed " << path;
    }
  }

  const std::string dir_ =
      ::testing::TempDir() + "landfall-ro-cli-" + std::to_string(getpid());
  const std::string spec_ = dir_ + "/spec.textproto";
  const std::string db_ = dir_ + "/state.db";
};

TEST_F(ReadOnlyCliTest, MissingFileExitsTwoAndIsNotCreated) {
  for (const std::string& command : ReadCommands()) {
    const Result r = RunCli(WithState(command, db_));
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_THAT(r.output,
                HasSubstr(absl::StrCat("no state store at ", db_,
                                       "; create one with `landfall init")))
        << command;
  }
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    files.push_back(e.path().filename().string());
  }
  EXPECT_THAT(files, ElementsAre("spec.textproto"));
}

TEST_F(ReadOnlyCliTest, EmptyFileExitsTwoAndStaysEmpty) {
  std::ofstream(db_).close();
  ExpectRefusedAndUnchanged(db_, "an empty file, not a landfall state file");
  EXPECT_EQ(fs::file_size(db_), 0u);
}

TEST_F(ReadOnlyCliTest, TextFileExitsTwoAndIsLeftAlone) {
  std::ofstream(db_) << "id,name\n1,orders\n";
  ExpectRefusedAndUnchanged(db_, "not a landfall state file");
}

TEST_F(ReadOnlyCliTest, AnotherApplicationsSqliteFileExitsTwoAndIsLeftAlone) {
  ExecSqlite("CREATE TABLE orders (id INTEGER)");
  ExpectRefusedAndUnchanged(db_,
                            "an SQLite file, but not a landfall state file");
}

TEST_F(ReadOnlyCliTest, StoreIsReadLeavingItsBytesAndTime) {
  ASSERT_EQ(RunCli(absl::StrCat("init ", spec_, " --state ", db_)).exit_code,
            0);
  const Result ingest = RunCli(
      absl::StrCat("ingest --state ", db_,
                   " --table landed --partition 2018-11-03 --event-id e1"));
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  const FileState before = AgedState(db_);
  for (const std::string& command : ReadCommands()) {
    const Result r = RunCli(WithState(command, db_));
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_TRUE(StateOf(db_) == before) << command << " changed the file";
  }
  EXPECT_THAT(RunCli(WithState("status --state STATE", db_)).output,
              HasSubstr("built/2018-11-03"));
  // --spec on a read command checks, and never deploys.
  std::ofstream(dir_ + "/other.textproto")
      << kSpec << "table { name: \"more\" upstream: \"built\" }\n";
  const Result other = RunCli(absl::StrCat("status --state ", db_, " --spec ",
                                           dir_, "/other.textproto"));
  EXPECT_EQ(other.exit_code, 1) << other.output;
  EXPECT_THAT(other.output, HasSubstr("runs another spec"));
  EXPECT_TRUE(StateOf(db_) == before);
}

TEST_F(ReadOnlyCliTest, StoreWithoutAPipelineExitsTwo) {
  // What a landfall before this rule left of an empty file: the schema,
  // and no pipeline.
  ASSERT_TRUE(OpenSqliteStore(db_).ok());
  ExpectRefusedAndUnchanged(db_, "holds no pipeline");
}

TEST_F(ReadOnlyCliTest, AStoreFromANewerLandfallGetsNoDeployHint) {
  ASSERT_EQ(RunCli(absl::StrCat("init ", spec_, " --state ", db_)).exit_code,
            0);
  {
    // An entry of a kind a newer landfall wrote.
    absl::StatusOr<std::shared_ptr<StateStore>> store = OpenSqliteStore(db_);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Begin(StateStore::Access::kWrite).ok());
    absl::StatusOr<int64_t> last = (*store)->LastSequence();
    ASSERT_TRUE(last.ok()) << last.status();
    JournalEntry entry;
    entry.set_seq(*last + 1);
    entry.set_at_ns(1);
    entry.set_kind(99);
    entry.set_table("landed");
    ASSERT_TRUE((*store)->AppendEntries({entry}).ok());
    ASSERT_TRUE((*store)->Commit().ok());
  }
  for (const std::string& command :
       {absl::StrCat("init ", spec_, " --state ", db_),
        absl::StrCat("ingest --state ", db_, " --spec ", spec_,
                     " --table landed --partition 2018-11-03 --event-id e1"),
        absl::StrCat("status --state ", db_, " --spec ", spec_)}) {
    const Result r = RunCli(command);
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("written by a newer landfall")) << command;
    EXPECT_THAT(r.output, Not(HasSubstr("landfall deploy"))) << command;
  }
}

TEST(ReadOnlyPostgresCliTest, MistypedSchemaExitsTwoAndIsNotCreated) {
  LANDFALL_REQUIRE_POSTGRES();
  const std::string server = TestPostgres();
  const std::string schema = NewTestSchema() + "_typo";
  const std::string uri =
      absl::StrCat(server, server.find('?') == std::string::npos ? "?" : "&",
                   "schema=", schema);
  for (const std::string& command : ReadCommands()) {
    if (absl::StrContains(command, "sqlite:")) continue;
    const Result r = RunCli(WithState(command, uri));
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(absl::StrCat(
                              "no landfall store in schema \"", schema, "\"")))
        << command;
    EXPECT_EQ(QueryTestServer(absl::StrCat(
                  "SELECT count(*) FROM pg_namespace WHERE nspname = '", schema,
                  "'")),
              "0")
        << command << " created the schema";
  }
  EXPECT_EQ(DropTestSchema(schema), "");
}

}  // namespace
}  // namespace landfall::testing
