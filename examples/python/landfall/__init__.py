"""landfall: a ctypes binding over liblandfall's C API (landfall/landfall.h).

Only the standard library is needed. `pip install examples/python` installs
it as the package `landfall`. The shared library is the first of:

  1. the path given as `library=`;
  2. the path in the LANDFALL_LIBRARY environment variable;
  3. liblandfall.so.0 in this package's own directory (copy it into
     examples/python/landfall/ before `pip install` to ship it inside);
  4. liblandfall.so.0 as the system's loader finds it (LD_LIBRARY_PATH,
     ldconfig's cache: after `cmake --install` to /usr/local, run ldconfig).

    import landfall
    with landfall.Scheduler("examples/recruit/pipeline.textproto") as s:
        s.ingest("e1", "jalan.reservations", "2018-11-03")
        for task in s.claim("worker-1", max=10):
            s.complete(task["table"], task["partition"], task["attempt"])

Every failed call raises LandfallError, which carries the status name
("NOT_FOUND", "FAILED_PRECONDITION", ...), its code and the message. Records
(claimed tasks, task status, history entries) come back as dicts with the
fields the C API's JSON documents.
"""

import ctypes
import json
import os
import threading

SUCCEEDED = 0
RETRYABLE = 1
FATAL = 2
LEASE_EXPIRED = 3
_OUTCOMES = {"SUCCEEDED": SUCCEEDED, "RETRYABLE": RETRYABLE, "FATAL": FATAL,
             "LEASE_EXPIRED": LEASE_EXPIRED}
# The task states, in the order of the C API's LANDFALL_TASK_ values.
TASK_STATES = ("WAITING", "READY", "RUNNING", "RETRY_WAIT", "DEAD", "BLOCKED",
               "PAUSED", "SUCCEEDED", "EXPIRED")


class FatalError(Exception):
    """Raised by a Runner's executor: the attempt failed for good (FATAL,
    straight to the dead letter), whatever the runner's `on_exception`."""


class LandfallError(Exception):
    """A landfall call failed: `status` names the code, `message` says why."""

    def __init__(self, code, status, message):
        super().__init__(f"{status}: {message}")
        self.code = code
        self.status = status
        self.message = message


_c_char_pp = ctypes.POINTER(ctypes.c_void_p)  # char**: freed by landfall_free.
_ENTRY_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p,
                             ctypes.c_size_t)
_EXECUTOR_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_void_p, ctypes.c_size_t)

