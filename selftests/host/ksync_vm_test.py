#!/usr/bin/env python3
"""ksync_vm_test: what scripts/ksync-vm does with standard input.

A pipe's content reaches the command in the guest, which then sees its end;
</dev/null is an empty input at once; a terminal is the guest's console:
the command reads it as its controlling terminal, and ^C interrupts the
command, not the guest, which passes its status back.  (Before, the
guest's stdin was a serial port with nothing behind it: a command that
read it waited for the timeout.)  Three guests boot on the stock kernel,
without the module; each has a deadline, and --timeout bounds each
guest.  Ends "N passed, N failed".
"""
import os
import pty
import select
import subprocess
import sys
import termios
import fcntl
import struct
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM = [os.path.join(TOP, "scripts", "ksync-vm"), "--no-module", "--timeout", "120", "--"]
DEADLINE = 180
results = []


def ok(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok " if cond else "not ok ") + "ksync-vm " + name)
    if not cond and detail:
        sys.stdout.write("".join("#   " + l + "\n" for l in detail.splitlines()[-20:]))


def piped(args, data):
    """Run ksync-vm with data on a pipe (None: /dev/null) and no terminal."""
    p = subprocess.run(VM + args, input=data if data is not None else None,
                       stdin=subprocess.DEVNULL if data is None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=DEADLINE, cwd=TOP)
    return p.returncode, p.stdout.decode(errors="replace")


class Console:
    """ksync-vm on a pseudo-terminal of its own, as from a shell prompt."""

    def __init__(self, args):
        self.master, slave = pty.openpty()
        # a size no default has, to see it in the guest
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(VM + args, stdin=slave, stdout=slave, stderr=slave,
                                     cwd=TOP, start_new_session=True, preexec_fn=ctty)
        os.close(slave)
        self.out = b""
        self.end = time.monotonic() + DEADLINE

    def expect(self, what):
        """Read until what appears (True), or end of output or the deadline."""
        while what.encode() not in self.out:
            left = self.end - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                return False
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            self.out += chunk
        return True

    def send(self, data):
        os.write(self.master, data)

    def wait(self):
        self.expect("\0never\0")  # drain to the end of output
        try:
            return self.proc.wait(timeout=max(1, self.end - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def text(self):
        return self.out.decode(errors="replace")


def main():
    p = subprocess.run([VM[0], "--help"], stdout=subprocess.PIPE, timeout=DEADLINE)
    rc, out = p.returncode, p.stdout.decode()
    ok("--help says what stdin is and the default timeout",
       rc == 0 and "stdin" in out and "1200" in out and "terminal" in out, out)

    rc, out = piped(["sh", "-c", "wc -l; echo read-to-the-end"], b"one\ntwo\nthree\n")
    ok("a pipe's content reaches the command, then its end",
       rc == 0 and "3\n" in out and "read-to-the-end" in out, out)

    rc, out = piped(["sh", "-c", "cat; echo nothing-to-read"], None)
    ok("</dev/null is an empty input at once", rc == 0 and "nothing-to-read" in out, out)

    c = Console(["sh", "-c", 'tty; stty size; echo READY; read -r x; echo "got <$x>"; '
                 'echo ASLEEP; sleep 600; echo slept'])
    ready = c.expect("READY")
    if ready:
        c.send(b"typed here\r")
    got = c.expect("got <typed here>")
    asleep = c.expect("ASLEEP")
    if asleep:
        c.send(b"\x03")
    rc = c.wait()
    ok("on a terminal, the command reads it", ready and got, c.text())
    ok("... as its controlling terminal, the serial port", "/dev/ttyS0" in c.text(), c.text())
    ok("... of the host terminal's size", "33 101" in c.text(), c.text())
    ok("^C interrupts the command in the guest, which ends cleanly, its status passed back",
       asleep and rc == 130 and "slept" not in c.text(), "status %r\n%s" % (rc, c.text()))

    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
