"""Tests of the ctypes binding, standard library only:

    LANDFALL_LIBRARY=build/release/lib/liblandfall.so \
        python3 -m unittest examples/python/test_landfall.py
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import unittest.mock
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import landfall  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
RECRUIT = os.path.join(HERE, "..", "recruit", "pipeline.textproto")

SPEC = """
name: "py"
priority_class { name: "etl" }
priority_class { name: "mart" }
pool { name: "wh" slots: 4 }
defaults { pool: "wh" priority_class: "etl"
  retry { max_attempts: 2 initial_backoff: "1h" } }
table { name: "src" source: true }
table { name: "load" upstream: "src" sink: "copy" }
table { name: "report" upstream: "load" priority_class: "mart" }
"""


def open_memory():
    return landfall.Scheduler(spec_text=SPEC, spec_name="py.textproto")


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class ErrorsTest(unittest.TestCase):

    def test_version(self):
        self.assertRegex(landfall.version(), r"^\d+\.\d+\.\d+$")

    def test_bad_store_uri(self):
        with self.assertRaises(landfall.LandfallError) as e:
            landfall.Scheduler(spec_text=SPEC, store="nope:")
        self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
        self.assertEqual(e.exception.code, 3)
        self.assertIn("nope:", e.exception.message)
        self.assertTrue(str(e.exception).startswith("INVALID_ARGUMENT: "))

    def test_bad_spec_names_the_line(self):
        with self.assertRaises(landfall.LandfallError) as e:
            landfall.Scheduler(spec_text='name: "x"\ntable { name: "a" '
                               'upstream: "b" }', spec_name="x.textproto")
        self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
        self.assertIn("x.textproto:2", e.exception.message)

    def test_missing_spec_file(self):
        with self.assertRaises(landfall.LandfallError) as e:
            landfall.Scheduler("/nonexistent/spec.textproto")
        self.assertEqual(e.exception.status, "NOT_FOUND")

    def test_unknown_table_and_stale_attempt(self):
        with open_memory() as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.ingest("e1", "nope", "2018-11-03")
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn('unknown table "nope"', e.exception.message)
            with self.assertRaises(landfall.LandfallError) as e:
                s.ingest("e1", "lod", "2018-11-03")
            self.assertIn('unknown table "lod" (did you mean "load"?)',
                          e.exception.message)
            with self.assertRaises(landfall.LandfallError) as e:
                s.explain("nope")
            self.assertEqual(e.exception.status, "NOT_FOUND")
            s.ingest("e1", "src", "2018-11-03")
            [task] = s.claim("w1")
            with self.assertRaises(landfall.LandfallError) as e:
                s.complete("load", "2018-11-03", task["attempt"] + 1)
            self.assertEqual(e.exception.status, "FAILED_PRECONDITION")
            self.assertIn("stale", e.exception.message)

    def test_bad_json_records_nothing(self):
        with open_memory() as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.ingest_json('{"event_id":"e1","table":"src",'
                              '"partition":"p"}\n{oops}\n')
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn("line 2", e.exception.message)
            self.assertEqual(s.last_sequence, 0)

    def test_spec_warnings(self):
        with open_memory() as s:
            [warning] = s.warnings
            self.assertRegex(warning, r"^py\.textproto:7:\d+: warning: "
                             r"defaults: retry\.initial_backoff \(1h\) "
                             r"exceeds retry\.max_backoff \(15m\)")
        with landfall.Scheduler(RECRUIT) as s:
            self.assertEqual(s.warnings, [])

    def test_closed_scheduler(self):
        s = open_memory()
        s.close()
        s.close()
        with self.assertRaises(ValueError):
            s.claim("w1")


class SchedulerTest(unittest.TestCase):

    def test_ingest_claim_complete(self):
        with landfall.Scheduler(RECRUIT) as s:
            self.assertEqual(s.pipeline_name, "recruit")
            self.assertFalse(s.ingest("e1", "jalan.reservations", "2018-11-03",
                                      at="2018-11-04T01:00:00Z",
                                      origin="s3://lake/jalan/1"))
            self.assertTrue(s.ingest("e1", "jalan.reservations",
                                     "2018-11-03"))
            tasks = s.claim("w1", max=10)
            self.assertGreater(len(tasks), 0)
            for task in tasks:
                self.assertEqual(task["partition"], "2018-11-03")
                self.assertEqual(task["attempt"], 1)
                self.assertTrue(task["lease_deadline"].endswith("Z"))
                self.assertEqual(task["inputs"][0]["table"],
                                 "jalan.reservations")
                self.assertEqual(task["inputs"][0]["origins"],
                                 ["s3://lake/jalan/1"])
                self.assertEqual(task["origins"], ["s3://lake/jalan/1"])
                self.assertTrue(task["origins_complete"])
                s.heartbeat(task["table"], task["partition"], task["attempt"])
                s.complete(task["table"], task["partition"], task["attempt"],
                           "SUCCEEDED", "done")
            states = {t["state"] for t in s.status(state="WAITING")}
            self.assertLessEqual(states, {"WAITING"})

    def test_batch_status_explain_history(self):
        with open_memory() as s:
            results = s.ingest_json([
                {"event_id": "e1", "table": "src", "partition": "2018-11-03",
                 "attributes": {"rows": "10"}},
                {"event_id": "e2", "table": "src", "partition": "2018-11-04"},
            ])
            self.assertEqual(results[0], {
                "event_id": "e1", "duplicate": False,
                "made_ready": [{"table": "load", "partition": "2018-11-03"}]})
            [task] = s.claim("w1", pools=["wh"], classes=["etl"])
            s.complete(task["table"], task["partition"], task["attempt"],
                       landfall.FATAL, "bad rows")
            self.assertIn("DEAD", s.explain("load", "2018-11-03"))
            [dead] = s.status("load", "DEAD")
            self.assertEqual(dead["last_error"], "bad rows")
            history = s.history()
            self.assertEqual([h["seq"] for h in history],
                             list(range(1, s.last_sequence + 1)))
            self.assertEqual(history[0]["attributes"], {"rows": "10"})
            self.assertEqual(s.history(from_seq=3, max=1)[0]["seq"], 3)

    def test_operations(self):
        with open_memory() as s:
            s.ingest("e1", "src", "2018-11-03")
            [task] = s.claim("w1")
            s.complete("load", "2018-11-03", task["attempt"], "FATAL")
            s.redrive("load", "2018-11-03")
            with self.assertRaises(landfall.LandfallError) as e:
                s.redrive("load", "2018-11-03")
            self.assertEqual(e.exception.status, "FAILED_PRECONDITION")
            [task] = s.claim("w1")
            s.complete("load", "2018-11-03", task["attempt"], "FATAL")
            s.mark_succeeded("load", "2018-11-03")
            s.pause_table("report")
            self.assertEqual(s.claim("w1"), [])
            s.resume_table("report")
            s.pause_class("mart")
            self.assertEqual(s.claim("w1"), [])
            s.resume_class("mart")
            [task] = s.claim("w1")
            self.assertEqual(task["table"], "report")
            s.rerun("load", "2018-11-03", with_descendants=True)
            with self.assertRaises(landfall.LandfallError) as e:
                s.pause_class("vip")
            self.assertEqual(e.exception.status, "NOT_FOUND")

    def test_subscription(self):
        with open_memory() as s:
            s.ingest("e1", "src", "2018-11-03")
            seen, new = [], []
            first = s.subscribe(seen.append, from_seq=1)
            s.subscribe(new.append)
            self.assertEqual(len(seen), s.last_sequence)
            s.ingest("e2", "src", "2018-11-04")
            self.assertEqual([e["seq"] for e in seen],
                             list(range(1, s.last_sequence + 1)))
            self.assertEqual(new[0]["kind"], "arrival")
            s.unsubscribe(first)
            before = s.last_sequence
            s.ingest("e3", "src", "2018-11-05")
            self.assertEqual(seen[-1]["seq"], before)
            self.assertEqual(new[-1]["seq"], s.last_sequence)
            with self.assertRaises(landfall.LandfallError) as e:
                s.unsubscribe(first)
            self.assertEqual(e.exception.status, "NOT_FOUND")

    def test_sqlite_store_reopens(self):
        with tempfile.TemporaryDirectory() as tmp:
            store = "sqlite:" + os.path.join(tmp, "state.db")
            with landfall.Scheduler(spec_text=SPEC, store=store) as s:
                s.ingest("e1", "src", "2018-11-03")
                seq = s.last_sequence
            with landfall.Scheduler(store=store) as s:
                self.assertEqual(s.pipeline_name, "py")
                self.assertEqual(s.last_sequence, seq)


class ReadOnlyTest(unittest.TestCase):

    def test_opening_without_a_spec_creates_no_store(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "missing.db")
            with self.assertRaises(landfall.LandfallError) as e:
                landfall.Scheduler(store="sqlite:" + path)
            self.assertEqual(e.exception.status, "NOT_FOUND")
            self.assertEqual(os.listdir(tmp), [])

    def test_reads_and_refuses_writes_leaving_the_file_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.db")
            store = "sqlite:" + path
            with landfall.Scheduler(spec_text=SPEC, store=store) as s:
                s.ingest("e1", "src", "2018-11-03")
                seq = s.last_sequence
            with open(path, "rb") as f:
                before = f.read()
            with landfall.Scheduler(store=store, read_only=True) as s:
                self.assertEqual(s.last_sequence, seq)
                self.assertEqual(len(s.history()), seq)
                [ready] = s.status("load", "READY")
                self.assertEqual(ready["partition"], "2018-11-03")
                with self.assertRaises(landfall.LandfallError) as e:
                    s.ingest("e2", "src", "2018-11-04")
                self.assertEqual(e.exception.status, "PERMISSION_DENIED")
                with self.assertRaises(landfall.LandfallError) as e:
                    s.claim("w1")
                self.assertEqual(e.exception.status, "PERMISSION_DENIED")
            with open(path, "rb") as f:
                self.assertEqual(f.read(), before)

    def test_missing_file_is_not_found_and_not_created(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "missing.db")
            with self.assertRaises(landfall.LandfallError) as e:
                landfall.Scheduler(store="sqlite:" + path, read_only=True)
            self.assertEqual(e.exception.status, "NOT_FOUND")
            self.assertIn(path, e.exception.message)
            self.assertEqual(os.listdir(tmp), [])

    def test_a_spec_is_refused(self):
        with self.assertRaises(ValueError):
            landfall.Scheduler(spec_text=SPEC, store="sqlite:x",
                               read_only=True)


class _Postgres:
    """The test server's libpq, through ctypes: the binding's tests need
    nothing but the standard library."""

    def __init__(self, conninfo):
        import ctypes.util  # pylint: disable=import-outside-toplevel
        name = ctypes.util.find_library("pq") or "libpq.so.5"
        self._pq = ctypes.CDLL(name)
        self._pq.PQconnectdb.restype = ctypes.c_void_p
        self._pq.PQconnectdb.argtypes = [ctypes.c_char_p]
        self._pq.PQstatus.argtypes = [ctypes.c_void_p]
        self._pq.PQerrorMessage.restype = ctypes.c_char_p
        self._pq.PQerrorMessage.argtypes = [ctypes.c_void_p]
        self._pq.PQexec.restype = ctypes.c_void_p
        self._pq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._pq.PQresultStatus.argtypes = [ctypes.c_void_p]
        self._pq.PQntuples.argtypes = [ctypes.c_void_p]
        self._pq.PQgetvalue.restype = ctypes.c_char_p
        self._pq.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                        ctypes.c_int]
        self._pq.PQclear.argtypes = [ctypes.c_void_p]
        self._pq.PQfinish.argtypes = [ctypes.c_void_p]
        self._conninfo = conninfo.encode()

    def query(self, sql):
        """The first value `sql` gives, or None; RuntimeError on error."""
        conn = self._pq.PQconnectdb(self._conninfo)
        try:
            if self._pq.PQstatus(conn) != 0:  # CONNECTION_OK
                raise RuntimeError(self._pq.PQerrorMessage(conn).decode())
            result = self._pq.PQexec(conn, sql.encode())
            try:
                if self._pq.PQresultStatus(result) not in (1, 2):
                    raise RuntimeError(
                        self._pq.PQerrorMessage(conn).decode())
                if self._pq.PQntuples(result) == 0:
                    return None
                return self._pq.PQgetvalue(result, 0, 0).decode()
            finally:
                self._pq.PQclear(result)
        finally:
            self._pq.PQfinish(conn)


class _PostgresTestCase(unittest.TestCase):
    """A test on the server of $LANDFALL_TEST_POSTGRES (which .ci/postgres
    starts), in a schema of its own, dropped after. Skipped without a
    server; failed when CI=true."""

    def setUp(self):
        self.server = os.environ.get("LANDFALL_TEST_POSTGRES", "")
        if not self.server:
            if os.environ.get("CI") == "true":
                self.fail("CI=true but LANDFALL_TEST_POSTGRES is not set: "
                          ".ci/test starts the server with .ci/postgres")
            self.skipTest("no PostgreSQL server: set LANDFALL_TEST_POSTGRES "
                          "(eval \"$(bash .ci/postgres start && bash "
                          ".ci/postgres env)\")")
        self.pg = _Postgres(self.server)
        self.schema = f"py_test_{os.getpid()}_{time.monotonic_ns()}"
        self.addCleanup(self.pg.query,
                        "SET client_min_messages = warning; DROP SCHEMA IF "
                        f'EXISTS "{self.schema}" CASCADE')


class PostgresStoreTest(_PostgresTestCase):
    """The binding on the PostgreSQL store."""

    def uri(self, schema):
        separator = "&" if "?" in self.server else "?"
        return f"{self.server}{separator}schema={schema}"

    def schema_exists(self, schema):
        return self.pg.query("SELECT count(*) FROM pg_namespace WHERE "
                             f"nspname = '{schema}'") == "1"

    def test_ingest_claim_complete_history(self):
        store = self.uri(self.schema)
        with landfall.Scheduler(spec_text=SPEC, store=store) as s:
            self.assertFalse(s.ingest("e1", "src", "2018-11-03"))
            self.assertTrue(s.ingest("e1", "src", "2018-11-03"))
            [task] = s.claim("w1")
            self.assertEqual((task["table"], task["attempt"]), ("load", 1))
            s.complete("load", "2018-11-03", task["attempt"], "SUCCEEDED")
            kinds = [h["kind"] for h in s.history()]
            self.assertIn("claimed", kinds)
            self.assertEqual(kinds[-2:], ["succeeded", "ready"])
            seq = s.last_sequence
        self.assertTrue(self.schema_exists(self.schema))
        # Another handle, without a spec, reads the same state and history.
        with landfall.Scheduler(store=store) as s:
            self.assertEqual(s.pipeline_name, "py")
            self.assertEqual(s.last_sequence, seq)
            [report] = s.status("report")
            self.assertEqual(report["state"], "READY")
        with landfall.Scheduler(store=store, read_only=True) as s:
            self.assertEqual(len(s.history()), seq)
            with self.assertRaises(landfall.LandfallError) as e:
                s.ingest("e2", "src", "2018-11-04")
            self.assertEqual(e.exception.status, "PERMISSION_DENIED")
            self.assertEqual(s.last_sequence, seq)

    def test_read_only_open_of_a_missing_schema_creates_nothing(self):
        typo = self.schema + "_typo"
        with self.assertRaises(landfall.LandfallError) as e:
            landfall.Scheduler(store=self.uri(typo), read_only=True)
        self.assertEqual(e.exception.status, "NOT_FOUND")
        self.assertIn(f'no landfall store in schema "{typo}"',
                      e.exception.message)
        self.assertNotIn("landfall-test-secret", e.exception.message)
        self.assertFalse(self.schema_exists(typo))


class LibrarySearchTest(unittest.TestCase):
    """library=, then $LANDFALL_LIBRARY, then the package's directory, then
    the system's loader."""

    def setUp(self):
        self.built = os.environ.get("LANDFALL_LIBRARY")
        if not self.built:
            self.skipTest("needs LANDFALL_LIBRARY: the built library")
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        # A copy of the package, imported under another name.
        package = os.path.join(self.tmp, "landfall")
        os.mkdir(package)
        shutil.copy(landfall.__file__, package)
        spec = importlib.util.spec_from_file_location(
            "landfall_copy", os.path.join(package, "__init__.py"))
        self.copy = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.copy)
        self.beside = os.path.join(package, "liblandfall.so.0")

    def without_env(self):
        env = dict(os.environ)
        del env["LANDFALL_LIBRARY"]
        return unittest.mock.patch.dict(os.environ, env, clear=True)

    def test_order(self):
        with self.without_env():
            self.assertEqual(self.copy.library_path(), "liblandfall.so.0")
            # The same file: two copies of one library cannot share a process.
            os.symlink(os.path.realpath(self.built), self.beside)
            self.assertEqual(self.copy.library_path(), self.beside)
            self.assertRegex(self.copy.version(), r"^\d+\.\d+\.\d+$")
            self.assertEqual(self.copy.library_path("/x/lib.so"), "/x/lib.so")
        self.assertEqual(self.copy.library_path(), self.built)

    def test_not_found_says_where_it_looked(self):
        with self.without_env():
            with self.assertRaises(OSError) as e:
                self.copy.load_library("/nonexistent/liblandfall.so.0")
        self.assertIn("LANDFALL_LIBRARY", str(e.exception))
        self.assertIn(os.path.dirname(self.beside), str(e.exception))


