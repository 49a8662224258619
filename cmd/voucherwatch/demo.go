package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"io"
	"math"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/detectors"
	"github.com/voucherwatch/voucherwatch/synth"
)

// defaultDemoSeed is the province the demo loads unless told otherwise.
const defaultDemoSeed = synth.DemoSeed

// runDemo is "voucherwatch demo": the engine as serve starts it, loaded with a synthetic
// province through Kafka, the detectors run once, demo users created, and a summary printed;
// then it keeps serving until SIGINT or SIGTERM.
func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("voucherwatch demo", flag.ContinueOnError)
	d := demo{Out: os.Stdout}
	fs.Float64Var(&d.Scale, "scale", 1, "size of the synthetic province: 1 is 400 enterprises and 25 suppliers (about 37,000 messages); the planted cases come on top at any size")
	fs.Int64Var(&d.Seed, "seed", defaultDemoSeed, "seed of the synthetic province")
	var cfg Config
	if err := cfg.parse(fs, args); err != nil {
		return err
	}
	if d.Scale <= 0 || d.Scale > 100 {
		return fmt.Errorf("demo: --scale %v: want more than 0 and at most 100", d.Scale)
	}
	// The engine's info lines would break the progress line; warnings and errors still show.
	if _, env := os.LookupEnv("VW_LOG_LEVEL"); !flagGiven(fs, "log-level") && !env {
		cfg.LogLevel = "warn"
	}
	d.Progress = &progressDisplay{W: os.Stderr, TTY: isTerminal(os.Stderr)}
	if d.Progress.TTY {
		d.Progress.Width = terminalWidth(os.Stderr)
	}

	// The demo's province is synthetic: it may run with development keys, and says so loudly.
	if cfg.PIIKey == "" || cfg.SessionKey == "" {
		cfg.DevInsecureKeys = true
	}
	m := NewMain(cfg)
	m.Terminal = os.Stderr
	m.holdDetectors.Store(true)
	fmt.Fprintf(os.Stderr, "demo: starting the engine (ClickHouse %s, HTTP %s)...\n", redactDSN(cfg.ClickHouse), cfg.HTTP)
	if err := m.Start(ctx); err != nil {
		m.Close()
		return err
	}
	res, err := d.run(ctx, m)
	if err != nil {
		m.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("demo: interrupted")
		}
		return err
	}
	res.summary(d.Out)
	<-ctx.Done()
	m.Log.Warn("shutting down: finishing the batches in hand")
	return m.Close()
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// demo loads a synthetic province into a started engine and reports on it.
type demo struct {
	Scale    float64
	Seed     int64
	Out      io.Writer        // the summary
	Progress *progressDisplay // the progress display and the steps' lines; nil: none
	Poll     time.Duration    // between ingest status polls; default 500 ms
}

// province is the generator's configuration: the default province with its enterprises and
// suppliers multiplied by Scale. The planted cases are the same at every scale.
func (d demo) province() synth.Config {
	c := synth.DefaultConfig(d.Seed)
	c.Enterprises = max(10, int(math.Round(float64(c.Enterprises)*d.Scale)))
	c.Suppliers = max(6, int(math.Round(float64(c.Suppliers)*d.Scale)))
	return c
}

// demoResult is what the demo found, for the summary.
type demoResult struct {
	Province  synth.Config
	Stats     synth.Stats
	Ingest    voucherwatch.IngestStatus
	Topics    map[string]string // synth topic → the engine's topic
	Detectors []detectors.Summary
	Alerts    []voucherwatch.Alert
	Truth     synth.Truth
	Users     []demoUser
	BaseURL   string // http://127.0.0.1:8080
	// SpotCheck is the demo's spot-check draw; SpotCheckNew says this run drew it.
	SpotCheck    voucherwatch.SpotCheck
	SpotCheckNew bool

	Generate, Load, Detect, Total time.Duration
}

func (d demo) logf(format string, args ...any) {
	if d.Progress != nil {
		fmt.Fprintf(d.Progress.W, "demo: "+format+"\n", args...)
	}
}

