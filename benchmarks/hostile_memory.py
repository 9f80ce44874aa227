"""What the two hostile windows of issue 18 cost in memory: peak RSS against the idle figure (goal <= 2x).

1. OpenRouter's workspace list, read at `add` and at syncs: 100 pages of 1 MB (100 workspaces a page,
   each with a 10 KB name), 10,000 workspaces in all. It used to keep every page: ~22.8 MB of RAM per
   1 MB page, linear. Now only id -> name is kept, each name cut to 255 characters as it arrives.
2. OpenAI's costs for one window, in pages of 6 MB: (a) every result a new (day, model, project), until
   the window passes MAX_SUMS_PER_WINDOW and fails with one sentence (it used to sum the whole window
   first: 81 -> 921 MB and "ok"); (b) 20 pages over the same 1,000 keys, which the window keeps.
   Answers are read entry by entry (providers/jsonstream.py), never as one json.loads tree.

Each scenario runs in a fresh client process against a server in another process on 127.0.0.1, so the
client's figures are its own: idle = its RSS after imports and one small request; peak = its VmHWM
(the most RSS it ever held) once the window is done.

Runs as installed: grafient_tui and site-packages are byte-compiled first, PYTHONDONTWRITEBYTECODE unset.

Prints one line per scenario:  scenario=NAME idle_mb=N peak_mb=N ratio=N outcome=...
Usage: uv run python benchmarks/hostile_memory.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENROUTER_KEY = "sk-or-v1-" + "5e2f9a7c" * 8
OPENAI_KEY = "sk-admin-" + "Hk3mP8qZ" * 4
DAY_START = 1_773_100_800  # 2026-03-10 00:00 UTC
PAGE_MB = 6


def compile_as_installed() -> None:
    import sysconfig

    for path in (ROOT / "grafient_tui", Path(sysconfig.get_paths()["purelib"])):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", str(path)],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


# --------------------------------------------------------------------------- the hostile server


def serve() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    def workspaces(offset: int) -> bytes:
        page = [{"id": f"ws_{offset + i:06d}", "name": f"W{offset + i} " + "n" * 10_000} for i in range(100)]
        return json.dumps({"data": page, "total_count": 10_000}).encode()

    def costs(page: int, repeat: bool) -> bytes:
        results = []
        size, i = 0, 0
        while size < PAGE_MB * 1024 * 1024:
            # new keys: every result a new (model, project) pair within the window's model and
            # project bounds (4,000 models, a new project every 4,000 results), so only the bound on
            # distinct sums can stop it; repeating: the same 1,000 pairs on every page
            n = i % 1_000 if repeat else page * 1_000_000 + i
            model, project = n % 4_000, n // 4_000
            item = (
                f'{{"object":"organization.costs.result","amount":{{"value":"0.001","currency":"usd"}},'
                f'"line_item":"model-{model}, input","project_id":"proj_{project}"}}'
            )
            results.append(item)
            size += len(item) + 1
            i += 1
        more = page < 19
        start = DAY_START + page * 86_400  # a day a page
        bucket = f'{{"object":"bucket","start_time":{start},"end_time":{start + 86400},"results":['
        tail = json.dumps({"has_more": more, "next_page": f"p{page + 1}" if more else None})[1:]
        return ('{"object":"page","data":[' + bucket + ",".join(results) + "]}]," + tail).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if url.path.endswith("/v1/key"):
                body = json.dumps({"data": {"is_management_key": True}}).encode()
            elif url.path.endswith("/v1/workspaces"):
                body = workspaces(int(query.get("offset", "0")))
            elif url.path.endswith("/v1/organization/costs"):
                page = int(query.get("page", "p0")[1:])
                body = costs(page, repeat=self.server.mode == "repeat")  # type: ignore[attr-defined]
            elif url.path.endswith("/v1/organization/projects"):
                body = b'{"object":"list","data":[],"has_more":false}'
            else:
                body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.mode = sys.argv[2]  # type: ignore[attr-defined]
    print(server.server_address[1], flush=True)
    server.serve_forever()


# --------------------------------------------------------------------------- the client


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(field)


def client() -> None:
    import asyncio
    import datetime

    from grafient_tui.errors import GrafientError
    from grafient_tui.providers.openai import OpenAIClient
    from grafient_tui.providers.openrouter import OpenRouterClient

    scenario, url = sys.argv[2], sys.argv[3]

    async def run() -> tuple[int, str]:
        if scenario == "openrouter-workspaces":
            provider = OpenRouterClient(OPENROUTER_KEY, base_url=url, rpm=0, backoff_base=0)
            await provider._api.request("GET", "/v1/ping")  # warm: the client, its connection pool
            idle = _status("VmRSS")
            try:
                info = await provider.validate()
                outcome = f"ok: {info.members:,} workspaces, names kept {max(map(len, provider._names.values()))} chars"
            except GrafientError as exc:
                outcome = f"refused: {exc.sentence}"
        else:
            provider = OpenAIClient(OPENAI_KEY, base_url=url, rpm=0, backoff_base=0)
            await provider._api.request("GET", "/v1/ping")
            idle = _status("VmRSS")
            day = datetime.date(2026, 3, 10)
            try:
                sums = await provider.window_costs(day, day + datetime.timedelta(days=19))
                outcome = f"ok: {len(sums):,} sums"
            except GrafientError as exc:
                outcome = f"refused: {exc.sentence}"
        await provider.aclose()
        return idle, outcome

    idle, outcome = asyncio.run(run())
    print(json.dumps({"idle_kb": idle, "peak_kb": _status("VmHWM"), "outcome": outcome}))


# --------------------------------------------------------------------------- main


def scenario(name: str, mode: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, __file__, "--serve", mode], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        done = subprocess.run(
            [sys.executable, __file__, "--client", name, f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            print(f"scenario={name} failed: {done.stderr.strip()[-500:]}")
            return
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(10)
    idle, peak = figures["idle_kb"] / 1024, figures["peak_kb"] / 1024
    label = name if mode != "repeat" else name + "-repeating-keys"
    print(
        f"scenario={label} idle_mb={idle:.1f} peak_mb={peak:.1f} ratio={peak / idle:.2f} outcome={figures['outcome']}"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client()
        return 0
    compile_as_installed()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print("bytecode: grafient_tui and site-packages byte-compiled (compileall); PYTHONDONTWRITEBYTECODE unset")
    scenario("openrouter-workspaces", "workspaces")
    scenario("openai-window", "new-keys")
    scenario("openai-window", "repeat")
    print("goal: peak RSS <= 2x the idle figure in every scenario")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
