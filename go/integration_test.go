// SPDX-License-Identifier: MIT

package cgctl

// Against a real cgctld on a real delegated subtree: tests/integration/t_go.sh
// runs the compiled test binary as the unprivileged test user with
// CGCTL_SOCKET set (and the sockets of a degraded daemon and of a foreign
// user's listener); without CGCTL_SOCKET these tests skip.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// live connects to the daemon under test, or skips.
func live(t *testing.T) (*Client, context.Context) {
	t.Helper()
	if os.Getenv("CGCTL_SOCKET") == "" {
		t.Skip("CGCTL_SOCKET not set: no daemon to test against (tests/integration/t_go.sh sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, err := Dial(ctx, "")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

// mustCreate creates a cgroup and destroys it (killing what is inside) at the end of the test.
func mustCreate(t *testing.T, c *Client, ctx context.Context, o CreateOptions) *Entry {
	t.Helper()
	e, err := c.Create(ctx, o)
	if err != nil {
		t.Fatalf("Create %+v: %v", o, err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Destroy(cctx, e.Name, DestroyOptions{Recursive: true, Kill: true})
	})
	return e
}

// cgroupOf is the cgroup2 path of pid, as /proc/PID/cgroup says.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "0::") {
			return l[3:]
		}
	}
	t.Fatalf("no cgroup2 line for %d", pid)
	return ""
}

func TestIntegrationStatusCreateListDestroy(t *testing.T) {
	c, ctx := live(t)
	st, err := c.GetStatus(ctx)
	if err != nil || !st.Delegated || st.UID != int64(os.Getuid()) {
		t.Fatalf("GetStatus: %+v, %v", st, err)
	}
	res := &Resources{Unified: map[string]string{"cgroup.max.descendants": "3"}}
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-named", Labels: map[string]string{"app": "go"}, Resources: res})
	if e.Name != "go-named" || e.Generated || e.Labels["app"] != "go" || !strings.HasPrefix(e.Path, st.CgroupMount) {
		t.Fatalf("Create: %+v", e)
	}
	if b, err := os.ReadFile(e.Path + "/cgroup.max.descendants"); err != nil || strings.TrimSpace(string(b)) != "3" {
		t.Fatalf("cgroup.max.descendants: %q %v", b, err)
	}
	g := mustCreate(t, c, ctx, CreateOptions{Generate: true, Prefix: "go-named", AutoRemove: true})
	if !g.Generated || !strings.HasPrefix(g.Name, "go-named/") || !g.AutoRemove {
		t.Fatalf("generated Create: %+v", g)
	}
	l, err := c.List(ctx, "go-named")
	if err != nil || len(l) != 2 {
		t.Fatalf("List: %+v %v", l, err)
	}
	d, err := c.Destroy(ctx, "go-named", DestroyOptions{Recursive: true})
	if err != nil || !d.Existed || len(d.Removed) != 2 {
		t.Fatalf("Destroy: %+v %v", d, err)
	}
	if _, err := os.Stat(e.Path); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", e.Path, err)
	}
	d, err = c.Destroy(ctx, "go-named", DestroyOptions{})
	if err != nil || d.Existed {
		t.Fatalf("second Destroy: %+v %v", d, err)
	}
}

