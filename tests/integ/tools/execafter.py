#!/usr/bin/python3
# execafter.py HOST: connect to HOST:80 (non-blocking: redirected, the
# handshake with tollgated completes at once), write a request, then
# become curl, an allowed program, with the socket kept open across the
# exec.  curl waits on HOST's port 9, where nothing answers, so the
# process runs on while tollgated looks at it.  Nothing here reads the
# answer: whether the request got out is the decision's to say.
import os
import select
import socket
import sys

s = socket.socket()
s.setblocking(False)
try:
    s.connect((sys.argv[1], 80))
except BlockingIOError:
    pass
select.select([], [s], [], 5)
s.send(b"GET /?secret HTTP/1.1\r\nHost: allowed.test\r\n\r\n")
os.set_inheritable(s.fileno(), True)
os.execv("/usr/bin/curl", ["curl", "-s", "--max-time", "3", "-o",
                           "/dev/null", "http://%s:9/" % sys.argv[1]])
