// SPDX-License-Identifier: MIT

package cgctl

import "encoding/json"

// The types below are the Varlink types of io.cgctl.Manager, field for field
// (drift_test.go holds them to protocol/io.cgctl.Manager.varlink). Members a
// newer daemon adds are ignored; optional members are pointers or nil.

// Entry is a managed cgroup.
type Entry struct {
	Name       string            `json:"name"`
	Path       string            `json:"path"`  // absolute path of the directory
	State      string            `json:"state"` // "creating", "active", "destroying"
	Generated  bool              `json:"generated"`
	Populated  *bool             `json:"populated"` // nil: unknown
	Frozen     *bool             `json:"frozen"`
	Created    int64             `json:"created"` // microseconds since the epoch
	Delegate   bool              `json:"delegate"`
	AutoRemove bool              `json:"auto_remove"`
	Lease      bool              `json:"lease"`
	Owner      *int64            `json:"owner"` // uid of the creating client; nil: the daemon did not say
	Labels     map[string]string `json:"labels"`
}

// Status is the daemon's state, delegation and ledger figures.
type Status struct {
	Version     string       `json:"version"`
	Delegated   bool         `json:"delegated"`
	Reason      *string      `json:"reason"`
	CgroupMount string       `json:"cgroup_mount"`
	ManagedRoot string       `json:"managed_root"`
	Leaf        *string      `json:"leaf"`
	Controllers []string     `json:"controllers"`
	Pid         int64        `json:"pid"`
	UID         int64        `json:"uid"`
	Socket      string       `json:"socket"`
	Ledger      LedgerStatus `json:"ledger"`
	Unfollowed  *int64       `json:"unfollowed"` // entries whose events could not be watched; nil from a daemon before it
	Replies     *ReplyBudget `json:"replies"`    // nil from a daemon before it
}

// ReplyBudget is what the caller's uid holds of its reply budget.
type ReplyBudget struct {
	UnreadBytes int64 `json:"unread_bytes"`
	BudgetBytes int64 `json:"budget_bytes"`
	TimesOver   int64 `json:"times_over"`
}

// LedgerStatus is the ledger's bookkeeping.
type LedgerStatus struct {
	Path           string          `json:"path"`
	FormatVersion  int64           `json:"format_version"`
	Entries        int64           `json:"entries"`
	JournalBytes   int64           `json:"journal_bytes"`
	JournalRecords int64           `json:"journal_records"`
	Compactions    int64           `json:"compactions"`
	LastCompaction *int64          `json:"last_compaction"`
	DroppedRecords int64           `json:"dropped_records"`
	Bytes          int64           `json:"bytes"`
	MaxBytes       int64           `json:"max_bytes"`
	Reconcile      ReconcileReport `json:"reconcile"`
	Recovery       LedgerRecovery  `json:"recovery"`
}

// LedgerRecovery is how the ledger came up: Mode "normal", "fallback" or "recovery" (see cgctld(8)).
type LedgerRecovery struct {
	Mode   string         `json:"mode"`
	Damage []LedgerDamage `json:"damage"`
}

// LedgerDamage is one damaged ledger file: where, under which name it was kept, what was lost.
type LedgerDamage struct {
	File   string  `json:"file"`
	Offset int64   `json:"offset"`
	Kept   *string `json:"kept"`
	Lost   string  `json:"lost"`
}

// ReconcileReport is what start-up reconciliation found.
type ReconcileReport struct {
	Dropped    []string `json:"dropped"`
	RolledBack []string `json:"rolled_back"`
	Resumed    []string `json:"resumed"`
	Unknown    []string `json:"unknown"`
}

// Stats is GetStats' answer; Files maps each statistics file to its parsed content.
type Stats struct {
	Populated bool                       `json:"populated"`
	Frozen    bool                       `json:"frozen"`
	Pids      []int64                    `json:"pids"`
	Values    map[string]string          `json:"values"` // single-value files: a decimal number or "max"
	Files     map[string]json.RawMessage `json:"files"`
}

// Event is one event of a watch: Type is "created", "removed", "populated",
// "empty", "frozen", "thawed", "oom", "oom_kill", "limits", "pressure" (ignore others).
type Event struct {
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Timestamp int64           `json:"timestamp"` // microseconds since the epoch
	Details   json.RawMessage `json:"details"`
}

// PressureTrigger is a PSI trigger for WatchPressure, in the kernel's terms:
// fire when Name's tasks stalled on Resource ("memory", "cpu", "io") for
// StallUs within any WindowUs ("some" or "full" Kind).
type PressureTrigger struct {
	Name     string `json:"name"`
	Resource string `json:"resource"`
	Kind     string `json:"kind"`
	StallUs  int64  `json:"stall_us"`
	WindowUs int64  `json:"window_us"`
}

// SnapshotStatus is the daemon's figures in a Snapshot.
type SnapshotStatus struct {
	Delegated        bool     `json:"delegated"`
	Controllers      []string `json:"controllers"`
	Entries          int64    `json:"entries"`
	Connections      int64    `json:"connections"`
	Watchers         int64    `json:"watchers"`
	PressureTriggers int64    `json:"pressure_triggers"`
	JournalBytes     int64    `json:"journal_bytes"`
	JournalRecords   int64    `json:"journal_records"`
	Compactions      int64    `json:"compactions"`
}

