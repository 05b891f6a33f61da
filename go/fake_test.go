// SPDX-License-Identifier: MIT

package cgctl

// Against an in-process fake daemon: the error mapping of every name (those a
// real daemon is hard to make send, SystemError, and unknown ones), and what
// a deadline or a cancel does to a call the daemon never answers.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeDaemon answers each call with reply (or never, when reply is "").
func fakeDaemon(t *testing.T, reply string) string {
	path := filepath.Join(t.TempDir(), "sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					if _, err := r.ReadBytes(0); err != nil {
						return
					}
					if reply != "" {
						conn.Write(append([]byte(reply), 0))
					}
				}
			}()
		}
	}()
	return path
}

func TestFakeErrorNames(t *testing.T) {
	vi := parseVarlink(t)
	names := []string{}
	for n := range vi.errors {
		names = append(names, Interface+"."+n)
	}
	names = append(names, "org.varlink.service.MethodNotFound", "org.varlink.service.InvalidParameter")
	for _, name := range names {
		path := fakeDaemon(t, `{"error":"`+name+`","parameters":{"message":"m","errno":5}}`)
		c, err := Dial(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetStatus(context.Background())
		var e *Error
		if !errors.As(err, &e) || e.Name != name || e.Message != "m" {
			t.Errorf("%s: got %v", name, err)
		} else if !errors.Is(err, errorsByName[name]) || errors.Is(err, ErrUnknown) {
			t.Errorf("%s: errors.Is does not match its sentinel only", name)
		}
		if errors.Is(err, ErrNotFound) != (name == ErrNotFound.Name) {
			t.Errorf("%s: errors.Is(err, ErrNotFound) wrong", name)
		}
		c.Close()
	}
	// A name from a newer daemon is a generic error, and the connection stays usable.
	c, err := Dial(context.Background(), fakeDaemon(t, `{"error":"io.cgctl.Manager.Replaced2","parameters":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if _, err := c.List(context.Background(), ""); !errors.Is(err, ErrUnknown) || errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown error name: %v", err)
		}
	}
	var n int64
	_, err = c.List(context.Background(), "")
	var e *Error
	if !errors.As(err, &e) || e.Param("errno", &n) {
		t.Fatalf("Param of a missing key: %v", err)
	}
}

func TestFakeDeadlineAndCancel(t *testing.T) {
	path := fakeDaemon(t, "")
	c, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := c.GetStatus(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call never answered: %v", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("the deadline was not kept: %v", d)
	}
	// The reply may still come: the connection is broken for good.
	if _, err := c.GetStatus(context.Background()); !errors.Is(err, ErrBroken) {
		t.Fatalf("after an abandoned call: %v", err)
	}
	c2, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, err := c2.List(ctx2, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled call: %v", err)
	}
}

func TestFakeResourcesTranslation(t *testing.T) {
	lim, resv, swap, quota := int64(100), int64(50), int64(300), int64(-1)
	shares, period, w := uint64(1), uint64(50000), uint16(1000)
	r := &Resources{Memory: &LinuxMemory{Limit: &lim, Reservation: &resv, Swap: &swap},
		CPU:  &LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0-1"},
		Pids: &LinuxPids{Limit: 0}, BlockIO: &LinuxBlockIO{Weight: &w,
			ThrottleReadBpsDevice:  []LinuxThrottleDevice{{Major: 8, Minor: 0, Rate: 1000}},
			ThrottleWriteBpsDevice: []LinuxThrottleDevice{{Major: 8, Minor: 0, Rate: 0}}},
		HugepageLimits: []LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
	wr, err := r.toWire()
	if err != nil {
		t.Fatal(err)
	}
	if *wr.Memory.Max != "100" || *wr.Memory.Low != "50" || *wr.Memory.SwapMax != "200" ||
		*wr.CPU.Shares != 2 || *wr.CPU.Quota != "max" || *wr.CPU.Period != 50000 || *wr.CPU.Cpus != "0-1" ||
		*wr.PidsMax != "max" || *wr.Io.Weight != 10000 || len(wr.Io.Max) != 1 || *wr.Io.Max[0].Rbps != "1000" ||
		*wr.Io.Max[0].Wbps != "max" || wr.Hugetlb[0].Max != "4194304" || wr.Hugetlb[0].Pagesize != "2MB" {
		t.Fatalf("translated: %+v", wr)
	}
	bad := &Resources{Memory: &LinuxMemory{Limit: &lim, Swap: &resv}}
	if _, err := bad.toWire(); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("swap below the limit: %v", err)
	}
}

// README's way from the runtime-spec Go types: their JSON (here a runc
// spec's linux.resources, as json.Marshal of specs.LinuxResources writes it)
// unmarshals into Resources field for field.
func TestFakeResourcesFromSpecJSON(t *testing.T) {
	spec := `{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}],
		"memory":{"limit":536870912,"reservation":268435456,"swap":1073741824,"disableOOMKiller":false},
		"cpu":{"shares":1024,"quota":50000,"burst":1000,"period":100000,"cpus":"0-1","mems":"0","idle":0},
		"pids":{"limit":100},
		"blockIO":{"weight":500,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}]},
		"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
		"unified":{"memory.oom.group":"1"}}`
	var r Resources
	if err := json.Unmarshal([]byte(spec), &r); err != nil {
		t.Fatal(err)
	}
	wr, err := r.toWire()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(wr)
	want := `{"memory":{"max":"536870912","low":"268435456","swap_max":"536870912"},"pids_max":"100",` +
		`"cpu":{"quota":"50000","period":100000,"shares":1024,"idle":false,"cpus":"0-1","mems":"0"},` +
		`"io":{"weight":4950,"max":[{"major":8,"minor":0,"rbps":"1048576"}]},` +
		`"hugetlb":[{"pagesize":"2MB","max":"4194304"}],` +
		`"unified":{"cpu.max.burst":"1000","memory.oom.group":"1"}}`
	if string(got) != want {
		t.Fatalf("from the spec's JSON:\n got %s\nwant %s", got, want)
	}
}

// StartInCgroup's check before it starts anything (no daemon needed): a
// setgid file of a group the caller is not in grants privileges, but a caller
// with CAP_SYS_PTRACE (root, as make check runs this) keeps them for its
// tracee, so StartInCgroup does not refuse it; a plain file grants nothing.
func TestFakeStartPrivilegedProgram(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if grantsPrivileges(plain) || gainsPrivileges(plain) {
		t.Fatal("a plain file grants privileges?")
	}
	if os.Geteuid() != 0 || !hasCapSysPtrace() {
		t.Skip("the setgid case needs root with CAP_SYS_PTRACE (make check runs it so)")
	}
	sg := filepath.Join(dir, "setgid")
	err := os.WriteFile(sg, []byte("#!/bin/sh\n"), 0o755)
	if err == nil {
		err = os.Chown(sg, -1, 54321)
	}
	if err == nil {
		err = os.Chmod(sg, 0o2755|os.ModeSetgid)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !grantsPrivileges(sg) {
		t.Fatal("a setgid file of a group not ours grants nothing?")
	}
	if gainsPrivileges(sg) {
		t.Fatal("refused for a caller with CAP_SYS_PTRACE, whose tracee keeps its setgid")
	}
}

// A context cancelled right after its call returned (defer cancel() per call)
// does not reach the next call: the connection stays usable.
func TestFakeCancelAfterReturn(t *testing.T) {
	c, err := Dial(context.Background(), fakeDaemon(t, `{"parameters":{"entries":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3000; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := c.List(ctx, "")
		cancel()
		if err != nil {
			t.Fatalf("call %d, after the previous call's context was cancelled: %v", i, err)
		}
	}
}
