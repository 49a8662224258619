package spotcheck

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/voucherwatch/voucherwatch"
)

// MaxSeed bounds the seeds this package makes: 2⁵³−1, so that a seed survives a JSON number
// in any client (JavaScript's numbers are doubles) and an auditor can paste it back as is.
// Draw accepts any uint64.
const MaxSeed = 1<<53 - 1

// RandomSeed is a fresh seed for a draw on demand.
func RandomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) & MaxSeed
}

// Request asks for one draw.
type Request struct {
	ID      string // empty: NewID(At)
	Seed    uint64
	Params  voucherwatch.SpotCheckParams
	Trigger string // voucherwatch.SpotCheckScheduled or SpotCheckOnDemand
	By      string // the user id, or "engine" for the schedule
	At      time.Time
	// From and To bound the claims' submission dates; zero times do not bound.
	From, To time.Time
	// SkipEmpty records nothing when there is nobody to draw from, and answers
	// ErrNothingToDraw: a scheduled slot before the first claim (a fresh installation) is
	// not worth a record. A draw on demand records its empty list, which is the answer.
	SkipEmpty bool
}

// ErrNothingToDraw is Conduct's answer to a SkipEmpty request without claimants.
var ErrNothingToDraw = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no claimants to draw from")

// NewID is the id of a draw on demand: its time (CST) and a random suffix.
func NewID(at time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return "sc-" + at.In(voucherwatch.CST).Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// SlotID is the id of the scheduled draw of a slot. Every engine instance computes the same
// id for the same slot, so the store's refusal of a known id makes the draw happen once.
func SlotID(slot time.Time) string {
	return "sc-" + slot.In(voucherwatch.CST).Format("20060102-1504")
}

// SlotSeed derives a scheduled draw's seed from its slot, keyed with a secret every instance
// shares: all instances draw the same list, and nobody without the key can work out the seed
// (and so the list) before the slot. The seed is recorded with the draw like any other.
func SlotSeed(slot time.Time, secret []byte) uint64 {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("voucherwatch spot-check slot " + slot.UTC().Format(time.RFC3339)))
	return binary.BigEndian.Uint64(m.Sum(nil)[:8]) & MaxSeed
}

// Conduct gathers the draw's inputs from the store (claimants and inspectors), draws, and
// records the draw with its seed, method, parameters, inputs and their digest. It returns the
// store's ECONFLICT when a draw with the id exists already.
func Conduct(ctx context.Context, st voucherwatch.SpotCheckStore, req Request) (voucherwatch.SpotCheck, error) {
	if err := req.Params.Check(); err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	claimants, err := st.SpotCheckClaimants(ctx, req.From, req.To)
	if err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	inspectors, err := st.Inspectors(ctx)
	if err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	if req.SkipEmpty && len(claimants) == 0 {
		return voucherwatch.SpotCheck{}, ErrNothingToDraw
	}
	in := Canonical(voucherwatch.SpotCheckInputs{Claimants: claimants, Inspectors: inspectors})
	items, err := Draw(in, req.Params, req.Seed)
	if err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	if req.ID == "" {
		req.ID = NewID(req.At)
	}
	sc := voucherwatch.SpotCheck{
		ID: req.ID, Seed: req.Seed, Method: Method, Params: req.Params, InputsDigest: Digest(in), Inputs: &in,
		Trigger: req.Trigger, CreatedAt: req.At.Truncate(time.Second), CreatedBy: req.By, ItemCount: len(items), Items: items,
	}
	if err := st.CreateSpotCheck(ctx, sc); err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	return sc, nil
}

// Verification is what re-running a recorded draw found.
type Verification struct {
	// DigestMatches says the recorded inputs hash to the recorded digest.
	DigestMatches bool `json:"digest_matches"`
	// MethodMatches says this engine runs the method the draw was made with.
	MethodMatches bool `json:"method_matches"`
	// ItemsMatch says the re-run drew the recorded list.
	ItemsMatch bool   `json:"items_match"`
	Method     string `json:"method"`
}

// Verify re-runs a recorded draw (with its inputs) and compares.
func Verify(sc voucherwatch.SpotCheck) (Verification, error) {
	v := Verification{Method: Method, MethodMatches: sc.Method == Method}
	if sc.Inputs == nil {
		return v, voucherwatch.Errorf(voucherwatch.EINVALID, "spot check %s has no recorded inputs", sc.ID)
	}
	v.DigestMatches = Digest(*sc.Inputs) == sc.InputsDigest
	items, err := Draw(*sc.Inputs, sc.Params, sc.Seed)
	if err != nil {
		return v, err
	}
	// The store gives empty lists where the draw has nil ones; compare what they say.
	norm := func(items []voucherwatch.SpotCheckItem) []voucherwatch.SpotCheckItem {
		out := make([]voucherwatch.SpotCheckItem, len(items))
		for i, it := range items {
			if len(it.Inspectors) == 0 {
				it.Inspectors = nil
			}
			out[i] = it
		}
		return out
	}
	v.ItemsMatch = reflect.DeepEqual(norm(items), norm(sc.Items))
	return v, nil
}

