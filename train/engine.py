"""Where the per-file work of `import-videos` and `prepare` runs: Dask distributed, local by default.

One owner for "run this function over these items on some workers and give me
the results as they finish". Three runners, one interface (`Runner.results`):

- `dask`: Dask distributed (the `scale` extra: `pip install "asl-live[scale]"`).
  Without an address it starts an embedded `LocalCluster` (worker processes,
  one thread each; nothing to start by hand) and closes it at the end. With
  `--address` or `DASK_SCHEDULER_ADDRESS` it sends the same tasks to a running
  scheduler. A worker that dies mid-task has its task run again elsewhere by
  the scheduler (up to `distributed.scheduler.allowed-failures`, default 3);
  after that the item comes back as lost, with the reason.
- `pool`: the process pool of one machine (what the commands used before the
  engine; the fallback when the extra is not installed).
- `inline`: this process (one worker, or a job too small to pay for workers).

Why Dask distributed and not Ray (both install beside numpy<2 / protobuf<5 on
Python 3.11, measured): Dask is pure Python (a few MB, no native daemons),
starts a local cluster in about 1 s on this 2-core machine against about 5.5 s
for `ray.init()` (GCS, raylet and their agents are extra processes that compete
with MediaPipe for the two cores), and its scheduler already gives what this
job needs: retries on worker death, `as_completed`, a plain `dask scheduler` /
`dask worker` pair to make a cluster. Ray Data's streaming and object store buy
nothing when each item is one video in and ~0.4 MB of landmarks out.

The driver (the process that runs the command) is the only writer: workers
return results, the driver writes the dataset or the cache atomically, so a
cluster needs no shared output folder and a retried task cannot write twice.
Items are submitted in a bounded window (a few per worker thread), so a corpus
of 80,000 videos never sits in the scheduler's memory, nor in the driver's when
the driver ships bytes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from asl_live.errors import UserError

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"   # Dask's own variable: the same one `dask` itself reads
ENGINES = ("auto", "dask", "pool", "inline")
EXTRA = 'pip install -c constraints.txt "asl-live[scale]"'
IN_FLIGHT_PER_THREAD = 2  # enough to keep a worker busy while its next item travels


@dataclass(frozen=True)
class Lost:
    """An item the engine gave up on (its worker died on it every time it was tried)."""
    reason: str


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def has_dask() -> bool:
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def resolve(engine: str, address: str | None, workers: int, items: int, small_job: int = 0) -> str:
    """The runner to use: `auto` is Dask when installed (always with an address), else the pool.

    `small_job`: with fewer items than this and no address, `auto` runs them in
    this process (no workers to start). One worker and no address: also inline.
    """
    if engine not in ENGINES:
        raise UserError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    address = address or os.environ.get(ADDRESS_ENV) or None
    if address and engine in ("pool", "inline"):
        raise UserError(f"--engine {engine} runs on this machine only; a scheduler address "
                        f"(--address or {ADDRESS_ENV}) needs --engine dask or auto")
    if engine == "dask" or (engine == "auto" and address):
        if not has_dask():
            raise UserError(f"the dask engine is not installed: {EXTRA}")
        return "dask"
    if engine != "auto":
        return engine
    if workers <= 1 or items < small_job:
        return "inline"
    return "dask" if has_dask() else "pool"


def quiet_worker() -> None:
    """MediaPipe/absl and FFmpeg write straight to fd 2 from C++, past any logging setting; a
    local worker reports failures as results, so its stderr is only that noise."""
    from asl_live.capture.extract import quiet_native_logs

    verbose = os.environ.get("ASL_LIVE_VERBOSE") == "1"
    quiet_native_logs(verbose)
    if not verbose:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)


class Runner:
    """`with open_runner(...) as r: for index, result in r.results(fn, args): ...`

    `fn(*args[i])` runs on some worker; `results` yields `(i, value)` as they
    finish, in any order; `value` is a `Lost` when the engine gave up on item i.
    `args` may be a generator: the Dask runner draws from it only as workers
    become free, so shipped bytes are read a window at a time.
    An exception raised by `fn` itself is raised here (the callers' worker
    functions return their per-item failures as values and raise only for
    errors that must stop the job).
    """

    name = "?"
    workers = 1

    def results(self, fn: Callable, args: Iterable[tuple]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        pass


class InlineRunner(Runner):
    name = "inline"

    def __init__(self, quiet: bool = True):
        self.quiet = quiet

    def results(self, fn, args):
        from asl_live.capture.native_stderr import quiet_native_stderr

        verbose = not self.quiet or os.environ.get("ASL_LIVE_VERBOSE") == "1"
        for i, a in enumerate(args):
            with quiet_native_stderr(verbose):  # this process's fd 2 is the user's terminal
                value = fn(*a)
            yield i, value


class PoolRunner(Runner):
    """The process pool of one machine; a worker killed mid-task breaks the whole pool."""
    name = "pool"

    def __init__(self, workers: int, quiet: bool = True):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        # spawn, not fork: the caller may hold threads (TensorFlow, tqdm) that fork would copy half-way
        self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                         initializer=quiet_worker if quiet else None)

    def results(self, fn, args):
        from concurrent.futures import as_completed

        futures = {self._pool.submit(fn, *a): i for i, a in enumerate(args)}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


def _quiet_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorker(WorkerPlugin):
        def setup(self, worker):
            quiet_worker()

    return QuietWorker()


class DaskRunner(Runner):
    """Dask distributed: an embedded LocalCluster, or a running scheduler at `address`."""
    name = "dask"

    def __init__(self, workers: int | None, address: str | None = None, quiet: bool = True):
        from distributed import Client, LocalCluster

        self.address = address
        self.cluster = None
        # This command reports every failure itself (one line each); distributed's own log lines
        # (a worker restarted, a comm closed on Ctrl-C) would only interleave with the progress bar.
        quiet_logs = logging.DEBUG if os.environ.get("ASL_LIVE_VERBOSE") == "1" else logging.CRITICAL
        logging.getLogger("distributed").setLevel(quiet_logs)
        t0 = time.perf_counter()
        if address:
            try:
                self.client = Client(address, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise UserError(f"no Dask scheduler answers at {address} ({e}); start one with "
                                "`dask scheduler` and workers with `dask worker ADDRESS`") from None
        else:
            # Ctrl-C in a terminal signals the whole process group. Local workers start with
            # SIGINT ignored (a spawned process inherits SIG_IGN, not a blocked mask nor a Python
            # handler), so only this process sees it and closes the cluster: no half-imported
            # worker prints a traceback. The price: a Ctrl-C in the second or two of start-up is
            # ignored; the next one stops the job.
            in_main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
            try:
                # No dashboard; the scheduler's small HTTP server (health, metrics) on a free
                # local port, not 8787, which another cluster may hold (it warns on stderr).
                self.cluster = LocalCluster(
                    n_workers=workers or available_cores(), threads_per_worker=1, processes=True,
                    dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=quiet_logs)
                self.client = Client(self.cluster)
                if quiet:
                    self.client.register_plugin(_quiet_plugin(), name="asl-live-quiet")
            except BaseException:
                self.close()
                raise
            finally:
                if in_main:
                    signal.signal(signal.SIGINT, previous)
        self.startup_s = time.perf_counter() - t0
        self.workers = self.threads()

    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def results(self, fn, args):
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        todo = iter(enumerate(args))
        index = {}

        def submit_more(ac=None):
            want = IN_FLIGHT_PER_THREAD * self.threads() - len(index)
            for _ in range(max(0, want)):
                nxt = next(todo, None)
                if nxt is None:
                    break
                i, a = nxt
                fut = self.client.submit(fn, *a, pure=False)
                index[fut] = i
                if ac is not None:
                    ac.add(fut)
            return list(index)

        ac = as_completed(submit_more())
        try:
            for fut in ac:
                i = index.pop(fut)
                if fut.status == "error":
                    exc = fut.exception()
                    if isinstance(exc, KilledWorker):
                        yield i, Lost(f"its worker died on each of the scheduler's tries ({exc})")
                    else:
                        fut.result()  # raises the worker's exception here
                else:
                    yield i, fut.result()
                fut.release()
                submit_more(ac)
        finally:
            for fut in list(index):
                fut.cancel()

    def close(self):
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_runner(kind: str, workers: int, address: str | None = None, quiet: bool = True) -> Runner:
    address = address or os.environ.get(ADDRESS_ENV) or None
    if kind == "dask":
        return DaskRunner(workers, address, quiet)
    if kind == "pool":
        return PoolRunner(workers, quiet)
    return InlineRunner(quiet)


# --------------------------------------------------------------------------- input shipping

def read_bytes(path: str | os.PathLike) -> bytes:
    return Path(path).read_bytes()


class LocalCopy:
    """On a worker: the item as a local path; `data` (bytes shipped by the driver) goes to a
    temporary file with the same suffix, removed afterwards. Without `data` the path must be
    visible on the worker (shared storage mounted at the same path)."""

    def __init__(self, path: str, data: bytes | None):
        self.path, self.data, self._tmp = path, data, None
        self.local: str | None = None  # the temporary copy, while there is one

    def __enter__(self) -> str:
        if self.data is None:
            if not os.path.exists(self.path):
                import socket

                raise FileNotFoundError(
                    f"{self.path}: no such file on worker {socket.gethostname()} (a cluster's workers "
                    "need the input at the same path, or --send-files)")
            return self.path
        import tempfile

        fd, self._tmp = tempfile.mkstemp(suffix=Path(self.path).suffix, prefix="asl-live-")
        with os.fdopen(fd, "wb") as f:
            f.write(self.data)
        self.local = self._tmp
        return self._tmp

    def __exit__(self, *exc):
        if self._tmp:
            os.unlink(self._tmp)


# --------------------------------------------------------------------------- command line

def add_arguments(parser, jobs_flag: str) -> None:
    g = parser.add_argument_group("where the work runs")
    g.add_argument("--engine", choices=ENGINES, default="auto",
                   help="auto (default): Dask distributed if installed (an embedded local cluster, "
                        "or the scheduler at --address), else a local process pool; small jobs run "
                        "in this process")
    g.add_argument("--address", default=None, metavar="HOST:PORT",
                   help=f"a running Dask scheduler (default: ${ADDRESS_ENV} if set, else a local "
                        f"cluster with {jobs_flag} workers)")
    g.add_argument("--send-files", action="store_true",
                   help="read each input file here and send its bytes to the workers (for workers "
                        "that do not see the input folder at the same path)")


def progress_line(done_frames: int, started: float) -> str:
    """The rate part of the one progress line: frames per second over the whole run so far."""
    elapsed = max(time.monotonic() - started, 1e-9)
    return f"{done_frames / elapsed:.1f} frames/s"


def describe(runner: Runner) -> str:
    if isinstance(runner, DaskRunner):
        where = runner.address or "local cluster"
        return f"dask ({where}, {runner.workers} worker thread{'s' if runner.workers != 1 else ''})"
    if isinstance(runner, InlineRunner):
        return "this process"
    return f"a process pool ({runner.workers} worker{'s' if runner.workers != 1 else ''})"

