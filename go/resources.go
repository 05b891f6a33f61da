// SPDX-License-Identifier: MIT

package cgctl

import (
	"fmt"
	"strconv"
)

// Resources has the shape and JSON names of the OCI runtime spec's
// LinuxResources (config.json linux.resources), so a runtime can hand its
// spec's resources over as they are. The client translates them to cgroup v2
// the way runc does (and as cgctl-oci-hook does); members with no cgroup v2
// meaning (devices, network, rdma, kernel memory, swappiness, realtime) are
// not sent.
type Resources struct {
	Devices        []LinuxDeviceCgroup  `json:"devices,omitempty"`
	Memory         *LinuxMemory         `json:"memory,omitempty"`
	CPU            *LinuxCPU            `json:"cpu,omitempty"`
	Pids           *LinuxPids           `json:"pids,omitempty"`
	BlockIO        *LinuxBlockIO        `json:"blockIO,omitempty"`
	HugepageLimits []LinuxHugepageLimit `json:"hugepageLimits,omitempty"`
	Unified        map[string]string    `json:"unified,omitempty"`
}

// LinuxDeviceCgroup is an OCI device rule (not applied: cgroup v2 devices are eBPF).
type LinuxDeviceCgroup struct {
	Allow  bool   `json:"allow"`
	Type   string `json:"type,omitempty"`
	Major  *int64 `json:"major,omitempty"`
	Minor  *int64 `json:"minor,omitempty"`
	Access string `json:"access,omitempty"`
}

// LinuxMemory: limit → memory.max, reservation → memory.low, swap (memory+swap) → memory.swap.max.
type LinuxMemory struct {
	Limit             *int64  `json:"limit,omitempty"`
	Reservation       *int64  `json:"reservation,omitempty"`
	Swap              *int64  `json:"swap,omitempty"`
	Kernel            *int64  `json:"kernel,omitempty"`
	KernelTCP         *int64  `json:"kernelTCP,omitempty"`
	Swappiness        *uint64 `json:"swappiness,omitempty"`
	DisableOOMKiller  *bool   `json:"disableOOMKiller,omitempty"`
	UseHierarchy      *bool   `json:"useHierarchy,omitempty"`
	CheckBeforeUpdate *bool   `json:"checkBeforeUpdate,omitempty"`
}

// LinuxCPU: shares → cpu.weight (as runc converts), quota/period → cpu.max, burst → cpu.max.burst.
type LinuxCPU struct {
	Shares          *uint64 `json:"shares,omitempty"`
	Quota           *int64  `json:"quota,omitempty"`
	Burst           *uint64 `json:"burst,omitempty"`
	Period          *uint64 `json:"period,omitempty"`
	RealtimeRuntime *int64  `json:"realtimeRuntime,omitempty"`
	RealtimePeriod  *uint64 `json:"realtimePeriod,omitempty"`
	Cpus            string  `json:"cpus,omitempty"`
	Mems            string  `json:"mems,omitempty"`
	Idle            *int64  `json:"idle,omitempty"`
}

// LinuxPids: limit → pids.max (0 or less: no limit).
type LinuxPids struct {
	Limit int64 `json:"limit"`
}

// LinuxBlockIO: weight → io.weight (as runc converts), throttles → io.max.
type LinuxBlockIO struct {
	Weight                  *uint16               `json:"weight,omitempty"`
	LeafWeight              *uint16               `json:"leafWeight,omitempty"`
	WeightDevice            []LinuxWeightDevice   `json:"weightDevice,omitempty"`
	ThrottleReadBpsDevice   []LinuxThrottleDevice `json:"throttleReadBpsDevice,omitempty"`
	ThrottleWriteBpsDevice  []LinuxThrottleDevice `json:"throttleWriteBpsDevice,omitempty"`
	ThrottleReadIOPSDevice  []LinuxThrottleDevice `json:"throttleReadIOPSDevice,omitempty"`
	ThrottleWriteIOPSDevice []LinuxThrottleDevice `json:"throttleWriteIOPSDevice,omitempty"`
}

// LinuxWeightDevice is a per-device weight (not applied on cgroup v2).
type LinuxWeightDevice struct {
	Major      int64   `json:"major"`
	Minor      int64   `json:"minor"`
	Weight     *uint16 `json:"weight,omitempty"`
	LeafWeight *uint16 `json:"leafWeight,omitempty"`
}

// LinuxThrottleDevice is one device's rate; 0 removes the limit.
type LinuxThrottleDevice struct {
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
	Rate  uint64 `json:"rate"`
}

// LinuxHugepageLimit: pageSize "2MB", limit in bytes → hugetlb.<pageSize>.max.
type LinuxHugepageLimit struct {
	Pagesize string `json:"pageSize"`
	Limit    uint64 `json:"limit"`
}

// limit is OCI's -1 as "max", anything else as its decimal.
func limit(v int64) *string {
	s := "max"
	if v >= 0 {
		s = strconv.FormatInt(v, 10)
	}
	return &s
}