// Scheduler draws on a cron schedule. Several engine instances run one each; the draw of a
// slot happens once cluster-wide because every instance computes the same id (SlotID) and
// seed (SlotSeed) for it and the store refuses a known id. The instances that lose the race
// log it and move on.
type Scheduler struct {
	Store  voucherwatch.SpotCheckStore
	Params voucherwatch.SpotCheckParams
	// Secret keys the slots' seeds; every instance must have the same.
	Secret []byte
	Log    *slog.Logger
	Now    func() time.Time
	// Draws counts the scheduled slots by outcome (NewDrawsMetric); nil counts nothing.
	Draws *prometheus.CounterVec

	slots Slots
}

// The outcomes of a scheduled slot, the result label of vw_spotcheck_slots_total.
const (
	SlotRecorded       = "recorded"        // this instance drew and recorded the list
	SlotDrawnElsewhere = "drawn_elsewhere" // another instance had drawn it
	SlotNothingToDraw  = "nothing_to_draw" // no claimants yet
	SlotFailed         = "failed"          // the draw could not be made or recorded
)

// NewDrawsMetric is vw_spotcheck_slots_total, registered with reg when reg is not nil.
func NewDrawsMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	return NewSlotsMetric(reg, "vw_spotcheck_slots_total", "Scheduled spot-check slots this instance handled, by outcome.")
}

// SchedulerStatus is what the UI shows about the schedule.
type SchedulerStatus struct {
	Schedule  string    `json:"schedule"`
	Next      time.Time `json:"next,omitzero"`
	LastSlot  time.Time `json:"last_slot,omitzero"`
	LastID    string    `json:"last_id,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	// DrawnHere says whether this instance made the last slot's draw (false: another did).
	DrawnHere bool `json:"drawn_here"`
	Failed    int  `json:"failed"` // slots whose draw failed on this instance
}

// Status reports the schedule's state.
func (s *Scheduler) Status() SchedulerStatus { return s.slots.Status() }

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Parse parses a schedule: robfig/cron with optional seconds and descriptors, in China
// Standard Time unless the spec names a CRON_TZ.
func Parse(spec string) (cron.Schedule, error) {
	parser := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sched, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("spotcheck: schedule %q: %w", spec, err)
	}
	sp, ok := sched.(*cron.SpecSchedule)
	if !ok {
		// "@every 720h" counts from each instance's start, so instances would disagree on
		// the slots and each draw its own.
		return nil, fmt.Errorf("spotcheck: schedule %q: want a calendar schedule (\"0 3 1 * *\", \"@monthly\"); @every is not aligned across instances", spec)
	}
	if sp.Location == time.Local {
		sp.Location = voucherwatch.CST
	}
	return sched, nil
}

// catchUpWindow is how far back Start looks for a slot missed while no instance ran.
const catchUpWindow = 35 * 24 * time.Hour

// LastSlot is the latest slot at or before now within catchUpWindow; false when none.
func LastSlot(sched cron.Schedule, now time.Time) (time.Time, bool) {
	var last time.Time
	for t := sched.Next(now.Add(-catchUpWindow)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		last = t
	}
	return last, !last.IsZero()
}

// SlotOf is the slot a run at now belongs to: the scheduled time at or up to a minute before
// now (cron fires a little late, never early), else now to the second.
func SlotOf(sched cron.Schedule, now time.Time) time.Time {
	if t := sched.Next(now.Add(-time.Minute - time.Second)); !t.After(now) {
		return t
	}
	return now.Truncate(time.Second)
}

// Start draws on the schedule spec until ctx ends, after making up for the latest slot if
// nobody drew it (Slots.Start).
func (s *Scheduler) Start(ctx context.Context, spec string) error {
	return s.slots.Start(ctx, spec, s.now, func(ctx context.Context, slot time.Time) { _, _ = s.RunSlot(ctx, slot) })
}

// RunSlot makes the scheduled draw of slot unless another instance made it already.
func (s *Scheduler) RunSlot(ctx context.Context, slot time.Time) (voucherwatch.SpotCheck, error) {
	id := SlotID(slot)
	sc, err := Conduct(ctx, s.Store, Request{
		ID: id, Seed: SlotSeed(slot, s.Secret), Params: s.Params, Trigger: voucherwatch.SpotCheckScheduled,
		By: "engine", At: s.now(), SkipEmpty: true,
	})
	err = s.slots.Settle(SlotRun{
		Slot: slot, ID: id, Err: err, Nothing: ErrNothingToDraw, Log: s.Log, Count: s.Draws,
		Messages: SlotMessages{
			Recorded:  "spotcheck: scheduled draw recorded",
			Elsewhere: "spotcheck: the slot was drawn by another instance",
			Nothing:   "spotcheck: no claimants yet, nothing drawn",
			Failed:    "spotcheck: scheduled draw failed",
		},
		RecordedAttrs: []any{"items", len(sc.Items)},
	})
	return sc, err
}
