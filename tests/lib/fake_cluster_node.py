#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Fake Redis Cluster nodes on loopback for the cluster fault tests: each
mode answers CLUSTER SHARDS and the data commands in one way a broken or
moving cluster can.

  garbage       every answer is bytes that are not RESP
  moved-refused every keyed command is MOVED to a port nobody listens on (the
                slot map lists it, as a replica)
  moved-loop    every keyed command is MOVED to the node itself
  moved-stranger two nodes, the slot map names the first only; it MOVEs
                every keyed command to the second, which would serve it
  holes         the slot map covers slots 0..99 only; commands answer +OK
  unreachable   the slot map names a replica on a port nobody listens on
  silent        five nodes that read commands and never answer
  clusterdown   every keyed command answers -CLUSTERDOWN
  split         two nodes: slots 0..8191 on the first, the rest on the
                second; a keyed command answers "node<i>:<key>" (or MOVED
                when the key is not in the node's slots), WAIT answers <i>;
                the key "askme" is ASKed from the first node to the second,
                which serves it only right after ASKING; keys starting
                with "moved" are MOVED from the first node to the second.

The nodes bind 127.0.0.1 on free ports, written one a line to --port-file
(first line: how many), and the process exits by itself after
--max-seconds.

Usage: fake_cluster_node.py --mode M --port-file F [--max-seconds S]
"""
import argparse
import asyncio
import os
import socket
import sys


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return crc16(key) % 16384


def bulk(s):
    if isinstance(s, str):
        s = s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def arr(items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def node_fields(port, role):
    return arr([bulk("id"), bulk("%040d" % port), bulk("port"), b":%d\r\n" % port,
                bulk("ip"), bulk("127.0.0.1"), bulk("endpoint"), bulk("127.0.0.1"),
                bulk("role"), bulk(role), bulk("health"), bulk("online")])


def shard(lo, hi, port):
    return arr([bulk("slots"), arr([b":%d\r\n" % lo, b":%d\r\n" % hi]),
                bulk("nodes"), arr([node_fields(port, "master")])])


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    def __init__(self, mode, ports):
        self.mode = mode
        self.ports = ports
        self.refused = closed_port()

    def shards(self):
        p = self.ports
        if self.mode == "holes":
            return arr([shard(0, 99, p[0])])
        if self.mode == "split":
            return arr([shard(0, 8191, p[0]), shard(8192, 16383, p[1])])
        if self.mode in ("unreachable", "moved-refused"):
            return arr([arr([bulk("slots"), arr([b":0\r\n", b":16383\r\n"]), bulk("nodes"),
                             arr([node_fields(p[0], "master"),
                                  node_fields(self.refused, "replica")])])])
        return arr([shard(0, 16383, p[0])])

    def owner(self, slot):
        return 0 if self.mode != "split" or slot < 8192 else 1

    def answer(self, i, conn, argv):
        name = argv[0].upper()
        if self.mode == "garbage":
            return b"%garbage\r\n"
        if name == b"CLUSTER":
            return self.shards()
        if name in (b"AUTH", b"ASKING"):
            conn["asking"] = name == b"ASKING"
            return b"+OK\r\n"
        asking, conn["asking"] = conn.get("asking", False), False
        if name == b"PING":
            return b"+PONG\r\n"
        if name == b"WAIT":
            return b":%d\r\n" % i
        if len(argv) < 2:
            return b"-ERR wrong number of arguments\r\n"
        key = argv[1]
        slot = key_slot(key)
        if self.mode == "moved-refused":
            return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.refused)
        if self.mode == "moved-loop":
            return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.ports[i])
        if self.mode == "moved-stranger" and i == 0:
            return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.ports[1])
        if self.mode == "clusterdown":
            return b"-CLUSTERDOWN The cluster is down\r\n"
        if self.mode == "holes":
            return b"+OK\r\n"
        if key.startswith(b"moved"):
            if i == 0:
                return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.ports[1])
        elif key == b"askme":
            if i == 0:
                return b"-ASK %d 127.0.0.1:%d\r\n" % (slot, self.ports[1])
            if not asking:
                return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.ports[0])
        elif self.owner(slot) != i:
            return b"-MOVED %d 127.0.0.1:%d\r\n" % (slot, self.ports[self.owner(slot)])
        return bulk(b"node%d:%s" % (i, key))


async def read_command(reader):
    line = await reader.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        raise ValueError("inline commands are not spoken here")
    argv = []
    for _ in range(int(line[1:])):
        n = int((await reader.readline())[1:])
        argv.append((await reader.readexactly(n + 2))[:-2])
    return argv


async def serve(cluster, i, reader, writer):
    conn = {}
    try:
        while True:
            argv = await read_command(reader)
            if argv is None:
                break
            if cluster.mode == "silent":
                continue
            writer.write(cluster.answer(i, conn, argv))
            await writer.drain()
    except (ConnectionError, ValueError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True,
                    choices=["garbage", "moved-refused", "moved-loop", "moved-stranger", "holes",
                             "clusterdown", "split", "unreachable", "silent"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--max-seconds", type=float, default=60)
    a = ap.parse_args()
    n = {"split": 2, "silent": 5, "moved-stranger": 2}.get(a.mode, 1)
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        socks.append(s)
    cluster = Cluster(a.mode, [s.getsockname()[1] for s in socks])
    for i, s in enumerate(socks):
        await asyncio.start_server(lambda r, w, i=i: serve(cluster, i, r, w), sock=s)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % n + "".join("%d\n" % p for p in cluster.ports))
    os.rename(tmp, a.port_file)
    await asyncio.sleep(a.max_seconds)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