// sleeper starts a sleep that the test kills at its end.
func sleeper(t *testing.T) *exec.Cmd {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestIntegrationErrors(t *testing.T) {
	c, ctx := live(t)
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-err",
		Resources: &Resources{Unified: map[string]string{"cgroup.max.descendants": "0"}}})
	cases := []struct {
		what string
		want error
		call func() error
	}{
		{"AlreadyExists", ErrAlreadyExists, func() error { _, err := c.Create(ctx, CreateOptions{Name: "go-err"}); return err }},
		{"NotFound", ErrNotFound, func() error { return c.Freeze(ctx, "go-missing") }},
		{"InvalidName", ErrInvalidName, func() error { _, err := c.Create(ctx, CreateOptions{Name: "../x"}); return err }},
		{"InvalidValue", ErrInvalidValue, func() error { _, err := c.Attach(ctx, "go-err", 1<<30); return err }},
		{"QuotaExceeded", ErrQuotaExceeded, func() error { _, err := c.Create(ctx, CreateOptions{Name: "go-err/a"}); return err }},
		{"PermissionDenied", ErrPermissionDenied, func() error { _, err := c.Attach(ctx, "go-err", 1); return err }},
	}
	for _, tc := range cases {
		err := tc.call()
		var e *Error
		if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.Message == "" || errors.Is(err, ErrUnknown) {
			t.Errorf("%s: got %v", tc.what, err)
		}
	}
	// ControllerUnavailable where the memory controller is not enabled (hybrid hosts).
	if _, err := os.Stat(e.Path + "/memory.max"); os.IsNotExist(err) {
		err := c.SetResources(ctx, "go-err", &Resources{Memory: &LinuxMemory{Limit: ptr(int64(64 << 20))}})
		if !errors.Is(err, ErrControllerUnavailable) {
			t.Errorf("ControllerUnavailable: got %v", err)
		}
	} else {
		t.Log("memory controller enabled here: ControllerUnavailable not provoked")
	}
	// Busy: a process inside and no kill.
	b := mustCreate(t, c, ctx, CreateOptions{Name: "go-busy"})
	s := sleeper(t)
	if err := c.AttachProcess(ctx, b.Name, s.Process); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Destroy(ctx, b.Name, DestroyOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("Busy: got %v", err)
	}
	// The connection stays usable after daemon errors.
	if _, err := c.GetStatus(ctx); err != nil {
		t.Errorf("GetStatus after errors: %v", err)
	}
}

func TestIntegrationNoDelegation(t *testing.T) {
	_, ctx := live(t)
	sock := os.Getenv("CGCTL_DEGRADED_SOCKET")
	if sock == "" {
		t.Skip("CGCTL_DEGRADED_SOCKET not set")
	}
	d, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Create(ctx, CreateOptions{Name: "x"}); !errors.Is(err, ErrNoDelegation) {
		t.Fatalf("Create in degraded mode: %v", err)
	}
	if r, err := d.Destroy(ctx, "x", DestroyOptions{}); err != nil || r.Existed {
		t.Fatalf("Destroy of what was never created: %+v %v", r, err)
	}
}

func TestIntegrationForeignPeer(t *testing.T) {
	_, ctx := live(t)
	sock := os.Getenv("CGCTL_FOREIGN_SOCKET")
	if sock == "" {
		t.Skip("CGCTL_FOREIGN_SOCKET not set")
	}
	_, err := Dial(ctx, sock)
	var pe *PeerError
	if !errors.As(err, &pe) || pe.UID == uint32(os.Getuid()) {
		t.Fatalf("Dial of another user's socket: %v", err)
	}
}

