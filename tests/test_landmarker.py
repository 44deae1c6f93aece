"""The Tasks engine's model bundle: a given file, the cache, a verified download, and offline.

A real HTTP server on 127.0.0.1 stands in for Google's model storage; nothing here touches
the internet. The "bundle" served is any file: what is checked is the download's handling
(its sha256, atomic replacement, the messages), not the model, which test_tasks_engine runs.
"""
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from asl_live.capture import landmarker
from asl_live.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = os.urandom(300_000)
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server():
    """Serves PAYLOAD at /holistic_landmarker.task on a free loopback port; counts requests."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path != "/holistic_landmarker.task":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def closed_port_url():
    """An address on loopback where nothing listens: a machine without a network answers alike."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/holistic_landmarker.task"


def test_download_is_verified_cached_and_reused(server, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    base, hits = server
    cache = tmp_path / "cache" / "holistic_landmarker.task"
    url = base + "/holistic_landmarker.task"
    got = landmarker.landmarker_path(url=url, sha256=PAYLOAD_SHA256, cache=cache)
    assert got == cache and cache.read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert "downloaded once from " + url in err and str(cache) in err  # told before it starts
    assert not list(cache.parent.glob("*.part"))
    # The next run finds the verified copy and asks nothing.
    assert landmarker.landmarker_path(url=url, sha256=PAYLOAD_SHA256, cache=cache) == cache
    assert hits == ["/holistic_landmarker.task"]


def test_a_damaged_cached_copy_is_fetched_again(server, tmp_path, monkeypatch):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    base, hits = server
    cache = tmp_path / "holistic_landmarker.task"
    cache.write_bytes(PAYLOAD[:1000])  # an interrupted copy from elsewhere
    landmarker.landmarker_path(url=base + "/holistic_landmarker.task", sha256=PAYLOAD_SHA256, cache=cache)
    assert cache.read_bytes() == PAYLOAD and len(hits) == 1


def test_hash_mismatch_is_refused_and_nothing_is_kept(server, tmp_path, monkeypatch):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    base, _ = server
    cache = tmp_path / "holistic_landmarker.task"
    with pytest.raises(UserError, match="has sha256 .* not the expected 0{64}: not used; download"):
        landmarker.landmarker_path(url=base + "/holistic_landmarker.task", sha256="0" * 64, cache=cache)
    assert list(tmp_path.iterdir()) == []


def test_no_network_is_one_line_saying_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    url = closed_port_url()
    with pytest.raises(UserError) as caught:
        landmarker.landmarker_path(url=url, sha256=PAYLOAD_SHA256, cache=tmp_path / "b.task")
    line = str(caught.value)
    assert "\n" not in line and f"cannot download the landmark model bundle from {url}" in line
    assert "--landmarker PATH" in line and landmarker.ENV in line
    assert list(tmp_path.iterdir()) == []


def test_a_server_error_is_one_line_too(server, tmp_path, monkeypatch):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    base, _ = server
    with pytest.raises(UserError, match="cannot download .*Not Found"):
        landmarker.landmarker_path(url=base + "/moved.task", sha256=PAYLOAD_SHA256, cache=tmp_path / "b.task")


def test_a_given_file_is_used_as_it_is_and_nothing_downloaded(tmp_path, monkeypatch):
    monkeypatch.delenv(landmarker.ENV, raising=False)
    mine = tmp_path / "my bundle.task"
    mine.write_bytes(b"another version of the bundle")
    never = closed_port_url()
    assert landmarker.landmarker_path(mine, url=never, cache=tmp_path / "c.task") == mine
    monkeypatch.setenv(landmarker.ENV, str(mine))
    assert landmarker.landmarker_path(url=never, cache=tmp_path / "c.task") == mine
    with pytest.raises(UserError, match="does not exist .*--landmarker PATH"):
        landmarker.landmarker_path(tmp_path / "missing.task", url=never)


def test_the_pinned_address_is_versioned_and_the_cache_is_the_users():
    assert "/float16/1/" in landmarker.URL and "latest" not in landmarker.URL
    assert len(landmarker.SHA256) == 64 and int(landmarker.SHA256, 16) >= 0
    assert landmarker.cache_path().name == "holistic_landmarker.task"
    assert "asl-live" in landmarker.cache_path().parts


def run_cli(args, tmp_path):
    """`asl-live ARGS` with the Tasks engine, an empty cache, and every HTTPS request sent to a
    loopback port where nothing listens: offline, without ever reaching the internet."""
    proxy = closed_port_url().rsplit("/", 1)[0]
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("display", "no_proxy", "https_proxy", "http_proxy", landmarker.ENV.lower())}
    env.update({"ASL_LIVE_ENGINE": "tasks", "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "https_proxy": proxy, "HTTPS_PROXY": proxy})
    return subprocess.run([sys.executable, "-m", "asl_live", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=ROOT)


def test_offline_a_video_says_how_to_get_the_bundle_and_replays_still_run(tmp_path):
    from asl_live.bundled import DEMO_PARQUET

    run = run_cli(["--video", str(ROOT / "tests/fixtures/dpan_tractor.mp4"), "--headless"], tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("asl-live: the MediaPipe Tasks landmark engine needs its model bundle")
    assert lines[-1].startswith(f"asl-live: error: cannot download the landmark model bundle from {landmarker.URL}")
    assert "--landmarker PATH" in lines[-1] and "Traceback" not in run.stderr
    assert not list((tmp_path / "cache").rglob("*.task*"))
    # The demo and a replay carry their landmarks: no engine, no bundle, no download.
    for args in (["--demo", "--headless"], ["--replay", str(DEMO_PARQUET), "--headless", "--clip"]):
        run = run_cli(args, tmp_path)
        assert run.returncode == 0, run.stderr
        assert '"sign"' in run.stdout and "model bundle" not in run.stderr