# name: (restype, argtypes). Every int-returning function ends in char** errmsg.
_SIGNATURES = {
    "landfall_status_name": (ctypes.c_char_p, [ctypes.c_int]),
    "landfall_free": (None, [ctypes.c_void_p]),
    "landfall_version": (ctypes.c_char_p, []),
    "landfall_scheduler_open": (ctypes.c_int, [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
        _c_char_pp]),
    "landfall_scheduler_open_read_only": (ctypes.c_int, [
        ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "landfall_scheduler_open_text": (ctypes.c_int, [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "landfall_scheduler_close": (None, [ctypes.c_void_p]),
    "landfall_pipeline_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_pipeline_warnings": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_ingest": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
        ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
        _c_char_pp]),
    "landfall_ingest_json": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, _c_char_pp,
        _c_char_pp]),
    "landfall_task_table": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_partition": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_attempt": (ctypes.c_int64, [ctypes.c_void_p]),
    "landfall_task_pool": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_class": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_sink": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_lease_deadline": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_inputs_json": (ctypes.c_char_p, [ctypes.c_void_p]),
    "landfall_task_origin_count": (ctypes.c_size_t, [ctypes.c_void_p]),
    "landfall_task_origin": (ctypes.c_char_p, [ctypes.c_void_p,
                                               ctypes.c_size_t]),
    "landfall_task_origins_complete": (ctypes.c_int, [ctypes.c_void_p]),
    "landfall_task_cancelled": (ctypes.c_int, [ctypes.c_void_p]),
    "landfall_claim": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "landfall_claims_count": (ctypes.c_size_t, [ctypes.c_void_p]),
    "landfall_claims_at": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_size_t]),
    "landfall_claims_destroy": (None, [ctypes.c_void_p]),
    "landfall_heartbeat": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64,
        _c_char_pp]),
    "landfall_complete": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64,
        ctypes.c_int, ctypes.c_char_p, _c_char_pp]),
    "landfall_explain": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, _c_char_pp,
        _c_char_pp]),
    "landfall_status": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, _c_char_pp,
        _c_char_pp]),
    "landfall_read_history": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int64, ctypes.c_size_t, _c_char_pp,
        _c_char_pp]),
    "landfall_last_sequence": (ctypes.c_int64, [ctypes.c_void_p]),
    "landfall_subscribe": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int64, _ENTRY_FN, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), _c_char_pp]),
    "landfall_unsubscribe": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_uint64, _c_char_pp]),
    "landfall_redrive": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_mark_succeeded": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_rerun": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
        _c_char_pp]),
    "landfall_pause_table": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_resume_table": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_pause_class": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_resume_class": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_runner_options_create": (ctypes.c_void_p, []),
    "landfall_runner_options_destroy": (None, [ctypes.c_void_p]),
    "landfall_runner_options_set_worker": (None, [
        ctypes.c_void_p, ctypes.c_char_p]),
    "landfall_runner_options_set_max_workers": (None, [
        ctypes.c_void_p, ctypes.c_int]),
    "landfall_runner_options_set_idle_poll_ms": (None, [
        ctypes.c_void_p, ctypes.c_int64]),
    "landfall_runner_options_add_alert_webhook": (None, [
        ctypes.c_void_p, ctypes.c_char_p]),
    "landfall_runner_options_add_alert_webhook_env": (None, [
        ctypes.c_void_p, ctypes.c_char_p]),
    "landfall_runner_options_add_alert_webhook_file": (None, [
        ctypes.c_void_p, ctypes.c_char_p]),
    "landfall_runner_options_set_alert_queue_wait_ms": (None, [
        ctypes.c_void_p, ctypes.c_int64]),
    "landfall_runner_options_set_alert_check_interval_ms": (None, [
        ctypes.c_void_p, ctypes.c_int64]),
    "landfall_runner_options_set_spec_sinks": (None, [
        ctypes.c_void_p, ctypes.c_int]),
    "landfall_runner_options_set_sink_conninfo": (None, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "landfall_runner_create": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_void_p, _EXECUTOR_FN, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "landfall_runner_options_set_metrics_listen": (None, [
        ctypes.c_void_p, ctypes.c_char_p]),
    "landfall_runner_options_set_statsd": (None, [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "landfall_runner_metrics_port": (ctypes.c_int, [ctypes.c_void_p]),
    "landfall_runner_start": (ctypes.c_int, [ctypes.c_void_p, _c_char_pp]),
    "landfall_runner_add_sqs_source": (
        ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_char_p, ctypes.c_char_p, _c_char_pp]),
    "landfall_runner_notify": (None, [ctypes.c_void_p]),
    "landfall_runner_stop": (None, [ctypes.c_void_p, ctypes.c_int64]),
    "landfall_runner_stats": (None, [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int)]),
    "landfall_runner_wait_idle": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
        ctypes.POINTER(ctypes.c_void_p), _c_char_pp]),
    "landfall_run_summary_idle": (ctypes.c_int, [ctypes.c_void_p]),
    "landfall_run_summary_tasks": (ctypes.c_int64, [
        ctypes.c_void_p, ctypes.c_int]),
    "landfall_run_summary_attempts": (ctypes.c_int64, [
        ctypes.c_void_p, ctypes.c_int]),
    "landfall_run_summary_destroy": (None, [ctypes.c_void_p]),
    "landfall_runner_destroy": (None, [ctypes.c_void_p]),
}

_libraries = {}
_libraries_lock = threading.Lock()


_SONAME = "liblandfall.so.0"


def library_path(path=None):
    """What load_library(path) loads: `path`, else $LANDFALL_LIBRARY, else
    liblandfall.so.0 in this package's directory if it is there, else the
    bare name "liblandfall.so.0" for the system's loader to find."""
    if path:
        return str(path)
    if os.environ.get("LANDFALL_LIBRARY"):
        return os.environ["LANDFALL_LIBRARY"]
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    return beside if os.path.exists(beside) else _SONAME


def load_library(path=None):
    """The C API of the shared library library_path(path) names; loaded once
    per path. OSError, saying where it looked, when it cannot be loaded."""
    path = library_path(path)
    with _libraries_lock:
        if path not in _libraries:
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                raise OSError(
                    f"cannot load {path} ({e}); landfall looks for the path "
                    "given as library=, then $LANDFALL_LIBRARY, then "
                    f"{_SONAME} in {os.path.dirname(os.path.abspath(__file__))}"
                    ", then the system's library path") from e
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
            _libraries[path] = lib
        return _libraries[path]