func TestIntegrationDeadline(t *testing.T) {
	c, _ := live(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := c.GetStatus(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an expired context: %v", err)
	}
	// Nothing was sent: the connection is still good.
	if _, err := c.GetStatus(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationAttachPidfdAndPid(t *testing.T) {
	c, ctx := live(t)
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-attach"})
	rel := strings.TrimPrefix(e.Path, mountOf(t, c, ctx))
	s := sleeper(t)
	if err := c.AttachProcess(ctx, e.Name, s.Process); err != nil {
		t.Fatalf("Attach by pidfd: %v", err)
	}
	if got := cgroupOf(t, s.Process.Pid); got != rel {
		t.Fatalf("after Attach by pidfd: in %s, want %s", got, rel)
	}
	s2 := sleeper(t)
	if got, err := c.Attach(ctx, e.Name, s2.Process.Pid); err != nil || len(got) != 1 || got[0] != int64(s2.Process.Pid) {
		t.Fatalf("Attach by pid: %v %v", got, err)
	}
	// The fallback where ptrace is forbidden: started, then moved by pidfd.
	s3 := exec.Command("sleep", "60")
	if err := c.StartThenAttach(ctx, e.Name, s3); err != nil {
		t.Fatalf("StartThenAttach: %v", err)
	}
	t.Cleanup(func() { s3.Process.Kill(); s3.Wait() })
	if got := cgroupOf(t, s3.Process.Pid); got != rel {
		t.Fatalf("after StartThenAttach: in %s, want %s", got, rel)
	}
	st, err := c.GetStats(ctx, e.Name)
	if err != nil || !st.Populated || len(st.Pids) != 3 || len(st.Files)+len(st.Values) == 0 {
		t.Fatalf("GetStats: %+v %v", st, err)
	}
}

// mountOf is the cgroup2 mount point the daemon reports.
func mountOf(t *testing.T, c *Client, ctx context.Context) string {
	st, err := c.GetStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st.CgroupMount
}

func TestIntegrationStartInCgroup(t *testing.T) {
	c, ctx := live(t)
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-start"})
	rel := strings.TrimPrefix(e.Path, mountOf(t, c, ctx))
	// cat reads its own cgroup as the first thing it does: it must already be in the new one.
	cmd := exec.Command("cat", "/proc/self/cgroup")
	var out strings.Builder
	cmd.Stdout = &out
	if err := c.StartInCgroup(ctx, e.Name, cmd); err != nil {
		t.Fatalf("StartInCgroup: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cat: %v", err)
	}
	if !strings.Contains(out.String(), "0::"+rel+"\n") {
		t.Fatalf("the process started in %q, want %s", out.String(), rel)
	}
}

// euidOf reads the effective uid of the running process pid from /proc.
func euidOf(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "Uid:" {
			return f[2]
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

// runID starts prog -u with start and returns what it printed (its euid).
func runID(t *testing.T, prog string, start func(*exec.Cmd) error) (string, error) {
	t.Helper()
	cmd := exec.Command(prog, "-u")
	var out strings.Builder
	cmd.Stdout = &out
	if err := start(cmd); err != nil {
		return "", err
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s -u: %v", prog, err)
	}
	return strings.TrimSpace(out.String()), nil
}

// A setuid program is not run without its privileges: a traced execve ignores
// the setuid bit, so StartInCgroup refuses it (before, it ran it as the
// caller); StartThenAttach runs it as it asks. A setuid program of the
// caller's own gains nothing and still starts traced. CGCTL_SETUID_PROG and
// CGCTL_SETUID_SLEEP are root-owned setuid copies of id(1) and sleep(1) (t_go.sh makes them).
func TestIntegrationStartInCgroupSetuid(t *testing.T) {
	c, ctx := live(t)
	prog, sleepProg := os.Getenv("CGCTL_SETUID_PROG"), os.Getenv("CGCTL_SETUID_SLEEP")
	if prog == "" || sleepProg == "" || os.Geteuid() == 0 {
		t.Skip("needs CGCTL_SETUID_PROG, CGCTL_SETUID_SLEEP and a caller other than root")
	}
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-setuid"})
	euid, err := runID(t, prog, func(cmd *exec.Cmd) error { return c.StartInCgroup(ctx, e.Name, cmd) })
	if !errors.Is(err, ErrPrivilegedProgram) {
		t.Fatalf("StartInCgroup of setuid-root %s: euid %q, error %v; want ErrPrivilegedProgram", prog, euid, err)
	}
	// StartThenAttach moves the process once it runs, so it must still run then: a setuid-root
	// sleep (id(1) may be gone before the Attach), its euid read from /proc while it sleeps.
	sleeper := exec.Command(sleepProg, "30")
	if err := c.StartThenAttach(ctx, e.Name, sleeper); err != nil {
		t.Fatalf("StartThenAttach of setuid-root %s: %v", sleepProg, err)
	}
	euid = euidOf(t, sleeper.Process.Pid)
	sleeper.Process.Kill()
	sleeper.Wait()
	if euid != "0" {
		t.Fatalf("StartThenAttach of setuid-root %s: euid %q, want 0", sleepProg, euid)
	}
	// The caller's own setuid copy: nothing to lose, started in the cgroup.
	own := t.TempDir() + "/own-id"
	data, err := os.ReadFile(prog)
	if err == nil {
		err = os.WriteFile(own, data, 0o755)
	}
	if err == nil {
		err = os.Chmod(own, 0o4755)
	}
	if err != nil {
		t.Fatal(err)
	}
	euid, err = runID(t, own, func(cmd *exec.Cmd) error { return c.StartInCgroup(ctx, e.Name, cmd) })
	if err != nil || euid != strconv.Itoa(os.Geteuid()) {
		t.Fatalf("StartInCgroup of the caller's own setuid copy: euid %q, error %v", euid, err)
	}
}

// startWithPid starts a sleep that gets pid, handing the pid on through
// ns_last_pid (this pid namespace's own: the test runs as its root).
func startWithPid(t *testing.T, pid int) *exec.Cmd {
	t.Helper()
	for i := 0; i < 20; i++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if cmd.Process.Pid == pid {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return cmd
		}
		cmd.Process.Kill() // a thread of ours took the pid first: again
		cmd.Wait()
	}
	t.Fatalf("pid %d was not handed on in 20 tries", pid)
	return nil
}

// AttachProcess of a process already waited for refuses (os.ErrProcessDone):
// its pid may name another process by then, which AttachProcess moved before.
// t_go.sh runs this test in a pid namespace of its own (CGCTL_PIDNS=1), where
// it hands the pid on at once.
func TestPidnsAttachProcessWaited(t *testing.T) {
	if os.Getenv("CGCTL_PIDNS") == "" {
		t.Skip("t_go.sh runs it in a pid namespace of its own (CGCTL_PIDNS=1)")
	}
	c, ctx := live(t)
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-waited"})
	old := exec.Command("true")
	if err := old.Run(); err != nil {
		t.Fatal(err)
	}
	now := startWithPid(t, old.Process.Pid)
	before := cgroupOf(t, now.Process.Pid)
	err := c.AttachProcess(ctx, e.Name, old.Process)
	if after := cgroupOf(t, now.Process.Pid); after != before {
		t.Fatalf("AttachProcess of exited pid %d moved the process that has its pid now from %s to %s",
			old.Process.Pid, before, after)
	}
	if !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("AttachProcess of a process already waited for: %v, want os.ErrProcessDone", err)
	}
	// One still running (or not yet waited for) moves.
	if err := c.AttachProcess(ctx, e.Name, now.Process); err != nil {
		t.Fatalf("AttachProcess of a running process: %v", err)
	}
	if got, want := cgroupOf(t, now.Process.Pid), strings.TrimPrefix(e.Path, mountOf(t, c, ctx)); got != want {
		t.Fatalf("pid %d in %s, want %s", now.Process.Pid, got, want)
	}
}

// A context with a long deadline (10 minutes: longer than the daemon waits
// at most, 300000 ms) bounds Freeze, Thaw, Kill and Destroy as well; they
// passed the whole remaining time as timeout_ms and got ErrInvalidValue.
func TestIntegrationLongDeadline(t *testing.T) {
	c, _ := live(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-long-deadline"})
	if err := c.Freeze(ctx, e.Name); err != nil {
		t.Fatalf("Freeze with a 10-minute deadline: %v", err)
	}
	if err := c.Thaw(ctx, e.Name); err != nil {
		t.Fatalf("Thaw with a 10-minute deadline: %v", err)
	}
	if err := c.Kill(ctx, e.Name, 0); err != nil {
		t.Fatalf("Kill with a 10-minute deadline: %v", err)
	}
	if r, err := c.Destroy(ctx, e.Name, DestroyOptions{Kill: true}); err != nil || !r.Existed {
		t.Fatalf("Destroy with a 10-minute deadline: %+v, %v", r, err)
	}
}

func TestIntegrationOpenCgroupResourcesFreezeKill(t *testing.T) {
	c, ctx := live(t)
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-proc"})
	f, err := c.OpenCgroup(ctx, e.Name)
	if err != nil {
		t.Fatalf("OpenCgroup: %v", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil || !contains(names, "cgroup.procs") || f.Name() != e.Path {
		t.Fatalf("OpenCgroup's directory %s: %v %v", f.Name(), names, err)
	}
	if err := c.SetResources(ctx, e.Name, &Resources{Unified: map[string]string{"cgroup.max.depth": "2"}}); err != nil {
		t.Fatalf("SetResources: %v", err)
	}
	if b, _ := os.ReadFile(e.Path + "/cgroup.max.depth"); strings.TrimSpace(string(b)) != "2" {
		t.Fatalf("cgroup.max.depth is %q", b)
	}
	s := exec.Command("sleep", "60")
	if err := c.StartInCgroup(ctx, e.Name, s); err != nil {
		t.Fatal(err)
	}
	if err := c.Freeze(ctx, e.Name); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if st, err := c.GetStats(ctx, e.Name); err != nil || !st.Frozen {
		t.Fatalf("after Freeze: %+v %v", st, err)
	}
	if err := c.Thaw(ctx, e.Name); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if err := c.Kill(ctx, e.Name, 0); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	err = s.Wait()
	if ws, ok := s.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("after Kill: %v", err)
	}
}

// contains is true when v holds s.
func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// expectEvents waits for events of types want, in order, about name.
func expectEvents(t *testing.T, w *Watcher, name string, want ...string) {
	t.Helper()
	var seen []string
	timeout := time.After(5 * time.Second)
	for len(want) > 0 {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("the watch ended (%v) waiting for %v, saw %v", w.Err(), want, seen)
			}
			seen = append(seen, ev.Type+":"+ev.Name)
			if ev.Name == name && ev.Type == want[0] {
				want = want[1:]
			}
		case <-timeout:
			t.Fatalf("no %v events; saw %v", want, seen)
		}
	}
}

func TestIntegrationWatch(t *testing.T) {
	c, ctx := live(t)
	w, err := c.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Close()
	e := mustCreate(t, c, ctx, CreateOptions{Name: "go-watch"})
	cmd := exec.Command("sleep", "0.2")
	if err := c.StartInCgroup(ctx, e.Name, cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	expectEvents(t, w, "go-watch", "created", "populated", "empty")
	if _, err := c.Destroy(ctx, e.Name, DestroyOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, w, "go-watch", "removed")
	// Cancelling ends the stream without an error.
	w.Close()
	for range w.Events() {
	}
	if w.Err() != nil {
		t.Fatalf("after Close: %v", w.Err())
	}
}

func TestIntegrationLease(t *testing.T) {
	_, ctx := live(t)
	l, err := Dial(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Create(ctx, CreateOptions{Name: "go-lease", Lease: true})
	if err != nil || !e.Lease {
		t.Fatalf("Create with a lease: %+v %v", e, err)
	}
	l.Close()
	for {
		if _, err := os.Stat(e.Path); os.IsNotExist(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s outlived its lease", e.Path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestIntegrationStopEndsWatch runs alone, last: it stops the daemon (CGCTL_STOP_PID).
// The watch ends cleanly: a last "stopping" event, then the channel closes, Err nil.
func TestIntegrationStopEndsWatch(t *testing.T) {
	c, ctx := live(t)
	pid := os.Getenv("CGCTL_STOP_PID")
	if pid == "" {
		t.Skip("CGCTL_STOP_PID not set")
	}
	w, err := c.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(n, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var last Event
	for ev := range w.Events() {
		last = ev
	}
	if w.Err() != nil {
		t.Fatalf("a watch of a stopping daemon ended with %v", w.Err())
	}
	if last.Type != "stopping" || last.Name != "" {
		t.Fatalf("the last event of a stopping daemon's watch is %+v, want a \"stopping\" one", last)
	}
}
