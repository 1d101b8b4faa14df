"""Raw HTTP/1.x on loopback for the exporter's Python clients (exporter_http.sh,
exporter_abuse.sh, exporter_dos.py, hardening2.py): requests sent as bytes,
answers read until the server closes, TAP-like "ok - " / "not ok - " lines.
Not a test itself; a client imports it (the shell scripts run theirs through
raw_http of exporter.lib.sh, which puts this directory on the path).
"""
import base64
import errno
import socket
import time

failed = False


def ok(cond, desc):
    """One assertion line; a failure makes exit_code() 1."""
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def exit_code():
    return 1 if failed else 0


def conn(port, src="127.0.0.1", timeout=5.0):
    """A connection from @src to 127.0.0.1:@port (raises OSError)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def error_kind(e):
    """How a socket call failed: refused, reset, timeout or the errno name."""
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    return errno.errorcode.get(e.errno, "error") if getattr(e, "errno", None) else "error"


def exchange_ex(port, payload, timeout=5.0, src="127.0.0.1"):
    """Send @payload on a new connection, read until close or @timeout:
    (reply bytes, how it ended). The end is "closed" (the server closed after
    its reply, or without one when the bytes are empty), "reset", "refused"
    (connect), "connect-timeout", "timeout" (this client gave up) or an errno
    name."""
    try:
        s = conn(port, src, timeout)
    except socket.timeout:
        return b"", "connect-timeout"
    except OSError as e:
        return b"", error_kind(e)
    end = None
    try:
        s.sendall(payload)
    except OSError as e:
        end = error_kind(e)  # the server may close before reading it all
    data = b""
    t0 = time.monotonic()
    try:
        while True:
            if time.monotonic() - t0 >= timeout:
                end = "timeout"
                break
            b = s.recv(65536)
            if not b:
                end = "closed"
                break
            data += b
    except OSError as e:
        end = error_kind(e)
    s.close()
    return data, end


def exchange(port, payload, timeout=5.0, src="127.0.0.1"):
    """Send @payload on a new connection, read until close or @timeout; the
    reply bytes (a failed connect raises OSError)."""
    s = conn(port, src, timeout)
    try:
        s.sendall(payload)
    except OSError:
        pass  # the server may close before reading it all
    data = b""
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < timeout:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        pass
    s.close()
    return data


def outcome(data, end):
    """A status code, or for no status the way the connection ended
    ("no answer: reset" ...): what a test counts by kind."""
    st = status(data)
    return st if st else "no answer: " + end


def status(reply):
    """The status code of @reply, 0 when there is none."""
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def header(reply, name):
    """The value of header @name (bytes, any case) in @reply, or None."""
    for line in reply.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def request(port, src, headers=b"", timeout=5.0, path=b"/metrics"):
    """One GET on a new connection: (status, seconds, reply length); status 0
    when the connection failed or nothing came back."""
    st, dt, n, _ = request_ex(port, src, headers, timeout, path)
    return st, dt, n


def request_ex(port, src, headers=b"", timeout=5.0, path=b"/metrics"):
    """request() and how the connection ended (exchange_ex)."""
    t0 = time.monotonic()
    data, end = exchange_ex(port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            + headers + b"\r\n", timeout, src)
    return status(data), time.monotonic() - t0, len(data), end


def basic(user, pw):
    """An Authorization: Basic header line."""
    return b"Authorization: Basic " + base64.b64encode(user.encode() + b":" + pw.encode()) + b"\r\n"
