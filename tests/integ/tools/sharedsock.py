#!/usr/bin/python3
# sharedsock.py HOST [nodump]: one socket, two programs.  The socket is
# made here, inheritable; the parent becomes curl (holding the socket,
# waiting on HOST's port 9, where nothing answers), the child connects
# with it to HOST:80 once curl runs and prints what the server says.
# With "nodump", the child makes itself non-dumpable first (its /proc/PID
# is then root's).
import ctypes
import os
import socket
import sys
import time

from httpget import fetch

s = socket.socket()
os.set_inheritable(s.fileno(), True)
if os.fork() == 0:
    if len(sys.argv) > 2 and sys.argv[2] == "nodump":
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    time.sleep(0.5)
    try:
        s.settimeout(5)
        s.connect((sys.argv[1], 80))
        print(fetch(s))
    except OSError as e:
        print("child:", e)
    sys.exit(0)
os.execv("/usr/bin/curl", ["curl", "-s", "--max-time", "3", "-o",
                           "/dev/null", "http://%s:9/" % sys.argv[1]])
