#!/usr/bin/env python3
"""Records where Debian's GlusterFS places files, for placement_test.go.

Run as root with glusterfs-server installed:
    flock /tmp/gluster-go-24007.lock python3 gen-vectors.py > glusterfs-placement.json

It runs Debian's glusterd with a private working directory bound to
127.0.0.1, creates distribute volumes (equal bricks on one file system,
bricks of different sizes on their own tmpfs, and 11 bricks so that
subvolume names sort differently from their indexes), mounts each with
Debian's FUSE client, creates files with varied names, and records for every
volume: subvolume names, each brick's statfs, the trusted.glusterfs.dht
xattr of every directory on every brick and the brick each file landed on.
Everything is torn down at the end, also after a failure.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

WORK = "/tmp/gluster-go-hashvectors"
HOST = "127.0.0.1"
BRICKHOST = os.uname().nodename  # resolves to loopback; GlusterFS refuses 127.0.0.1 as a brick host
GLUSTERD = "/usr/sbin/glusterd"
GLUSTER = "/usr/sbin/gluster"
GLUSTERFS = "/usr/sbin/glusterfs"
DIRS = ["/", "/sub", "/sub/deeper", "/.hidden dir", "/ünïcødé"]


def names():
    out = []
    out += ["file-%d" % i for i in range(60)]
    out += ["photo_%03d.JPG" % i for i in range(0, 200, 9)]
    out += ["README", "Makefile", "a", "ab", "abc", "abcd", "x" * 15, "y" * 16, "z" * 17]
    out += ["naïve-%d" % i for i in range(10)]
    out += ["日本語のファイル-%d" % i for i in range(10)]
    out += ["Ελληνικά %d" % i for i in range(6)]
    out += ["emoji-😀-%d" % i for i in range(6)]
    out += ["\xff\xfe-latin1-%d" % i for i in range(4)]
    out += [("long-%d-" % i) + "L" * (240 - i * 7) for i in range(8)]
    out += ["é" * 127]  # 254 bytes of UTF-8
    out += [".file-%d.AbC%03d" % (i, i) for i in range(20)]  # rsync temp names
    out += [".hidden", ".a.b.c", "..dots..", "trailing.", "with space", "tab\tname"]
    out += ["%d.tar.gz" % i for i in range(15)]
    return out


def sh(*args, check=True, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s %s" % (" ".join(args), p.stdout, p.stderr))
    return p.stdout


def cli(*args, check=True):
    return sh(GLUSTER, "--mode=script", "--glusterd-sock=%s/glusterd.socket" % WORK, *args, check=check)


def start_glusterd():
    os.makedirs(WORK + "/state", exist_ok=True)
    conf = open("/etc/glusterfs/glusterd.vol").read()
    conf = conf.replace("/var/lib/glusterd", WORK + "/state", 1)
    conf = conf.replace("end-volume", "    option transport.socket.bind-address %s\n"
                        "    option glusterd-sockfile %s/glusterd.socket\nend-volume" % (HOST, WORK), 1)
    with open(WORK + "/glusterd.vol", "w") as f:
        f.write(conf)
    sh(GLUSTERD, "-f", WORK + "/glusterd.vol", "-p", WORK + "/glusterd.pid",
       "-l", WORK + "/glusterd.log", "-L", "WARNING")
    for _ in range(300):
        if os.path.exists(WORK + "/glusterd.socket"):
            return
        time.sleep(0.1)
    raise RuntimeError("glusterd did not come up")


def volume(vol, bricks, tmpfs_mb=None):
    for i, b in enumerate(bricks):
        os.makedirs(b, exist_ok=True)
        if tmpfs_mb:
            sh("mount", "-t", "tmpfs", "-o", "size=%dm" % tmpfs_mb[i], "tmpfs", b)
    cli("volume", "create", vol, *["%s:%s/data" % (BRICKHOST, b) for b in bricks], "force")
    cli("volume", "start", vol)
    mnt = "%s/mnt-%s" % (WORK, vol)
    os.makedirs(mnt, exist_ok=True)
    sh(GLUSTERFS, "--volfile-server=" + HOST, "--volfile-id=" + vol,
       "--log-file=%s/client-%s.log" % (WORK, vol), mnt)
    for _ in range(100):
        if os.path.ismount(mnt):
            break
        time.sleep(0.1)
    files = []
    for d in DIRS:
        if d != "/":
            os.makedirs(mnt + d, exist_ok=True)
        for n in names():
            p = os.path.join(d, n)
            with open(mnt + p, "w") as f:
                f.write(p)
            files.append(p)
    sh("umount", mnt)
    rec = {"name": vol, "subvolumes": ["%s-client-%d" % (vol, i) for i in range(len(bricks))],
           "statfs": [], "layouts": {d: [] for d in DIRS}, "files": {}}
    for i, b in enumerate(bricks):
        st = os.statvfs(b + "/data")
        rec["statfs"].append({"blocks": st.f_blocks, "bsize": st.f_bsize, "frsize": st.f_frsize,
                              "shared": 1 if tmpfs_mb else len(bricks)})
        for d in DIRS:
            rec["layouts"][d].append(os.getxattr(b + "/data" + d, "trusted.glusterfs.dht").hex())
        for p in files:
            full = b + "/data" + p
            if os.path.exists(full) and os.stat(full).st_mode & 0o7777 != 0o1000:
                assert p not in rec["files"], p
                rec["files"][p] = i
    assert len(rec["files"]) == len(files)
    cli("volume", "stop", vol, "force")
    cli("volume", "delete", vol)
    return rec


def teardown():
    for m in sorted(os.listdir(WORK)) if os.path.isdir(WORK) else []:
        if m.startswith("mnt-") and os.path.ismount(WORK + "/" + m):
            sh("umount", "-l", WORK + "/" + m, check=False)
    for pidfile in [WORK + "/glusterd.pid"]:
        try:
            os.kill(int(open(pidfile).read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
    # Brick and client processes carry WORK in their command lines.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace")
        except OSError:
            continue
        if WORK in cmd and int(pid) != os.getpid():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    time.sleep(1)
    with open("/proc/mounts") as f:
        mounts = [l.split()[1] for l in f if WORK in l]
    for m in sorted(mounts, reverse=True):
        sh("umount", "-l", m, check=False)
    shutil.rmtree(WORK, ignore_errors=True)


def main():
    teardown()
    os.makedirs(WORK)
    try:
        start_glusterd()
        version = sh(GLUSTERFS, "--version").split("\n")[0]
        vols = [
            volume("hv", ["%s/hv/b%d" % (WORK, i) for i in range(3)]),
            volume("hvw", ["%s/hvw/b%d" % (WORK, i) for i in range(3)], tmpfs_mb=[64, 192, 128]),
            volume("hv11", ["%s/hv11/b%d" % (WORK, i) for i in range(11)]),
        ]
        json.dump({"glusterfs": version, "volumes": vols}, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    finally:
        teardown()


if __name__ == "__main__":
    main()