def version(library=None):
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return load_library(library).landfall_version().decode()


def _bytes(text):
    return None if text is None else text.encode()


def _outcome(outcome):
    return _OUTCOMES[outcome] if isinstance(outcome, str) else int(outcome)


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line]


class _Api:
    """Calls into one library, turning status codes into LandfallError."""

    def __init__(self, library):
        self.lib = load_library(library)

    def call(self, name, *args):
        err = ctypes.c_void_p()
        code = getattr(self.lib, name)(*args, ctypes.byref(err))
        if code != 0:
            message = self.take(err)
            status = self.lib.landfall_status_name(code).decode()
            raise LandfallError(code, status, message)

    def take(self, pointer):
        """The string at a char* the library returned, which is then freed."""
        if not pointer.value:
            return ""
        try:
            return ctypes.string_at(pointer.value).decode()
        finally:
            self.lib.landfall_free(pointer)

    def task(self, task):
        lib = self.lib
        return {
            "table": lib.landfall_task_table(task).decode(),
            "partition": lib.landfall_task_partition(task).decode(),
            "attempt": lib.landfall_task_attempt(task),
            "pool": lib.landfall_task_pool(task).decode(),
            "class": lib.landfall_task_class(task).decode(),
            "sink": lib.landfall_task_sink(task).decode(),
            "lease_deadline": lib.landfall_task_lease_deadline(task).decode(),
            "inputs": json.loads(lib.landfall_task_inputs_json(task)),
            "origins": [
                lib.landfall_task_origin(task, i).decode(errors="replace")
                for i in range(lib.landfall_task_origin_count(task))],
            "origins_complete": bool(
                lib.landfall_task_origins_complete(task)),
        }


