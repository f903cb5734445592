"""Scale-out: trials per second with 1 … 32 worker processes on one loopback PostgreSQL 15, and
where the time goes.

Everything runs as docker-compose.yml runs it: the server set up by deploy/initdb/tuner-roles.sql
(roles tuner_worker and tuner_dashboard, database tuner), the study created once by
``deploy/create_study.py``, then N × ``tuner worker SPEC`` logging in as tuner_worker with the
password in ``PGPASSWORD`` (one BLAS thread each). The server runs with durable commits
(``fsync=on``, ``synchronous_commit=on``, unlike the test suite's server) and with
``pg_stat_statements`` preloaded.

Parts (``--parts``, default all three):

storage  deploy/scale.toml: one epoch of ten steps on the Rosenbrock surface, random sampler,
         median pruner: a trial costs microseconds of training, the rest is Optuna and the
         database: the storage path.
digits   studies/digits.toml as shipped (TPE, median pruner, 30 epochs of a 64→128→10 MLP).
loss     a worker's machine "disappears": 4 workers on longer digits trials, one is frozen with
         SIGSTOP mid-trial (its connections stay open, its heartbeat stops, as when a machine
         hangs or its network goes), with the spec defaults heartbeat_interval = 10 s and
         grace_period = 30 s; measured: when its trial is failed as stale, when the re-queued
         copy starts and ends, how many connections the frozen worker still holds, and that the
         study still meets its budget.

For each run of storage and digits:

- trials/s: steady = trials finished after every worker had connected, over the time from then
  to the last one (start-up excluded); overall = all trials over the wall time from launch;
- peak connections held by the workers (pg_stat_activity, sampled every 0.1 s; each worker's
  pool is 2: the trial loop and the heartbeat thread), and the mean number of worker backends
  waiting on a lock (trial creation locks the study row);
- per trial, from PostgreSQL's own statistics, counting only the tuner_worker role:
  statements and their execution time (pg_stat_statements), commits, rows returned / fetched /
  inserted / updated / deleted (pg_stat_database deltas), WAL records, bytes and syncs
  (pg_stat_wal), and the server's CPU time (all PostgreSQL processes, /proc);
- the workers' CPU time per trial (rusage), less their start-up (measured by one more worker
  joining the finished study);
- others' load: CPU used on the machine during the run by anything but this benchmark, its
  workers and its server (/proc/stat), in cores: anything above ~0.1 means the run shared
  the machine and its rates are low.

It waits (up to 30 minutes) for the 1-minute load average to fall below 2 before it starts.

On 2 cores, past 2 workers the workers and the server share the same two cores: those rows
measure contention, not capacity; docs/deploy.md extrapolates to many machines from the
per-trial database cost. Run from the repository root, on an otherwise idle machine::

    .venv/bin/python benchmarks/scale.py                      # about 10 minutes on 2 cores
    .venv/bin/python benchmarks/scale.py --workers 1,2,4 --parts storage --trials 100
    .venv/bin/python benchmarks/scale.py --json artifacts/scale.json
"""

from __future__ import annotations

import os

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
for _var, _value in ONE_THREAD.items():
    os.environ.setdefault(_var, _value)

import argparse
import json
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from postgres import PG_BIN, SUPERUSER, PostgresServer  # noqa: E402

INIT_SQL = ROOT / "deploy" / "initdb" / "tuner-roles.sql"
CREATE_STUDY = ROOT / "deploy" / "create_study.py"
SPECS = {"storage": ROOT / "deploy" / "scale.toml", "digits": ROOT / "studies" / "digits.toml"}
CLK = os.sysconf("SC_CLK_TCK")


class BenchServer(PostgresServer):
    """The test server, with durable commits and pg_stat_statements."""

    @property
    def options(self) -> str:
        return (super().options + " -c fsync=on -c synchronous_commit=on"
                " -c shared_preload_libraries=pg_stat_statements"
                " -c pg_stat_statements.track=all -c track_io_timing=on"
                " -c track_wal_io_timing=on")


# --- measuring -------------------------------------------------------------------------------

def postgres_cpu(server: PostgresServer) -> float:
    """CPU seconds used so far by the server: every live process, plus the backends that
    already exited (reaped by the postmaster, so in its cutime/cstime)."""
    pm = server.pid
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == pm:
            total += sum(int(x) for x in fields[11:15])     # utime stime cutime cstime
        elif ppid == pm:
            total += int(fields[11]) + int(fields[12])
    return total / CLK


