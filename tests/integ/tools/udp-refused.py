#!/usr/bin/python3
"""udp-refused.py HOST PORT: send two UDP datagrams to HOST:PORT from one
connected socket and print what the sender learns:

  refused    the socket reported ECONNREFUSED (an ICMP port-unreachable
             came back for the first datagram)
  answered   a reply came
  ERROR      any other error (its text)
"""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.connect((host, port))
try:
    s.send(b"first")
except OSError:
    pass  # a reject in the output path fails the send itself (EPERM)
s.settimeout(2)
try:
    s.send(b"second")
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print(e)