// toWire translates r into the daemon's Resources; nil r is nil.
func (r *Resources) toWire() (*wireResources, error) {
	if r == nil {
		return nil, nil
	}
	w := &wireResources{}
	if err := r.Memory.toWire(w); err != nil {
		return nil, err
	}
	r.CPU.toWire(w)
	if r.Pids != nil {
		if r.Pids.Limit > 0 {
			w.PidsMax = limit(r.Pids.Limit)
		} else {
			w.PidsMax = limit(-1)
		}
	}
	r.BlockIO.toWire(w)
	for _, h := range r.HugepageLimits {
		w.Hugetlb = append(w.Hugetlb, wireHugetlbLimit{Pagesize: h.Pagesize, Max: strconv.FormatUint(h.Limit, 10)})
	}
	for k, v := range r.Unified {
		if w.Unified == nil {
			w.Unified = map[string]string{}
		}
		w.Unified[k] = v
	}
	return w, nil
}

// toWire translates memory as runc does (swap is memory+swap in OCI).
func (m *LinuxMemory) toWire(w *wireResources) error {
	if m == nil {
		return nil
	}
	var lim, swap int64
	wm := &wireMemory{}
	if m.Limit != nil && *m.Limit != 0 {
		lim = *m.Limit
		wm.Max = limit(lim)
	}
	if m.Reservation != nil && *m.Reservation != 0 {
		wm.Low = limit(*m.Reservation)
	}
	if m.Swap != nil {
		swap = *m.Swap
	}
	switch {
	case lim == -1 && swap == 0, swap < 0:
		wm.SwapMax = limit(-1)
	case swap > 0:
		if lim <= 0 {
			return fmt.Errorf("cgctl: memory.swap needs a memory limit: %w", ErrInvalidValue)
		}
		if swap < lim {
			return fmt.Errorf("cgctl: memory.swap (memory+swap, %d) is below the memory limit (%d): %w",
				swap, lim, ErrInvalidValue)
		}
		wm.SwapMax = limit(swap - lim)
	}
	if *wm != (wireMemory{}) {
		w.Memory = wm
	}
	return nil
}

// toWire translates the CPU limits.
func (c *LinuxCPU) toWire(w *wireResources) {
	if c == nil {
		return
	}
	wc := &wireCPU{}
	if c.Shares != nil && *c.Shares > 0 {
		s := int64(*c.Shares)
		if *c.Shares > 262144 {
			s = 262144
		} else if s < 2 {
			s = 2
		}
		wc.Shares = &s
	}
	if c.Quota != nil && *c.Quota != 0 {
		wc.Quota = limit(*c.Quota)
	}
	if c.Period != nil && *c.Period > 0 {
		p := int64(*c.Period)
		wc.Period = &p
	}
	if c.Idle != nil {
		idle := *c.Idle != 0
		wc.Idle = &idle
	}
	if c.Cpus != "" {
		wc.Cpus = &c.Cpus
	}
	if c.Mems != "" {
		wc.Mems = &c.Mems
	}
	if *wc != (wireCPU{}) {
		w.CPU = wc
	}
	if c.Burst != nil && *c.Burst > 0 {
		w.Unified = map[string]string{"cpu.max.burst": strconv.FormatUint(*c.Burst, 10)}
	}
}

// toWire translates the block I/O weight and throttles.
func (b *LinuxBlockIO) toWire(w *wireResources) {
	if b == nil {
		return
	}
	io := &wireIo{}
	if b.Weight != nil && *b.Weight > 0 {
		v := 1 + (int64(*b.Weight)-10)*9999/990
		if v < 1 {
			v = 1
		} else if v > 10000 {
			v = 10000
		}
		io.Weight = &v
	}
	index := map[[2]int64]int{}
	add := func(devs []LinuxThrottleDevice, set func(*wireIoDeviceLimit, *string)) {
		for _, d := range devs {
			k := [2]int64{d.Major, d.Minor}
			i, ok := index[k]
			if !ok {
				i = len(io.Max)
				index[k] = i
				io.Max = append(io.Max, wireIoDeviceLimit{Major: d.Major, Minor: d.Minor})
			}
			rate := int64(-1) // cgroup v1: rate 0 removes the limit
			if d.Rate > 0 && d.Rate <= 1<<63-1 {
				rate = int64(d.Rate)
			}
			set(&io.Max[i], limit(rate))
		}
	}
	add(b.ThrottleReadBpsDevice, func(l *wireIoDeviceLimit, s *string) { l.Rbps = s })
	add(b.ThrottleWriteBpsDevice, func(l *wireIoDeviceLimit, s *string) { l.Wbps = s })
	add(b.ThrottleReadIOPSDevice, func(l *wireIoDeviceLimit, s *string) { l.Riops = s })
	add(b.ThrottleWriteIOPSDevice, func(l *wireIoDeviceLimit, s *string) { l.Wiops = s })
	if io.Weight != nil || len(io.Max) > 0 {
		w.Io = io
	}
}