// CgroupSnapshot is one managed cgroup in a Snapshot; Files as in Stats.
type CgroupSnapshot struct {
	Name        string                     `json:"name"`
	Time        *int64                     `json:"time"` // when its files were read (CLOCK_MONOTONIC µs); nil from an older daemon
	Populated   *bool                      `json:"populated"`
	Frozen      *bool                      `json:"frozen"`
	Processes   int64                      `json:"processes"`
	Controllers []string                   `json:"controllers"`
	Values      map[string]string          `json:"values"`
	Files       map[string]json.RawMessage `json:"files"`
}

// Snapshot is what `cgctl top` shows, in one round trip.
type Snapshot struct {
	Status    SnapshotStatus   `json:"status"`
	Time      int64            `json:"time"` // CLOCK_MONOTONIC microseconds
	Truncated bool             `json:"truncated"`
	Cgroups   []CgroupSnapshot `json:"cgroups"`
}

// DestroyResult is what Destroy did.
type DestroyResult struct {
	Name    string   `json:"name"`
	Existed bool     `json:"existed"` // false: nothing was there, nothing touched
	Removed []string `json:"removed"`
}

// Wire forms of the Resources type.
type wireMemory struct {
	Max     *string `json:"max,omitempty"`
	High    *string `json:"high,omitempty"`
	Low     *string `json:"low,omitempty"`
	Min     *string `json:"min,omitempty"`
	SwapMax *string `json:"swap_max,omitempty"`
}

type wireCPU struct {
	Quota  *string `json:"quota,omitempty"`
	Period *int64  `json:"period,omitempty"`
	Weight *int64  `json:"weight,omitempty"`
	Shares *int64  `json:"shares,omitempty"`
	Idle   *bool   `json:"idle,omitempty"`
	Cpus   *string `json:"cpus,omitempty"`
	Mems   *string `json:"mems,omitempty"`
}

type wireIoDeviceLimit struct {
	Major int64   `json:"major"`
	Minor int64   `json:"minor"`
	Rbps  *string `json:"rbps,omitempty"`
	Wbps  *string `json:"wbps,omitempty"`
	Riops *string `json:"riops,omitempty"`
	Wiops *string `json:"wiops,omitempty"`
}

type wireIo struct {
	Weight *int64              `json:"weight,omitempty"`
	Max    []wireIoDeviceLimit `json:"max,omitempty"`
}

type wireHugetlbLimit struct {
	Pagesize string `json:"pagesize"`
	Max      string `json:"max"`
}

type wireResources struct {
	Memory  *wireMemory        `json:"memory,omitempty"`
	PidsMax *string            `json:"pids_max,omitempty"`
	CPU     *wireCPU           `json:"cpu,omitempty"`
	Io      *wireIo            `json:"io,omitempty"`
	Hugetlb []wireHugetlbLimit `json:"hugetlb,omitempty"`
	Unified map[string]string  `json:"unified,omitempty"`
}

// Parameters and replies of each method.
type (
	getStatusParams struct{}
	getStatusReply  struct {
		Status Status `json:"status"`
	}
	createParams struct {
		Name       *string           `json:"name,omitempty"`
		Generate   *bool             `json:"generate,omitempty"`
		Prefix     *string           `json:"prefix,omitempty"`
		Resources  *wireResources    `json:"resources,omitempty"`
		Delegate   *bool             `json:"delegate,omitempty"`
		AutoRemove *bool             `json:"auto_remove,omitempty"`
		Lease      *bool             `json:"lease,omitempty"`
		Labels     map[string]string `json:"labels,omitempty"`
	}
	createReply struct {
		Entry Entry `json:"entry"`
	}
	destroyParams struct {
		Name      string `json:"name"`
		Recursive *bool  `json:"recursive,omitempty"`
		Kill      *bool  `json:"kill,omitempty"`
		TimeoutMs *int64 `json:"timeout_ms,omitempty"`
	}
	destroyReply = DestroyResult
	listParams   struct {
		Name *string `json:"name,omitempty"`
	}
	listReply struct {
		Entries []Entry `json:"entries"`
	}
	attachParams struct {
		Name   string  `json:"name"`
		Pids   []int64 `json:"pids,omitempty"`
		Pidfds *int64  `json:"pidfds,omitempty"`
	}
	attachReply struct {
		Attached []int64 `json:"attached"`
	}
	setResourcesParams struct {
		Name      string        `json:"name"`
		Resources wireResources `json:"resources"`
	}
	setResourcesReply struct{}
	getStatsParams    struct {
		Name string `json:"name"`
	}
	getStatsReply struct {
		Stats Stats `json:"stats"`
	}
	freezeParams struct {
		Name      string `json:"name"`
		TimeoutMs *int64 `json:"timeout_ms,omitempty"`
	}
	freezeReply struct{}
	thawParams  = freezeParams
	thawReply   struct{}
	killParams  struct {
		Name      string `json:"name"`
		Signal    *int64 `json:"signal,omitempty"`
		TimeoutMs *int64 `json:"timeout_ms,omitempty"`
	}
	killReply   struct{}
	watchParams struct {
		Names    []string          `json:"names,omitempty"`
		Pressure []PressureTrigger `json:"pressure,omitempty"`
	}
	snapshotParams struct {
		Names []string `json:"names,omitempty"`
	}
	snapshotReply = Snapshot
	watchReply    struct {
		Event Event `json:"event"`
	}
	openCgroupParams struct {
		Name string `json:"name"`
	}
	openCgroupReply struct {
		Name string `json:"name"`
		Path string `json:"path"`
		Fd   int64  `json:"fd"`
	}
)
