#!/usr/bin/env python3
"""Helpers for bench/mock_load.sh (standard library only).

    mock_bench_helper.py startup BIN RUNS   time from spawning `BIN mock --port 0` to
                                            its first answer (GET /__admin/health), in ms
    mock_bench_helper.py prepare URL        create a text2video task, wait until it
                                            succeeds, print "TASK_ID TOKEN"
"""

import base64
import hashlib
import hmac
import json
import statistics
import subprocess
import sys
import time
import urllib.request


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(ak="ak-test", sk="sk-test") -> str:
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"iss": ak, "exp": now + 1800, "nbf": now - 5}).encode())
    sig = hmac.new(sk.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def call(url, data=None, tok=None):
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        req.add_header("Content-Type", "application/json")
    if tok:
        req.add_header("Authorization", "Bearer " + tok)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def startup(binary, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "mock", "--port", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            url = proc.stdout.readline().split()[-1]
            while True:
                try:
                    call(url + "/__admin/health")
                    break
                except OSError:
                    time.sleep(0.001)
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"startup_ms median={statistics.median(samples):.1f} max={max(samples):.1f} runs={runs}")


def prepare(url):
    tok = token()
    body = json.dumps({"model_name": "kling-v1", "prompt": "a red fox running through fresh snow",
                       "duration": "5"}).encode()
    task_id = call(url + "/v1/videos/text2video", body, tok)["data"]["task_id"]
    for _ in range(100):
        if call(f"{url}/v1/videos/text2video/{task_id}", tok=tok)["data"]["task_status"] == "succeed":
            print(task_id, tok)
            return
        time.sleep(0.05)
    sys.exit("the task did not succeed; start the mock with --task-seconds 0")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "startup":
        startup(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    else:
        sys.exit(__doc__)
