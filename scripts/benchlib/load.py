"""HTTP load from client processes: keep-alive clients, unpaced or paced phases, every answer checked.

A phase is a list of requests per client, each ``(path, body, want)``, and an ``expect`` function
``expect(status, payload, want) -> (problem or None, value)`` run on every answer in the client
process (``payload`` is the decoded JSON body, or None when the body is not JSON). Under a paced
load a request's latency runs from the moment it was *scheduled* to be sent, not from when it was
sent, so time spent queueing behind a slow answer counts (no coordinated omission).
"""
import http.client
import json
import time
from dataclasses import dataclass, field

MAX_PROBLEMS = 5  # problems quoted per phase (all are counted)


class Client:
    """One keep-alive HTTP connection sending JSON."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 120):
        self.port, self.timeout = port, timeout
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            try:
                self.conn.request(method, path, data, self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body) -> tuple[int, bytes]:
        return self.request("POST", path, body)


def decode(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def drive(port, token, requests, expect, interval, start_at):
    """Send ``requests`` on one keep-alive connection from ``start_at`` (wall clock), back to back
    or, with ``interval`` > 0, request i at start_at + i * interval. Returns
    [(status, seconds, problem, value)] and the wall-clock time of the last answer; seconds run
    from the send, or with ``interval`` from the scheduled send."""
    client = Client(port, token)
    while time.time() < start_at:
        time.sleep(0.0005)
    out = []
    for i, (path, body, want) in enumerate(requests):
        scheduled = start_at + i * interval
        if interval:
            delay = scheduled - time.time()
            if delay > 0:
                time.sleep(delay)
        sent = time.time()
        status, raw = client.post(path, body)
        answered = time.time()
        problem, value = expect(status, decode(raw), want)
        if problem:
            problem = f"{path}: {problem} (answer {status} {raw[:200]!r})"
        out.append((status, answered - (scheduled if interval else sent), problem, value))
    return out, time.time()


@dataclass
class Phase:
    """What one phase did: requests, rate (requests/s over the phase's wall time), latencies,
    statuses seen, problems (the first few quoted, all counted) and the expect() values."""
    n: int
    rate: float
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict
    problems: list = field(default_factory=list)
    problem_count: int = 0
    values: list = field(default_factory=list)

    def line(self, name: str, unit: str = "req") -> str:
        return (f"{name:34s} {self.n:6d} {unit} {self.rate:8.0f}/s  p50 {self.p50_ms:7.1f} ms  "
                f"p99 {self.p99_ms:7.1f} ms  {self.statuses}")


def run_phase(pool, port, token, per_client, expect, interval: float = 0.0) -> Phase:
    """Run one phase on all clients at once (``per_client``: a list of requests per client);
    ``interval`` paces each client to one request every ``interval`` seconds."""
    start_at = time.time() + 0.5
    results = pool.starmap(drive, [(port, token, reqs, expect, interval, start_at) for reqs in per_client])
    flat = [r for chunk, _end in results for r in chunk]
    wall = max((end for _chunk, end in results), default=start_at) - start_at
    statuses, problems = {}, [p for _s, _l, p, _v in flat if p]
    for status, *_rest in flat:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = [lat for _s, lat, _p, _v in flat]
    return Phase(n=len(flat), rate=len(flat) / wall if wall > 0 else float("nan"), seconds=wall,
                 p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
                 statuses=statuses, problems=problems[:MAX_PROBLEMS], problem_count=len(problems),
                 values=[v for _s, _l, _p, v in flat])


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank on the sorted values); nan when there are none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def status_counts(name: str, phase: Phase, expected: dict) -> list[str]:
    """A line for each status count the phase got beyond ``expected`` {status: count, or None for any}."""
    seen = dict(phase.statuses)
    problems = []
    for status, count in expected.items():
        got = seen.pop(status, 0)
        if count is not None and got != count:
            problems.append(f"{name}: {got} answers {status}, expected {count}")
    problems += [f"{name}: {got} unexpected answers {status}" for status, got in sorted(seen.items())]
    return problems
