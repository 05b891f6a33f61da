# SPDX-License-Identifier: MIT
"""pipe_closed.py CGCTL SOCKET NAME: each printing command of cgctl, its stdout a pipe whose reader is
gone, ends quietly by SIGPIPE (as cat does), whether its parent left SIGPIPE default or ignored it."""
import os
import signal
import subprocess
import sys
import tempfile


def main():
    cgctl, sock, name = sys.argv[1:4]
    state = tempfile.mkdtemp()
    os.makedirs(state + "/cgctl")
    with open(state + "/cgctl/oci-hook.log", "w") as f:
        f.write("".join("line %d\n" % i for i in range(50)))
    env = dict(os.environ, XDG_STATE_HOME=state)
    cmds = [["list"], ["--json", "list"], ["top", "-b", "-n", "1", "-d", "0.1"], ["--json", "top", "-b", "-n", "1", "-d", "0.1"],
            ["watch", name], ["stats", name], ["hook-log"], ["status"]]
    bad = 0
    for restore in (True, False):  # Python ignores SIGPIPE: restore_signals=False passes that on
        for cmd in cmds:
            r, w = os.pipe()
            os.close(r)
            p = subprocess.Popen([cgctl, "--socket", sock] + cmd, stdin=subprocess.DEVNULL, stdout=w,
                                 stderr=subprocess.PIPE, env=env, restore_signals=restore)
            os.close(w)
            if cmd[0] == "watch":  # it prints (and meets the pipe) at the first event
                for i in range(50):
                    subprocess.run([cgctl, "--socket", sock, "create", "%s/w%d" % (name, i)],
                                   stdout=subprocess.DEVNULL, env=env, check=True)
                    subprocess.run([cgctl, "--socket", sock, "destroy", "%s/w%d" % (name, i)],
                                   stdout=subprocess.DEVNULL, env=env, check=True)
                    if p.poll() is not None:
                        break
            p.stderr = p.stderr.read()
            p.wait(timeout=20)
            what = "%s (SIGPIPE %s)" % (" ".join(cmd), "default" if restore else "ignored")
            if p.returncode != -signal.SIGPIPE or p.stderr:
                print("FAIL %s: exit %d, stderr %r" % (what, p.returncode, p.stderr.decode(errors="replace")))
                bad += 1
            else:
                print("ok   %s: killed by SIGPIPE, nothing on stderr" % what)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
