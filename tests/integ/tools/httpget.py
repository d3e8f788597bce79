"""httpget: a page over a connected socket, for the test programs that
fetch one themselves (tools/sharedsock.py, the scripts of 92 and 98).
The answer is read to the end: the server may write its header and its
body apart, and one recv() would see only the first."""

REQUEST = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"


def fetch(sock, limit=65536):
    """Send the request on sock; the answer, up to limit bytes, as text."""
    sock.sendall(REQUEST)
    data = b""
    while len(data) < limit:
        b = sock.recv(4096)
        if not b:
            break
        data += b
    return data.decode(errors="replace")