def machine_busy() -> float:
    """CPU seconds all processes on this machine have used since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


DB_COUNTERS = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted",
               "tup_updated", "tup_deleted", "blks_hit", "blks_read")
WAL_COUNTERS = ("wal_records", "wal_bytes", "wal_sync", "wal_sync_time", "wal_write")


def counters(conn) -> dict:
    conn.execute("SELECT pg_stat_force_next_flush()")
    row = conn.execute(f"SELECT {', '.join(DB_COUNTERS)} FROM pg_stat_database "
                       "WHERE datname = 'tuner'").fetchone()
    wal = conn.execute(f"SELECT {', '.join(WAL_COUNTERS)} FROM pg_stat_wal").fetchone()
    return {**dict(zip(DB_COUNTERS, map(float, row))), **dict(zip(WAL_COUNTERS, map(float, wal)))}


def statements(conn) -> list[tuple[str, int, float]]:
    """(query, calls, total execution ms) of the tuner_worker role's top-level statements since
    the last reset (a statement's time includes its foreign-key checks)."""
    return [(q, int(c), float(t)) for q, c, t in conn.execute(
        "SELECT s.query, s.calls, s.total_exec_time FROM pg_stat_statements s "
        "JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid "
        "WHERE r.rolname = 'tuner_worker' AND d.datname = 'tuner' AND s.toplevel "
        "ORDER BY 3 DESC")]


class Sampler(threading.Thread):
    """Samples the workers' backends every 0.1 s: connections, lock waits, who has connected."""

    def __init__(self, url: str, n_workers: int):
        super().__init__(daemon=True)
        self.url, self.n = url, n_workers
        self.stop = threading.Event()
        self.peak = 0
        self.lock_waits: list[int] = []
        self.all_connected: datetime | None = None
        self.by_worker: dict[str, int] = {}

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT application_name, wait_event_type FROM pg_stat_activity "
                    "WHERE application_name LIKE 'tuner-worker-%'").fetchall()
                self.peak = max(self.peak, len(rows))
                self.lock_waits.append(sum(w == "Lock" for _, w in rows))
                apps = {a for a, _ in rows}
                self.by_worker = {a: sum(x == a for x, _ in rows) for a in apps}
                if self.all_connected is None and len(apps) >= self.n:
                    self.all_connected = datetime.now()
                time.sleep(0.1)


# --- running ---------------------------------------------------------------------------------

@dataclass
class Deployment:
    server: PostgresServer
    worker_password: str
    folder: Path

    @property
    def admin(self) -> str:
        return self.server.url("tuner").replace("+psycopg", "")

    def env(self, app: str) -> dict:
        """A worker's environment as docker-compose.yml gives it (host and port aside)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "TUNER_"))}
        return {**env, **ONE_THREAD, "PGPASSWORD": self.worker_password, "PGAPPNAME": app,
                "TUNER_STORAGE": f"postgresql://tuner_worker@127.0.0.1:{self.server.port}/tuner"}

    def spec(self, part: str, name: str, **training) -> Path:
        text = SPECS[part].read_text()
        text = re.sub(r'^name = ".*"$', f'name = "{name}"', text, count=1, flags=re.M)
        for key, value in training.items():
            text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        path = self.folder / f"{name}.toml"
        path.write_text(text)
        return path

    def create_study(self, spec: Path, n_trials: int, extra: tuple = ()) -> None:
        subprocess.run([sys.executable, str(CREATE_STUDY), str(spec), "--n-trials",
                        str(n_trials), *extra], env=self.env("tuner-create-study"), cwd=ROOT,
                       check=True, capture_output=True, text=True)

    def start_worker(self, spec: Path, i: int, log: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tuner", "worker", str(spec)],
                                env=self.env(f"tuner-worker-{i}"), cwd=ROOT,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_cpu(process: subprocess.Popen) -> tuple[int, float]:
    """Wait for a worker; its exit code and CPU seconds."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def setup(folder: Path) -> Deployment:
    server = BenchServer().start()
    passwords = {"TUNER_WORKER_PASSWORD": secrets.token_hex(16),
                 "TUNER_DASHBOARD_PASSWORD": secrets.token_hex(16)}
    subprocess.run([*server.as_user, "env", *[f"{k}={v}" for k, v in passwords.items()],
                    PG_BIN / "psql", "-h", server.socket_dir, "-p", str(server.port), "-U",
                    SUPERUSER, "-d", "postgres", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f",
                    "-"], input=INIT_SQL.read_text(), check=True, capture_output=True, text=True)
    server.psql("CREATE EXTENSION pg_stat_statements", "tuner")
    return Deployment(server, passwords["TUNER_WORKER_PASSWORD"], folder)