SINK_SPEC = """
name: "sinks"
sink { name: "pg" postgres { } }
table { name: "src" source: true }
table { name: "load" upstream: "src" sink: "pg"
        sql: "INSERT INTO @S@.loaded VALUES ({partition}, {attempt}::int)" }
table { name: "report" upstream: "load" }
"""


class PostgresSinkTest(_PostgresTestCase):
    """A runner that builds the tables of the spec's postgres sinks."""

    def test_spec_sink_runs_its_sql_and_the_executor_the_rest(self):
        self.pg.query(f"CREATE SCHEMA {self.schema}; CREATE TABLE "
                      f"{self.schema}.loaded (dt text, attempt int)")
        ran = []
        spec = SINK_SPEC.replace("@S@", self.schema)
        with landfall.Scheduler(spec_text=spec) as s:
            # The spec's conninfo is libpq's environment; the host gives its
            # own, password and all.
            runner = s.runner(lambda task: ran.append(task["table"]),
                              idle_poll_ms=20, spec_sinks=True,
                              sink_conninfo={"pg": self.server})
            with runner:
                s.ingest("e1", "src", "2018-11-03")
                runner.notify()
                summary = runner.wait_idle(quiet=0.05, timeout=20)
            runner.close()
            self.assertTrue(summary["idle"])
            self.assertEqual(summary["tasks"]["SUCCEEDED"], 2, s.history())
        self.assertEqual(ran, ["report"])
        self.assertEqual(self.pg.query(
            f"SELECT dt || '/' || attempt FROM {self.schema}.loaded"),
            "2018-11-03/1")