// run creates the demo users, generates and publishes the province, waits until the engine
// has stored it, runs the detectors once and collects the alerts. The engine must have been
// started with its detector triggers held (holdDetectors), so that no run sees half a province;
// run releases them.
func (d demo) run(ctx context.Context, m *Main) (demoResult, error) {
	start := time.Now()
	res := demoResult{BaseURL: "http://" + displayAddr(m.HTTPAddr), Topics: map[string]string{}}
	for typ, t := range voucherwatch.DefaultTopics {
		res.Topics[t] = m.Config.Topics[typ]
	}
	users, err := ensureDemoUsers(ctx, m.DB, time.Now())
	if err != nil {
		return res, err
	}
	res.Users = users

	// The province is the demo's, not the engine's: while it is in memory (about 30 MB at
	// scale 1, 300 MB at scale 10) the engine's soft memory limit would make the collector run
	// without pause. The limit comes back once the messages are published and dropped.
	engineLimit := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(math.MaxInt64)
	released := false
	release := func() {
		if !released {
			released = true
			debug.SetMemoryLimit(engineLimit)
		}
	}
	defer release()

	cfg := d.province()
	d.logf("generating the synthetic province (seed %d, scale %g: %d enterprises, %d suppliers)...", cfg.Seed, d.Scale, cfg.Enterprises, cfg.Suppliers)
	t := time.Now()
	p := synth.Generate(cfg)
	res.Province, res.Stats, res.Truth, res.Generate = p.Config, p.Stats, p.Truth, time.Since(t)
	msgs := p.Messages // from here on only the publisher holds them
	d.logf("generated %d messages in %.1fs; publishing them to Kafka %v", res.Stats.Total.Messages, res.Generate.Seconds(), m.Brokers)

	t = time.Now()
	st, err := d.load(ctx, m, msgs, res.Stats, res.Topics, release)
	if err != nil {
		return res, err
	}
	res.Ingest, res.Load = st, time.Since(t)

	m.holdDetectors.Store(false)
	d.logf("running the %d detectors...", len(m.Runner.Detectors()))
	t = time.Now()
	res.Detectors = m.Runner.RunAll(ctx, time.Now())
	res.Detect = time.Since(t)
	for _, s := range res.Detectors {
		if s.Error != "" {
			return res, fmt.Errorf("demo: detector %s failed: %s", s.Detector, s.Error)
		}
	}
	if res.Alerts, err = allAlerts(ctx, m.DB); err != nil {
		return res, err
	}
	d.logf("drawing a spot check (双随机)...")
	if res.SpotCheck, res.SpotCheckNew, err = ensureDemoSpotCheck(ctx, m, res.Users, uint64(d.Seed)); err != nil {
		return res, err
	}
	res.Total = time.Since(start)
	return res, nil
}

// load publishes the province's messages and waits, showing progress, until every topic's
// consumer group has caught up (lag 0) with every message published and the records are
// stored. It drops the messages once they are published and calls published then. It returns
// the last ingest status.
func (d demo) load(ctx context.Context, m *Main, msgs []synth.Message, stats synth.Stats, topics map[string]string, published func()) (voucherwatch.IngestStatus, error) {
	status := func() (voucherwatch.IngestStatus, error) {
		qctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return m.Consumer.Status(qctx, m.DB)
	}
	base, err := status()
	if err != nil {
		return base, fmt.Errorf("demo: ingest status: %w", err)
	}
	produced := map[string]*atomic.Int64{}
	for _, t := range synth.Topics {
		produced[t] = new(atomic.Int64)
	}
	publishing := make(chan error, 1)
	go func(msgs []synth.Message) {
		publishing <- publishProvince(ctx, m.Brokers, m.Config.Topics, msgs, func(t string, n int) { produced[t].Add(int64(n)) })
	}(msgs)
	msgs = nil // the publisher holds the only reference: the messages go when it is done

	poll := d.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	start := time.Now()
	done := false
	var last voucherwatch.IngestStatus
	var lastProcessed int64
	lastMoved := time.Now()
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case err := <-publishing:
			if err != nil {
				return last, err
			}
			done = true
			published()
		case <-tick.C:
		}
		st, err := status()
		if err != nil {
			m.Log.Warn("demo: ingest status", "err", err)
			continue
		}
		last = st
		prog := loadProgress{Elapsed: time.Since(start)}
		caughtUp := done
		for _, t := range synth.Topics {
			want := stats.Topics[t]
			ts, was := st.Topics[topics[t]], base.Topics[topics[t]]
			prog.Topics = append(prog.Topics, topicProgress{Topic: t, Produced: produced[t].Load(), Messages: int64(want.Messages),
				Stored: ts.Stored, Unique: int64(want.Unique)})
			prog.Processed += max(ts.Consumed-was.Consumed, 0)
			prog.Total += int64(want.Messages)
			// Rejected messages are never stored: do not wait for them.
			caughtUp = caughtUp && ts.Lag == 0 && (ts.Stored >= int64(want.Unique) || ts.Rejected > was.Rejected)
		}
		if d.Progress != nil {
			if caughtUp {
				d.Progress.Done(prog)
			} else {
				d.Progress.Show(prog, time.Now())
			}
		}
		if caughtUp {
			return st, nil
		}
		if prog.Processed != lastProcessed {
			lastProcessed, lastMoved = prog.Processed, time.Now()
		} else if done && time.Since(lastMoved) > 3*time.Minute {
			return st, fmt.Errorf("demo: ingest made no progress for 3 minutes (processed %d of %d messages); see the engine's log", prog.Processed, prog.Total)
		}
	}
}

