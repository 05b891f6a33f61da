// SPDX-License-Identifier: MIT

// go-runtime does in Go what examples/runtime.c does with libcgctl: what a
// container runtime does with its cgroup through cgctld.
//
// Usage: go-runtime [--socket PATH] [NAME [CMD ARGS...]]
//
//  1. Create NAME (default "example-<pid>") with a pids and a memory limit,
//     given in the OCI linux.resources shape; without the controllers
//     (ErrControllerUnavailable) it goes on without limits, without
//     delegation (ErrNoDelegation) without a cgroup, as runc does on
//     ErrRootless.
//  2. StartInCgroup: the "init" (CMD, default: a shell printing its cgroup and
//     waiting) is in the cgroup before it runs a single instruction. With
//     Go >= 1.20 a runtime would use OpenCgroup and SysProcAttr.UseCgroupFD
//     (clone3 CLONE_INTO_CGROUP) instead; this builds with Go 1.19.
//  3. GetStats, Freeze, Thaw.
//  4. Destroy with Kill and Recursive: every process goes, then the cgroup.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"cgctl.io/cgctl"
)

// report prints a failed call, with the daemon's error name when there is one.
func report(what string, err error) error {
	fmt.Fprintf(os.Stderr, "go-runtime: %s: %v\n", what, err)
	return err
}

// createCgroup creates name with limits; without the controllers, without them. true with a cgroup.
func createCgroup(ctx context.Context, c *cgctl.Client, name string) (bool, error) {
	pids, mem := int64(64), int64(256<<20)
	o := cgctl.CreateOptions{Name: name, Labels: map[string]string{"example": "go-runtime"},
		Resources: &cgctl.Resources{Pids: &cgctl.LinuxPids{Limit: pids}, Memory: &cgctl.LinuxMemory{Limit: &mem}}}
	_, err := c.Create(ctx, o)
	var e *cgctl.Error
	if errors.Is(err, cgctl.ErrControllerUnavailable) && errors.As(err, &e) {
		fmt.Printf("limits skipped: %s\n", e.Message)
		o.Resources = nil
		_, err = c.Create(ctx, o)
	}
	if errors.Is(err, cgctl.ErrNoDelegation) && errors.As(err, &e) {
		fmt.Printf("no delegation: running without a cgroup (%s)\n", e.Message)
		return false, nil
	}
	if err != nil {
		return false, report("create", err)
	}
	fmt.Printf("created %s\n", name)
	return true, nil
}

// startInit starts the init (in the cgroup when there is one) and waits until it is ready.
func startInit(ctx context.Context, c *cgctl.Client, name string, haveCg bool, argv []string) (*exec.Cmd, error) {
	custom := len(argv) > 0
	if !custom {
		argv = []string{"/bin/sh", "-c", `sed -n "s/^0::/init cgroup /p" /proc/self/cgroup; echo ready; exec sleep 600`}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if haveCg {
		err = c.StartInCgroup(ctx, name, cmd)
		fmt.Println("method ptrace-stop+attach")
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return nil, err
	}
	// Like runc's exec fifo: go on once the init says it is ready.
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "ready" {
			break
		}
		fmt.Println(sc.Text())
	}
	return cmd, nil
}

// inspect shows stats, then freezes and thaws the init's cgroup.
func inspect(ctx context.Context, c *cgctl.Client, name string) error {
	st, err := c.GetStats(ctx, name)
	if err != nil {
		return report("get_stats", err)
	}
	fmt.Printf("populated %v, %d process(es)\n", st.Populated, len(st.Pids))
	if err := c.Freeze(ctx, name); err != nil {
		return report("freeze", err)
	}
	if st, err = c.GetStats(ctx, name); err == nil {
		fmt.Printf("frozen %v\n", st.Frozen)
	}
	if err := c.Thaw(ctx, name); err != nil {
		return report("thaw", err)
	}
	if st, err = c.GetStats(ctx, name); err == nil {
		fmt.Printf("thawed, frozen %v\n", st.Frozen)
	}
	return nil
}

func main() {
	args := os.Args[1:]
	socket := ""
	if len(args) > 1 && args[0] == "--socket" {
		socket, args = args[1], args[2:]
	}
	name := fmt.Sprintf("example-%d", os.Getpid())
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cgctl.Dial(ctx, socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-runtime: cannot reach cgctld: %v\n", err)
		os.Exit(1)
	}
	defer c.Close()
	haveCg, err := createCgroup(ctx, c, name)
	if err != nil {
		os.Exit(1)
	}
	failed := false
	cmd, err := startInit(ctx, c, name, haveCg, args)
	if err != nil {
		failed = report("start", err) != nil
	} else if haveCg {
		failed = inspect(ctx, c, name) != nil
	}
	if haveCg {
		r, err := c.Destroy(ctx, name, cgctl.DestroyOptions{Kill: true, Recursive: true})
		if err != nil {
			failed = report("destroy", err) != nil
		} else {
			fmt.Printf("destroyed %s (existed %v)\n", name, r.Existed)
		}
	} else if cmd != nil {
		cmd.Process.Kill() // no cgroup to kill it with
	}
	if cmd != nil {
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Printf("init killed by signal %d\n", int(ws.Signal()))
		} else {
			fmt.Printf("init exited %s\n", strings.TrimPrefix(fmt.Sprint(err), "<nil>"))
		}
	}
	if failed {
		os.Exit(1)
	}
}