class RunnerTest(unittest.TestCase):

    def test_python_executor(self):
        lock = threading.Lock()
        ran = []

        def execute(task):
            with lock:
                ran.append((task["table"], task["partition"]))
            if task["partition"] == "2018-11-04":
                raise landfall.FatalError("no such schema")
            return landfall.SUCCEEDED, "built " + task["table"]

        with open_memory() as s:
            runner = s.runner(execute, worker="py-host", max_workers=2,
                              idle_poll_ms=20)
            with runner:
                s.ingest("e1", "src", "2018-11-03")
                s.ingest("e2", "src", "2018-11-04")
                runner.notify()
                self.assertTrue(wait_for(
                    lambda: runner.stats()["succeeded"] == 2 and
                    runner.stats()["failed"] == 1))
            runner.close()
            self.assertEqual(sorted(ran), [("load", "2018-11-03"),
                                           ("load", "2018-11-04"),
                                           ("report", "2018-11-03")])
            [dead] = s.status("load", "DEAD")
            self.assertIn("executor raised FatalError: no such schema",
                          dead["last_error"])
            details = [h.get("detail") for h in s.history()]
            self.assertIn("built report", details)
            workers = {h["worker"] for h in s.history() if "worker" in h}
            self.assertEqual(workers, {"py-host"})

    def run_one_raising(self, **options):
        """Runs load/2018-11-03 once with an executor that raises
        RuntimeError; returns its status."""
        def execute(task):
            raise RuntimeError("warehouse busy")

        with open_memory() as s:
            runner = s.runner(execute, idle_poll_ms=20, **options)
            with runner:
                s.ingest("e1", "src", "2018-11-03")
                runner.notify()
                self.assertTrue(wait_for(
                    lambda: runner.stats()["failed"] == 1))
            runner.close()
            [status] = s.status("load")
            return status

    def test_an_exception_is_retryable_by_default(self):
        status = self.run_one_raising()
        self.assertEqual(status["state"], "RETRY_WAIT")
        self.assertEqual(status["last_error"],
                         "executor raised RuntimeError: warehouse busy")

    def test_on_exception_fatal_dead_letters_it(self):
        self.assertEqual(
            self.run_one_raising(on_exception=landfall.FATAL)["state"], "DEAD")
        self.assertEqual(
            self.run_one_raising(on_exception="FATAL")["state"], "DEAD")

    def test_wait_idle_counts_tasks_and_attempts(self):
        def execute(task):
            if task["partition"] == "2018-11-04":
                return landfall.FATAL, "no warehouse"
            return None

        with open_memory() as s:
            with s.runner(execute, idle_poll_ms=20) as runner:
                s.ingest("e1", "src", "2018-11-03")
                s.ingest("e2", "src", "2018-11-04")
                runner.notify()
                summary = runner.wait_idle(quiet=0.05, timeout=10)
                self.assertFalse(
                    runner.wait_idle(quiet=60, timeout=0)["idle"])
            runner.close()
        self.assertTrue(summary["idle"])
        self.assertEqual(summary["tasks"]["SUCCEEDED"], 2)
        self.assertEqual(summary["tasks"]["DEAD"], 1)
        self.assertEqual(summary["tasks"]["BLOCKED"], 1)
        self.assertEqual(summary["attempts"], {
            "succeeded": 2, "retryable": 0, "fatal": 1, "abandoned": 0})

    def test_metrics_are_served_for_prometheus(self):
        with open_memory() as s:
            with s.runner(lambda task: None, idle_poll_ms=20,
                          metrics_listen="127.0.0.1:0") as runner:
                self.assertGreater(runner.metrics_port, 0)
                s.ingest("e1", "src", "2018-11-03")
                runner.notify()
                runner.wait_idle(quiet=0.05, timeout=10)
                url = "http://127.0.0.1:%d/metrics" % runner.metrics_port
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read().decode()
            runner.close()
        self.assertIn("# TYPE landfall_attempts_started_total counter", body)
        self.assertIn("landfall_dead_letter_tasks 0", body)

    def test_bad_options(self):
        with open_memory() as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.runner(lambda task: None, max_workers=0)
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            with self.assertRaises(ValueError):
                s.runner(lambda task: None, on_exception=landfall.SUCCEEDED)

    def test_alert_webhook_is_checked_and_kept_secret(self):
        with open_memory() as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.runner(lambda task: None,
                         alert_webhooks=["ftp://hooks.example/T0/SECRET"])
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn("ftp://hooks.example/...", str(e.exception))
            self.assertNotIn("SECRET", str(e.exception))
            runner = s.runner(lambda task: None,
                              alert_webhooks=["http://127.0.0.1:1/T0/S"],
                              alert_queue_wait_ms=60000)
            runner.close()

    def test_alert_webhook_from_environment_or_file_is_named_when_missing(self):
        os.environ.pop("LANDFALL_PY_NO_HOOK", None)
        with open_memory() as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.runner(lambda task: None,
                         alert_webhook_env=["LANDFALL_PY_NO_HOOK"])
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn("LANDFALL_PY_NO_HOOK is not set", str(e.exception))
            with tempfile.TemporaryDirectory() as d:
                hook = os.path.join(d, "hook")
                with open(hook, "w") as f:
                    f.write(" http://127.0.0.1:1/T0/SECRET\n")
                runner = s.runner(lambda task: None,
                                  alert_webhook_files=[hook])
                runner.close()

    def test_sink_conninfo_names_a_postgres_sink_of_the_spec(self):
        with landfall.Scheduler(spec_text=SINK_SPEC) as s:
            with self.assertRaises(landfall.LandfallError) as e:
                s.runner(lambda task: None, spec_sinks=True,
                         sink_conninfo={"warehouse": "host=127.0.0.1"})
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn('"warehouse"', e.exception.message)
            with self.assertRaises(ValueError):
                s.runner(lambda task: None,
                         sink_conninfo={"pg": "host=127.0.0.1"})