class Scheduler:
    """A scheduler on a state store: "memory:", "sqlite:PATH" or a
    PostgreSQL URI ("postgresql://...?schema=NAME").

    Scheduler(spec_path, store) runs the spec file; Scheduler(spec_text=...,
    store=...) the spec given as text; Scheduler(store="sqlite:...") alone the
    spec the store holds. With read_only=True (and no spec) it only reads the
    existing store, never creating, migrating or writing it: queries work,
    and writing calls raise LandfallError PERMISSION_DENIED. Close it (or use
    it as a context manager) to release it. Methods are thread-safe.
    """

    def __init__(self, spec=None, store="memory:", *, spec_text=None,
                 spec_name=None, library=None, read_only=False):
        if read_only and (spec is not None or spec_text is not None):
            raise ValueError("read_only runs the spec the store holds: "
                             "give no spec")
        self._api = _Api(library)
        self._handle = ctypes.c_void_p()
        self._subscriptions = {}
        if read_only:
            self._api.call("landfall_scheduler_open_read_only", _bytes(store),
                           ctypes.byref(self._handle))
        elif spec_text is not None:
            text = spec_text.encode()
            self._api.call("landfall_scheduler_open_text", text, len(text),
                           _bytes(spec_name), _bytes(store),
                           ctypes.byref(self._handle))
        else:
            self._api.call("landfall_scheduler_open", _bytes(spec),
                           _bytes(store), ctypes.byref(self._handle))

    def close(self):
        if getattr(self, "_handle", None):
            self._api.lib.landfall_scheduler_close(self._handle)
            self._handle = ctypes.c_void_p()
            self._subscriptions.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def _h(self):
        if not self._handle:
            raise ValueError("the scheduler is closed")
        return self._handle

    def _call(self, name, *args):
        self._api.call(name, self._h, *args)

    def _string(self, name, *args):
        out = ctypes.c_void_p()
        self._call(name, *args, ctypes.byref(out))
        return self._api.take(out)

    @property
    def pipeline_name(self):
        return self._api.lib.landfall_pipeline_name(self._h).decode()

    @property
    def warnings(self):
        """The spec's warnings (what loads but likely is not meant), each
        "file:line:column: warning: message"."""
        text = self._api.lib.landfall_pipeline_warnings(self._h).decode()
        return text.splitlines()

    @property
    def last_sequence(self):
        return self._api.lib.landfall_last_sequence(self._h)

    def ingest(self, event_id, table, partition="", at=None, origin=None):
        """Records one arrival; returns whether it was a duplicate. `at` is an
        RFC 3339 time (default: now)."""
        duplicate = ctypes.c_int()
        self._call("landfall_ingest", _bytes(event_id), _bytes(table),
                   _bytes(partition), _bytes(at), _bytes(origin),
                   ctypes.byref(duplicate))
        return bool(duplicate.value)

    def ingest_json(self, arrivals):
        """Records arrivals given as JSON text (an array or JSON lines) or as
        a list of dicts; all or none. Returns one dict per arrival:
        {"event_id", "duplicate", "made_ready": [{"table", "partition"}]}."""
        text = arrivals if isinstance(arrivals, str) else json.dumps(arrivals)
        data = text.encode()
        return _json_lines(self._string("landfall_ingest_json", data,
                                        len(data)))

    def claim(self, worker, max=1, pools=(), classes=()):
        """Claims up to `max` ready tasks, highest priority first. Each is a
        dict: table, partition, attempt, pool, class, sink, lease_deadline,
        inputs (a list of {table, partition, version, origins,
        origins_complete}), origins (every input's, input by input: the
        objects landed since the task last consumed them) and
        origins_complete (false when some input's list is not whole)."""
        pool_array = (ctypes.c_char_p * len(pools))(*map(_bytes, pools))
        class_array = (ctypes.c_char_p * len(classes))(*map(_bytes, classes))
        claims = ctypes.c_void_p()
        self._call("landfall_claim", _bytes(worker), max, pool_array,
                   len(pools), class_array, len(classes),
                   ctypes.byref(claims))
        lib = self._api.lib
        try:
            return [self._api.task(lib.landfall_claims_at(claims, i))
                    for i in range(lib.landfall_claims_count(claims))]
        finally:
            lib.landfall_claims_destroy(claims)

    def heartbeat(self, table, partition, attempt):
        self._call("landfall_heartbeat", _bytes(table), _bytes(partition),
                   attempt)

    def complete(self, table, partition, attempt, outcome=SUCCEEDED,
                 message=""):
        """`outcome`: SUCCEEDED, RETRYABLE, FATAL (a constant or its name)."""
        self._call("landfall_complete", _bytes(table), _bytes(partition),
                   attempt, _outcome(outcome), _bytes(message))

    def explain(self, table, partition=""):
        """Why the task is or is not running, as one line of text."""
        return self._string("landfall_explain", _bytes(table),
                            _bytes(partition))

    def status(self, table=None, state=None):
        """The tasks so far (optionally of one table, in one state) as
        dicts."""
        return _json_lines(self._string("landfall_status", _bytes(table),
                                        _bytes(state)))

    def history(self, from_seq=1, max=10000):
        """History entries from sequence number `from_seq`, as dicts."""
        return _json_lines(self._string("landfall_read_history", from_seq,
                                        max))

    def subscribe(self, callback, from_seq=None):
        """Calls `callback(entry)` with each history entry (a dict) from
        `from_seq` (default: the next one appended), from whichever thread
        appends it. The callback must be quick and must not call the
        scheduler. Returns an id for unsubscribe()."""
        if from_seq is None:
            from_seq = self.last_sequence + 1

        def on_entry(_state, data, _size):
            callback(json.loads(data))

        function = _ENTRY_FN(on_entry)
        subscription = ctypes.c_uint64()
        # No destroy function: this object keeps the callback alive until
        # unsubscribe or close.
        self._call("landfall_subscribe", from_seq, function, None, None,
                   ctypes.byref(subscription))
        self._subscriptions[subscription.value] = function
        return subscription.value

    def unsubscribe(self, subscription):
        self._call("landfall_unsubscribe", subscription)
        del self._subscriptions[subscription]

    def redrive(self, table, partition=""):
        self._call("landfall_redrive", _bytes(table), _bytes(partition))

    def mark_succeeded(self, table, partition=""):
        self._call("landfall_mark_succeeded", _bytes(table), _bytes(partition))

    def rerun(self, table, partition="", with_descendants=False):
        self._call("landfall_rerun", _bytes(table), _bytes(partition),
                   int(with_descendants))

    def pause_table(self, table):
        self._call("landfall_pause_table", _bytes(table))

    def resume_table(self, table):
        self._call("landfall_resume_table", _bytes(table))

    def pause_class(self, priority_class):
        self._call("landfall_pause_class", _bytes(priority_class))

    def resume_class(self, priority_class):
        self._call("landfall_resume_class", _bytes(priority_class))

    def runner(self, executor, worker=None, max_workers=None,
               idle_poll_ms=None, on_exception=RETRYABLE, alert_webhooks=(),
               alert_queue_wait_ms=None, spec_sinks=False, sink_conninfo=None,
               metrics_listen=None, statsd=None, statsd_tags=None,
               alert_webhook_env=(), alert_webhook_files=()):
        """A Runner whose worker threads call `executor(task)` for each
        attempt; see Runner."""
        return Runner(self, executor, worker, max_workers, idle_poll_ms,
                      on_exception, alert_webhooks, alert_queue_wait_ms,
                      spec_sinks, sink_conninfo, metrics_listen, statsd,
                      statsd_tags, alert_webhook_env=alert_webhook_env,
                      alert_webhook_files=alert_webhook_files)


