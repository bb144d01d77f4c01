#!/usr/bin/python3
"""Real peer: Python requests posts multipart forms with files to
upload_server; the handler must see the fields and the files' exact bytes
(SHA-256 echoed back), and the spool directory must be empty afterwards.
Also a streamed 64 MiB body (Content-Length and chunked) whose server RSS
growth must stay under 16 MB."""
import hashlib
import os
import subprocess
import sys
import tempfile

import requests

BIN = os.environ.get("HTTPKIT_BIN_DIR", "build/bin")


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def main():
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as spool:
        server = subprocess.Popen([os.path.join(BIN, "upload_server"), spool],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline().split()[1])
            base = f"http://127.0.0.1:{port}"
            files = {
                "doc": ("report.bin", os.urandom(3 * 1024 * 1024 + 17), "application/octet-stream"),
                "note": ("note.txt", b"hello\r\n--not a boundary\r\n", "text/plain"),
                "empty": ("empty.dat", b"", "application/octet-stream"),
            }
            data = {"title": "quarterly", "tags": "a b"}
            r = requests.post(base + "/form", data=data, files=files, timeout=30)
            check(r.status_code == 200, f"multipart upload answered 200 (got {r.status_code})")
            lines = r.text.splitlines()
            check("field title quarterly" in lines, "field title seen")
            check("field tags a b" in lines, "field tags seen")
            for name, (filename, content, _) in files.items():
                want = f"file {name} {filename} {len(content)} {hashlib.sha256(content).hexdigest()}"
                check(want in lines, f"file {name} arrived intact")
            check(os.listdir(spool) == [], "spool dir empty after the response")

            # Malformed: the close delimiter never comes.
            body = (b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n"
                    + b"x" * 100000)
            r = requests.post(base + "/form", data=body, timeout=30,
                              headers={"Content-Type": "multipart/form-data; boundary=B"})
            check(r.status_code == 400, f"unterminated form gets 400 (got {r.status_code})")
            check(os.listdir(spool) == [], "spool dir empty after the refusal")

            # Streamed bodies: memory stays flat.
            size = 64 * 1024 * 1024
            hwm_before = rss_kib(server.pid, "VmHWM")
            chunk = os.urandom(1024 * 1024)
            sha = hashlib.sha256()
            for _ in range(size // len(chunk)):
                sha.update(chunk)

            def pieces():
                for _ in range(size // len(chunk)):
                    yield chunk

            r = requests.post(base + "/count", data=pieces(), timeout=120)  # chunked
            check(r.text.split() == [str(size), sha.hexdigest()], "64 MiB chunked counted")
            with tempfile.TemporaryFile() as f:
                for _ in range(size // len(chunk)):
                    f.write(chunk)
                f.seek(0)
                r = requests.post(base + "/count", data=f, timeout=120,
                                  headers={"Content-Length": str(size)})
            check(r.text.split() == [str(size), sha.hexdigest()], "64 MiB Content-Length counted")
            growth = rss_kib(server.pid, "VmHWM") - hwm_before
            check(growth < 16 * 1024, f"server peak RSS grew {growth} KiB (< 16 MiB)")
        finally:
            server.terminate()
            server.wait(timeout=10)
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
