#!/usr/bin/env python3
"""Peak memory of `verifier serve` under N concurrent uploads of SIZE bytes each.

Usage: uploads.py PORT PID [N=100] [SIZE=10000000]

Opens N connections, sends every request's headers and then the bodies in interleaved
chunks (so all N are in flight at once), reads the answers, and prints the answer codes and
the server's peak resident memory (VmHWM from /proc/PID/status) before and after.
"""
import collections
import socket
import sys
import threading


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return -1


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000_000
    body = (b"%PDF-1.7\n%" + b"\x00" * size)[:size]
    print(f"before: VmRSS {vm(pid, 'VmRSS')} MiB, VmHWM {vm(pid, 'VmHWM')} MiB")
    codes = collections.Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one():
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % size)
        barrier.wait()
        try:
            view = memoryview(body)
            for i in range(0, size, 256 * 1024):
                s.sendall(view[i:i + 256 * 1024])
        except OSError:
            pass  # refused early (429) and closed
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        code = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "reset"
        with lock:
            codes[code] += 1
        s.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"answers: {dict(codes)}")
    print(f"after: VmRSS {vm(pid, 'VmRSS')} MiB, VmHWM (peak) {vm(pid, 'VmHWM')} MiB")


if __name__ == "__main__":
    main()