class Runner:
    """Worker threads that claim tasks and run them with `executor(task)`.

    `task` is a claim()'s dict plus "cancelled", a function that turns True
    once the runner gives up on the attempt. The executor returns an outcome
    (SUCCEEDED by default for None), or (outcome, message). It runs on
    several threads at once. Use start(), then stop(grace) or the context
    manager.

    An exception the executor raises fails the attempt, with "executor
    raised <type>: <text>" as its message. FatalError is FATAL: the dead
    letter at once. Any other exception is `on_exception`, RETRYABLE by
    default: retried with backoff within the table's retry policy, as
    Airflow retries a task that raised and fails one that raised
    AirflowFailException at once. on_exception=FATAL dead-letters every
    exception instead.

    `alert_webhooks`: URLs the runner POSTs alerts to as JSON (dead tasks,
    freshness, queue wait past `alert_queue_wait_ms`, an unreachable
    store), as landfall run --alert-webhook does. `alert_webhook_env`
    (names of environment variables) and `alert_webhook_files` (paths) hold
    such URLs, read when the runner is made (trimmed), so that the secret
    is in neither code nor argv; a missing one raises InvalidArgument or
    NotFound naming it, never the value.

    spec_sinks=True: the runner builds the tables of the spec's postgres
    sinks itself, running each table's `sql` in one transaction on a pool
    of libpq connections per sink; `executor` runs every other table.
    `sink_conninfo` ({sink: conninfo}) replaces the conninfo the spec gives
    those sinks (a host's own, which may hold a password); it needs
    spec_sinks=True, and a name that is not a postgres sink of the spec is
    InvalidArgument.

    metrics_listen="127.0.0.1:9464" serves Prometheus metrics at /metrics
    (port 0 picks one: see metrics_port); statsd="127.0.0.1:8125" sends
    them as DogStatsD, with statsd_tags="env:prod,..." on every line.
    """

    def __init__(self, scheduler, executor, worker=None, max_workers=None,
                 idle_poll_ms=None, on_exception=RETRYABLE,
                 alert_webhooks=(), alert_queue_wait_ms=None,
                 spec_sinks=False, sink_conninfo=None,
                 metrics_listen=None, statsd=None, statsd_tags=None,
                 alert_webhook_env=(), alert_webhook_files=()):
        self._api = scheduler._api
        self._scheduler = scheduler  # The runner needs it open to start.
        self._executor = executor
        if on_exception not in (RETRYABLE, FATAL, "RETRYABLE", "FATAL"):
            raise ValueError("on_exception must be RETRYABLE or FATAL")
        if sink_conninfo and not spec_sinks:
            raise ValueError("sink_conninfo needs spec_sinks=True")
        self._on_exception = _outcome(on_exception)
        self._function = _EXECUTOR_FN(self._run)
        self._handle = ctypes.c_void_p()
        lib = self._api.lib
        options = lib.landfall_runner_options_create()
        try:
            if worker is not None:
                lib.landfall_runner_options_set_worker(options, _bytes(worker))
            if max_workers is not None:
                lib.landfall_runner_options_set_max_workers(options,
                                                            max_workers)
            if idle_poll_ms is not None:
                lib.landfall_runner_options_set_idle_poll_ms(options,
                                                             idle_poll_ms)
            for url in alert_webhooks:
                lib.landfall_runner_options_add_alert_webhook(options,
                                                              _bytes(url))
            for name in alert_webhook_env:
                lib.landfall_runner_options_add_alert_webhook_env(
                    options, _bytes(name))
            for path in alert_webhook_files:
                lib.landfall_runner_options_add_alert_webhook_file(
                    options, _bytes(path))
            if alert_queue_wait_ms is not None:
                lib.landfall_runner_options_set_alert_queue_wait_ms(
                    options, alert_queue_wait_ms)
            lib.landfall_runner_options_set_spec_sinks(options,
                                                       int(bool(spec_sinks)))
            for sink, conninfo in (sink_conninfo or {}).items():
                lib.landfall_runner_options_set_sink_conninfo(
                    options, _bytes(sink), _bytes(conninfo))
            if metrics_listen is not None:
                lib.landfall_runner_options_set_metrics_listen(
                    options, _bytes(metrics_listen))
            if statsd is not None:
                lib.landfall_runner_options_set_statsd(
                    options, _bytes(statsd),
                    None if statsd_tags is None else _bytes(statsd_tags))
            self._api.call("landfall_runner_create", scheduler._h, options,
                           self._function, None, None,
                           ctypes.byref(self._handle))
        finally:
            lib.landfall_runner_options_destroy(options)

    @property
    def metrics_port(self):
        """The port metrics are served on, or 0 without metrics_listen."""
        return self._api.lib.landfall_runner_metrics_port(self._handle)

    def _run(self, _state, task, message, size):
        lib = self._api.lib
        record = self._api.task(task)
        record["cancelled"] = lambda: bool(lib.landfall_task_cancelled(task))
        try:
            result = self._executor(record)
        except Exception as e:  # pylint: disable=broad-except
            outcome = FATAL if isinstance(e, FatalError) else \
                self._on_exception
            result = (outcome, f"executor raised {type(e).__name__}: {e}")
        text = ""
        if isinstance(result, tuple):
            result, text = result
        data = str(text).encode()[:size - 1]
        ctypes.memmove(message, data, len(data))
        return SUCCEEDED if result is None else _outcome(result)

    def add_sqs_source(self, queue_url, endpoint=None, region=None,
                       key_rule=None):
        """Adds an SQS queue as a source of arrivals (before start()): S3
        event notifications and landfall arrivals as JSON, each message
        deleted once its arrivals are committed. `endpoint` (default:
        AWS_ENDPOINT_URL_SQS, else the queue URL's host), `region` (default:
        AWS_REGION or AWS_DEFAULT_REGION) and `key_rule` (default
        "{table}/{partition}") as in landfall run --sqs. Credentials come
        from the AWS_* environment variables."""
        self._api.call("landfall_runner_add_sqs_source", self._handle,
                       _bytes(queue_url), _bytes(endpoint), _bytes(region),
                       _bytes(key_rule))

    def start(self):
        self._api.call("landfall_runner_start", self._handle)

    def notify(self):
        """Wakes the workers: call it after ingesting."""
        self._api.lib.landfall_runner_notify(self._handle)

    def stop(self, grace=10.0):
        """Stops claiming, waits up to `grace` seconds for running attempts,
        and abandons the rest to lease expiry."""
        self._api.lib.landfall_runner_stop(self._handle, int(grace * 1000))

    def stats(self):
        counts = [ctypes.c_int64() for _ in range(4)]
        running = ctypes.c_int()
        self._api.lib.landfall_runner_stats(
            self._handle, *map(ctypes.byref, counts), ctypes.byref(running))
        names = ("claimed", "succeeded", "failed", "abandoned")
        stats = {name: c.value for name, c in zip(names, counts)}
        stats["running"] = running.value
        return stats

    def wait_idle(self, quiet=1.0, timeout=None):
        """Waits until the pipeline has been idle for `quiet` seconds (no
        task READY, RUNNING, RETRY_WAIT or EXPIRED, no attempt of this
        runner under way), or until `timeout` seconds have passed (None: no end); see
        landfall_runner_wait_idle. Returns {"idle": bool, "tasks": {state:
        count for each of TASK_STATES}, "attempts": {"succeeded",
        "retryable", "fatal", "abandoned"}}: "idle" is False when the wait
        ended first."""
        lib = self._api.lib
        summary = ctypes.c_void_p()
        self._api.call("landfall_runner_wait_idle", self._handle,
                       int(quiet * 1000),
                       -1 if timeout is None else int(timeout * 1000),
                       ctypes.byref(summary))
        try:
            outcomes = {"succeeded": SUCCEEDED, "retryable": RETRYABLE,
                        "fatal": FATAL, "abandoned": LEASE_EXPIRED}
            return {
                "idle": bool(lib.landfall_run_summary_idle(summary)),
                "tasks": {name: lib.landfall_run_summary_tasks(summary, i)
                          for i, name in enumerate(TASK_STATES)},
                "attempts": {
                    name: lib.landfall_run_summary_attempts(summary, outcome)
                    for name, outcome in outcomes.items()},
            }
        finally:
            lib.landfall_run_summary_destroy(summary)

    def close(self):
        if getattr(self, "_handle", None):
            self._api.lib.landfall_runner_destroy(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.close()

    def __del__(self):
        self.close()