@dataclass
class Run:
    part: str
    workers: int
    trials: int
    wall: float
    steady: float | None
    overall: float
    peak_connections: int
    lock_waiters: float
    codes: list[int]
    per_trial: dict = field(default_factory=dict)
    top: list = field(default_factory=list)
    states: dict = field(default_factory=dict)


def finished_times(conn, study: str) -> tuple[list[datetime], dict]:
    rows = conn.execute(
        "SELECT t.state, t.datetime_complete FROM trials t JOIN studies s USING (study_id) "
        "WHERE s.study_name = %s", (study,)).fetchall()
    states: dict = {}
    for state, _ in rows:
        states[state] = states.get(state, 0) + 1
    done = sorted(t for s, t in rows if s in ("COMPLETE", "PRUNED"))
    return done, states


def run_one(dep: Deployment, part: str, n_workers: int, n_trials: int) -> Run:
    name = f"{part}-w{n_workers}"
    spec = dep.spec(part, name)
    dep.create_study(spec, n_trials)
    with psycopg.connect(dep.admin, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        before, cpu_before = counters(conn), postgres_cpu(dep.server)
        busy_before, own_before = machine_busy(), own_cpu()
        sampler = Sampler(dep.admin, n_workers)
        sampler.start()
        t0 = time.monotonic()
        workers = [dep.start_worker(spec, i, dep.folder / f"{name}-{i}.log")
                   for i in range(n_workers)]
        results = [wait_cpu(w) for w in workers]
        wall = time.monotonic() - t0
        sampler.stop.set()
        sampler.join()
        after, cpu_after = counters(conn), postgres_cpu(dep.server)
        busy_after, own_after = machine_busy(), own_cpu()
        stmts = statements(conn)
        done, states = finished_times(conn, name)
    # One more worker joining the finished study: start-up, connection and one loop.
    startup = wait_cpu(dep.start_worker(spec, 99, dep.folder / f"{name}-startup.log"))[1]
    n = len(done)
    steady = None
    if sampler.all_connected is not None:
        later = [t for t in done if t > sampler.all_connected]
        if len(later) >= 2:
            steady = len(later) / (later[-1] - sampler.all_connected).total_seconds()
    delta = {k: after[k] - before[k] for k in after}
    calls = sum(c for _, c, _ in stmts)
    exec_ms = sum(t for _, _, t in stmts)
    worker_cpu = sum(c for _, c in results)
    per_trial = {
        "statements": calls / n, "exec_ms": exec_ms / n,
        "commits": delta["xact_commit"] / n, "rollbacks": delta["xact_rollback"] / n,
        "rows_returned": delta["tup_returned"] / n, "rows_fetched": delta["tup_fetched"] / n,
        "rows_written": (delta["tup_inserted"] + delta["tup_updated"] + delta["tup_deleted"]) / n,
        "wal_records": delta["wal_records"] / n, "wal_kb": delta["wal_bytes"] / n / 1024,
        "wal_syncs": delta["wal_sync"] / n, "wal_sync_ms": delta["wal_sync_time"] / n,
        "server_cpu_ms": 1e3 * (cpu_after - cpu_before) / n,
        "worker_cpu_ms": 1e3 * max(worker_cpu - n_workers * startup, 0.0) / n,
        "worker_startup_cpu_s": startup,
    }
    # CPU that neither this benchmark, its workers nor its server used: other people's load.
    others = ((busy_after - busy_before) - (own_after - own_before) - worker_cpu
              - (cpu_after - cpu_before))
    per_trial["other_cores"] = max(others, 0.0) / wall
    top = [(re.sub(r"\s+", " ", q)[:110], c / n, t / n) for q, c, t in stmts[:6]]
    return Run(part, n_workers, n, wall, steady, n / wall, sampler.peak,
               statistics.fmean(sampler.lock_waits) if sampler.lock_waits else 0.0,
               [c for c, _ in results], per_trial, top, states)


def budget(part: str, n_workers: int, base: int) -> int:
    if part == "storage":
        return max(base, 20 * n_workers)
    return max(base, 4 * n_workers)


# --- a machine that disappears ---------------------------------------------------------------

def freeze(victim: subprocess.Popen, q, inside: bool, deadline: float) -> tuple:
    """SIGSTOP the victim at a moment when one of its sessions is (``inside``) or none is
    (not ``inside``) in an open transaction, checked after the stop; returns what its sessions
    were doing then."""
    app = "tuner-worker-0"

    def sessions():
        return q("SELECT pid, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM "
                 "pg_stat_activity WHERE application_name = %s", app)

    def wanted(rows) -> bool:
        if inside:
            return any(st == "idle in transaction" for _, st, _ in rows)
        return bool(rows) and all(st == "idle" for _, st, _ in rows)

    while time.monotonic() < deadline:
        if wanted(sessions()):
            victim.send_signal(signal.SIGSTOP)
            time.sleep(0.05)
            held = sessions()
            if wanted(held):
                return held
            victim.send_signal(signal.SIGCONT)
        time.sleep(0.002 if inside else 0.05)
    raise TimeoutError("could not freeze the victim in the wanted state")


def run_loss(dep: Deployment, inside: bool, n_workers: int = 4, n_trials: int = 12,
             epochs: int = 150, grace: int | None = None) -> dict:
    """4 workers; worker 0 frozen mid-trial, between transactions or inside one; see the
    module docstring. ``grace``: a shorter grace period (heartbeat grace / 3) for trying
    this out; default: the spec defaults (heartbeat 10 s, grace 30 s)."""
    name = f"loss-{'in' if inside else 'out'}"
    spec = dep.spec("digits", name, epochs=epochs, pruner='"none"', seed_defaults="false")
    if grace is not None:
        spec.write_text(spec.read_text().replace(
            "[model]", f"heartbeat_interval = {max(grace // 3, 1)}\ngrace_period = {grace}\n\n"
            "[model]", 1))
    dep.create_study(spec, n_trials)
    logs = [dep.folder / f"{name}-{i}.log" for i in range(n_workers)]
    workers = [dep.start_worker(spec, i, log) for i, log in enumerate(logs)]
    victim = workers[0]
    out: dict = {"frozen": "inside a transaction" if inside else "between transactions",
                 "workers": n_workers, "trials": n_trials, "epochs": epochs}
    with psycopg.connect(dep.admin, autocommit=True) as conn:
        def q(sql, *args):
            return conn.execute(sql, args).fetchall()

        study_id = q("SELECT study_id FROM studies WHERE study_name = %s", name)[0][0]
        deadline = time.monotonic() + 600
        while q("SELECT count(*) FROM trials WHERE study_id = %s AND state = 'RUNNING'",
                study_id)[0][0] < n_workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        held = freeze(victim, q, inside, deadline)
        frozen = datetime.now()
        out["victim_sessions_at_freeze"] = [f"{st}: {query}" for _, st, query in held]
        in_txn = {pid for pid, st, _ in held if st == "idle in transaction"}
        released = failed = retry = None
        peak_waiters, slots = 0, []
        others_alive = lambda: any(w.poll() is None for w in workers[1:])      # noqa: E731
        while time.monotonic() < deadline and (retry is None or released is None and in_txn):
            rows = q("SELECT pid, application_name, wait_event_type FROM pg_stat_activity "
                     "WHERE application_name LIKE 'tuner-worker-%%'")
            peak_waiters = max(peak_waiters, sum(w == "Lock" for _, _, w in rows))
            mine = {pid for pid, app, _ in rows if app == "tuner-worker-0"}
            slots.append(len(mine))
            if in_txn and released is None and not in_txn & mine:
                released = (datetime.now() - frozen).total_seconds()
            if failed is None:
                rows = q("SELECT number, datetime_start, datetime_complete FROM trials WHERE "
                         "study_id = %s AND state = 'FAIL'", study_id)
                failed = rows[0] if rows else None
            elif retry is None:
                rows = q("SELECT t.datetime_start, t.datetime_complete FROM trials t JOIN "
                         "trial_system_attributes a USING (trial_id) WHERE t.study_id = %s AND "
                         "a.key = 'failed_trial' AND a.value_json = %s AND t.state IN "
                         "('COMPLETE', 'PRUNED')", study_id, json.dumps(failed[0]))
                retry = rows[0] if rows else None
            if failed is None and not others_alive():
                break                       # nothing of the victim's was committed: no retry
            time.sleep(0.2)
        out["locks_released_after_s"] = released
        out["peak_workers_waiting_on_a_lock"] = peak_waiters
        out["victim_connections_while_frozen"] = max(slots)
        if failed is not None:
            out["trial_failed_as_stale_after_s"] = (failed[2] - frozen).total_seconds()
            out["work_lost_s"] = (frozen - failed[1]).total_seconds()
        if retry is not None:
            out["retry_started_after_s"] = (retry[0] - frozen).total_seconds()
            out["retry_finished_after_s"] = (retry[1] - frozen).total_seconds()
        codes = [w.wait(timeout=max(deadline - time.monotonic(), 1)) for w in workers[1:]]
        out["other_workers_exit_codes"] = codes
        out["finished_at_s"] = (datetime.now() - frozen).total_seconds()
        victim.kill()                         # the machine never comes back
        victim.wait()
        killed = time.monotonic()
        while q("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'tuner-worker-0'")[0][0] and time.monotonic() - killed < 30:
            time.sleep(0.05)
        out["connections_freed_after_kill_s"] = round(time.monotonic() - killed, 2)
        _, states = finished_times(conn, name)
        out["states"] = states
    out["outage_warnings_in_other_logs"] = sum(
        log.read_text().count("database unreachable") for log in logs[1:])
    return out


# --- reporting -------------------------------------------------------------------------------

def table(runs: list[Run]) -> str:
    head = ("| part | workers | trials | wall s | trials/s steady | trials/s overall | peak conns "
            "| lock waiters | stmts/trial | DB exec ms/trial | commits/trial | rows read/trial "
            "| rows written/trial | WAL kB/trial | WAL syncs/trial | server CPU ms/trial "
            "| worker CPU ms/trial | others' load, cores |")
    lines = [head, "|" + "---|" * 2 + "---:|" * 16]
    for r in runs:
        p = r.per_trial
        steady = f"{r.steady:.1f}" if r.steady is not None else "–"
        lines.append(
            f"| {r.part} | {r.workers} | {r.trials} | {r.wall:.1f} | {steady} | {r.overall:.1f} "
            f"| {r.peak_connections} | {r.lock_waiters:.2f} | {p['statements']:.1f} "
            f"| {p['exec_ms']:.2f} | {p['commits']:.1f} "
            f"| {p['rows_returned'] + p['rows_fetched']:.0f} | {p['rows_written']:.1f} "
            f"| {p['wal_kb']:.1f} | {p['wal_syncs']:.1f} | {p['server_cpu_ms']:.1f} "
            f"| {p['worker_cpu_ms']:.0f} | {p['other_cores']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4,8,16,32")
    parser.add_argument("--parts", default="storage,digits,loss")
    parser.add_argument("--trials", type=int, default=200,
                        help="storage budget (at least 20 per worker)")
    parser.add_argument("--digits-trials", type=int, default=60,
                        help="digits budget (at least 4 per worker)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--grace", type=int, help=argparse.SUPPRESS)     # loss: a quick try
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",")]
    parts = args.parts.split(",")
    waited = time.monotonic()
    while os.getloadavg()[0] >= 2 and time.monotonic() - waited < 1800:
        time.sleep(15)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="tuner-scale-"))
    dep = setup(folder)
    results: dict = {"load_before": os.getloadavg(), "cores": os.cpu_count(), "runs": []}
    runs: list[Run] = []
    try:
        for part in ("storage", "digits"):
            if part not in parts:
                continue
            for n in counts:
                trials = budget(part, n, args.trials if part == "storage" else args.digits_trials)
                run = run_one(dep, part, n, trials)
                runs.append(run)
                steady = f"{run.steady:.1f}" if run.steady is not None else "–"
                print(f"{part:8s} {n:3d} workers: {run.trials} trials in {run.wall:.1f} s, "
                      f"{steady} trials/s steady, peak {run.peak_connections} connections, "
                      f"exit codes {sorted(set(run.codes))}, others' load "
                      f"{run.per_trial['other_cores']:.2f} cores",
                      flush=True)
        if runs:
            print()
            print(table(runs))
            for r in runs:
                if r.workers in (1, max(counts)):
                    print(f"\n{r.part}, {r.workers} worker(s): statements by execution time "
                          "(calls and ms per trial)")
                    for query, calls, ms in r.top:
                        print(f"  {calls:5.2f} × {ms:7.3f} ms  {query}")
            results["runs"] = [r.__dict__ for r in runs]
        if "loss" in parts:
            results["loss"] = []
            for inside in (False, True):
                loss = run_loss(dep, inside, grace=args.grace)
                results["loss"].append(loss)
                print(f"\nmachine loss, worker 0 frozen {loss['frozen']} ({loss['workers']} "
                      f"workers, digits {loss['epochs']} epochs, grace "
                      f"{args.grace or 30} s):")
                for key, value in loss.items():
                    print(f"  {key}: {value}")
    finally:
        dep.server.stop()
    shutil.rmtree(folder, ignore_errors=True)       # the workers' logs; kept after a failure
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