// allAlerts reads every alert, page by page.
func allAlerts(ctx context.Context, st voucherwatch.AlertStore) ([]voucherwatch.Alert, error) {
	var out []voucherwatch.Alert
	cursor := ""
	for {
		page, next, err := st.Alerts(ctx, voucherwatch.AlertFilter{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("demo: list alerts: %w", err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// displayAddr is a listen address as a browser on this machine reaches it.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// demoUser is one of the demo's sign-ins.
type demoUser struct {
	voucherwatch.User
	Password string // the demo password, to print
	Token    string // the demo API token; "" when a kept user's token is not the demo one
	Created  bool   // created by this run; false: the login existed and was kept
	// PasswordKept is set when a kept user's password is not the demo password (someone
	// changed it): the summary does not print a password that does not work.
	PasswordKept bool
}

// demoAccounts are the demo's users: one of each role, the city reviewer in Changsha.
var demoAccounts = []voucherwatch.User{
	{Login: "admin", Name: "演示·省级管理员", Role: voucherwatch.RoleProvinceAdmin},
	{Login: "reviewer", Name: "演示·省级复核员", Role: voucherwatch.RoleProvinceReviewer},
	{Login: "changsha", Name: "演示·长沙市复核员", Role: voucherwatch.RoleCityReviewer, City: "430100"},
	{Login: "auditor", Name: "演示·审计员", Role: voucherwatch.RoleAuditor},
}

// demoPassword is a demo user's fixed password. It is printed on screen and written here: a
// demo database is for a laptop, never for production.
func demoPassword(login string) string { return "demo-" + login + "-2026" }

// demoToken is a demo user's API token, derived from its login and demo password so that a
// re-run can print it again (the store keeps only its hash). As public as the password.
func demoToken(login string) string {
	sum := sha256.Sum256([]byte("voucherwatch demo token\x00" + login + "\x00" + demoPassword(login)))
	return "vw_demo_" + hex.EncodeToString(sum[:])[:40]
}

// ensureDemoUsers creates the demo users that are missing, each with its password and token.
// A user who already signs in with a demo login is kept as it is, password and token included.
func ensureDemoUsers(ctx context.Context, users voucherwatch.UserStore, at time.Time) ([]demoUser, error) {
	var out []demoUser
	for _, acct := range demoAccounts {
		du := demoUser{Password: demoPassword(acct.Login), Token: demoToken(acct.Login)}
		u, hash, err := users.UserByLogin(ctx, acct.Login)
		switch voucherwatch.ErrorCode(err) {
		case "":
			du.User = u
			du.PasswordKept = !workflow.CheckPassword(hash, du.Password)
			if tu, err := users.UserByTokenHash(ctx, voucherwatch.TokenHash(du.Token)); err != nil || tu.ID != u.ID {
				du.Token = ""
			}
			out = append(out, du)
			continue
		case voucherwatch.ENOTFOUND:
		default:
			return nil, fmt.Errorf("demo: look up user %s: %w", acct.Login, err)
		}
		nu, err := voucherwatch.CheckNewUser(acct)
		if err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", acct.Login, err)
		}
		nu.ID = "u_" + randomHexID()
		if err := users.CreateUser(ctx, nu, voucherwatch.TokenHash(du.Token), at); err != nil {
			return nil, err
		}
		h, err := workflow.HashPassword(du.Password)
		if err != nil {
			return nil, fmt.Errorf("demo: password of %s: %w", acct.Login, err)
		}
		if err := users.SetPassword(ctx, nu.ID, h, at); err != nil {
			return nil, err
		}
		du.User, du.Created = nu, true
		out = append(out, du)
	}
	return out, nil
}

func randomHexID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errNoDemoAdmin = errors.New("no demo administrator token")

// adminToken is the token of the demo administrator for the summary's curl example.
func (r demoResult) adminToken() (string, error) {
	for _, u := range r.Users {
		if u.Role == voucherwatch.RoleProvinceAdmin && u.Token != "" {
			return u.Token, nil
		}
	}
	return "", errNoDemoAdmin
}