def sqs_call(endpoint, action, body):
    """One call of the SQS JSON protocol, unsigned: the emulator ignores
    signatures, and the test only prepares the queue."""
    request = urllib.request.Request(
        endpoint + "/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "AmazonSQS." + action})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


class SqsSourceTest(unittest.TestCase):

    def test_bad_queue_url_is_refused(self):
        with open_memory() as s:
            runner = s.runner(lambda task: None)
            with self.assertRaises(landfall.LandfallError) as e:
                runner.add_sqs_source("ftp://queue")
            self.assertEqual(e.exception.status, "INVALID_ARGUMENT")
            self.assertIn("ftp://queue", str(e.exception))
            runner.close()

    def test_notification_from_the_emulator_is_built(self):
        endpoint = os.environ.get("LANDFALL_TEST_SQS_ENDPOINT")
        if not endpoint:
            if os.environ.get("CI") == "true":
                self.fail("CI=true but LANDFALL_TEST_SQS_ENDPOINT is not set")
            self.skipTest("no SQS emulator: LANDFALL_TEST_SQS_ENDPOINT is not "
                          "set (bash .ci/fauxqs start)")
        url = sqs_call(endpoint, "CreateQueue",
                       {"QueueName": f"landfall-py-{os.getpid()}"})["QueueUrl"]
        record = {"eventName": "ObjectCreated:Put",
                  "eventTime": "2018-11-04T01:00:00.000Z",
                  "s3": {"bucket": {"name": "lake"},
                         "object": {"key": "src/2018-11-03/part-0",
                                    "sequencer": "01"}}}
        sqs_call(endpoint, "SendMessage",
                 {"QueueUrl": url,
                  "MessageBody": json.dumps({"Records": [record]})})
        built = []
        env = {"AWS_ACCESS_KEY_ID": "AKIDLANDFALLTEST",
               "AWS_SECRET_ACCESS_KEY": "landfall-test-secret-key",
               "AWS_REGION": "us-east-1"}
        with unittest.mock.patch.dict(os.environ, env), open_memory() as s:
            runner = s.runner(lambda task: built.append(task["table"]),
                              idle_poll_ms=20)
            runner.add_sqs_source(url, endpoint=endpoint)
            with runner:
                self.assertTrue(wait_for(lambda: "report" in built))
            runner.close()
        self.assertEqual(built, ["load", "report"])
        left = sqs_call(endpoint, "GetQueueAttributes",
                        {"QueueUrl": url, "AttributeNames": ["All"]})
        self.assertEqual(
            left["Attributes"]["ApproximateNumberOfMessages"], "0")


class ExampleHostTest(unittest.TestCase):

    def test_runs(self):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "example_host.py")],
            check=True, capture_output=True, text=True).stdout
        self.assertIn("succeeded", out)


if __name__ == "__main__":
    unittest.main()
