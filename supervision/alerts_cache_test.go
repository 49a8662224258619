package supervision

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/store"
	"github.com/voucherwatch/voucherwatch/store/storetest"
)

// storeListCounter is the real store, counting the alert lists it reads.
type storeListCounter struct {
	*store.DB
	lists atomic.Int32
}

func (c *storeListCounter) Alerts(ctx context.Context, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	c.lists.Add(1)
	return c.DB.Alerts(ctx, f)
}

func cacheTestAlert(invoice, city string) voucherwatch.Alert {
	s := voucherwatch.Subjects{ApplicantUSCC: "91430100MA4L0CACHE", InvoiceNo: invoice}
	return voucherwatch.Alert{
		ID: voucherwatch.AlertID("duplicate_claim", s), Detector: "duplicate_claim", Kind: "invoice_in_two_claims",
		Severity: voucherwatch.SeverityHigh, Score: 0.9, Subjects: s, City: city, PolicyClause: "五.1 / M1b",
		Title: "同一发票被重复申报", Reason: "原因", Evidence: voucherwatch.EvidenceOf(map[string]any{"claims": []any{"A", "B"}}),
	}
}

// TestAlertListKeptUntilAWrite is GET /api/v1/alerts over the real store with its answers
// kept (listCache): the same list asked again, or by many pollers at once, is read once; a
// write to the alerts or their workflow made in this process (through another DB on the same
// database, as serve's detectors write) shows at the next request; one made elsewhere shows
// once the TTL has passed; callers whose scope differs never share an answer.
func TestAlertListKeptUntilAWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := storetest.Database(t)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The detectors' DB: serve stores alerts through one DB and lists them through another.
	writer, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, voucherwatch.CST)
	first := cacheTestAlert("1", "430100")
	if _, err := writer.UpsertAlerts(ctx, []voucherwatch.Alert{first}, t0); err != nil {
		t.Fatal(err)
	}

	const ttl = 400 * time.Millisecond
	st := &storeListCounter{DB: db}
	s := newServer()
	s.registerAlertRoutes(AlertDeps{Alerts: st})
	s.api.ListTTL = ttl
	s.AddToken("admin", voucherwatch.User{ID: "1", Role: voucherwatch.RoleProvinceAdmin})
	s.AddToken("changsha", voucherwatch.User{ID: "2", Role: voucherwatch.RoleCityReviewer, City: "430100"})
	s.AddToken("zhuzhou", voucherwatch.User{ID: "3", Role: voucherwatch.RoleCityReviewer, City: "430200"})
	reviewer := voucherwatch.User{ID: "2", Name: "长沙审核员", Role: voucherwatch.RoleCityReviewer, City: "430100"}

	second := cacheTestAlert("2", "430100")
	for _, tc := range []struct {
		name   string
		before func(t *testing.T)
		path   string
		token  string
		want   string // "id:status" of the alerts answered, in order
		reads  int32  // list reads of the store the request adds
	}{
		{name: "the first request reads", path: "/api/v1/alerts?sort=created", token: "admin",
			want: first.ID + ":new", reads: 1},
		{name: "the same list again is kept", path: "/api/v1/alerts?sort=created", token: "admin",
			want: first.ID + ":new", reads: 0},
		{name: "another filter reads", path: "/api/v1/alerts?sort=created&detector=duplicate_claim", token: "admin",
			want: first.ID + ":new", reads: 1},
		{name: "a city reviewer's scope is its own list", path: "/api/v1/alerts?sort=created", token: "changsha",
			want: first.ID + ":new", reads: 1},
		{name: "another city's reviewer does not get it", path: "/api/v1/alerts?sort=created", token: "zhuzhou",
			want: "", reads: 1},
		{name: "a new alert stored here shows at once", path: "/api/v1/alerts?sort=created", token: "admin",
			before: func(t *testing.T) {
				if _, err := writer.UpsertAlerts(ctx, []voucherwatch.Alert{second}, t0.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
			},
			want: second.ID + ":new," + first.ID + ":new", reads: 1},
		{name: "the reviewer's list, kept", path: "/api/v1/alerts?sort=created", token: "changsha",
			want: second.ID + ":new," + first.ID + ":new", reads: 1},
		{name: "a status change made here shows at once", path: "/api/v1/alerts?sort=created", token: "changsha",
			before: func(t *testing.T) {
				res, err := writer.AppendEvents(ctx, []voucherwatch.Event{voucherwatch.NewTransitionEvent(reviewer, first.ID,
					voucherwatch.StatusNew, voucherwatch.Transition{To: voucherwatch.StatusReviewing, Comment: "开始审核"}, t0.Add(2*time.Minute))})
				if err != nil || res[0].Err != nil {
					t.Fatal(err, res)
				}
			},
			want: second.ID + ":new," + first.ID + ":reviewing", reads: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t)
			}
			before := st.lists.Load()
			if got := listedAlerts(t, s, tc.path, tc.token); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := st.lists.Load() - before; got != tc.reads {
				t.Errorf("the request read the list %d times, want %d", got, tc.reads)
			}
		})
	}

	t.Run("pollers at once read it once", func(t *testing.T) {
		time.Sleep(ttl) // what was kept has expired
		before := st.lists.Load()
		var wg sync.WaitGroup
		got := make([]string, 16)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = listedAlerts(t, s, "/api/v1/alerts?sort=created&limit=50", "admin")
			}()
		}
		wg.Wait()
		for i, g := range got {
			if want := second.ID + ":new," + first.ID + ":reviewing"; g != want {
				t.Errorf("poller %d got %q, want %q", i, g, want)
			}
		}
		if n := st.lists.Load() - before; n != 1 {
			t.Errorf("16 pollers read the list %d times, want 1", n)
		}
	})

	t.Run("another instance's alert shows within the TTL", func(t *testing.T) {
		// Another instance's write: a copy of the first alert under a new id, written with SQL
		// this process does not count.
		third := "al_other_instance"
		var cols []string
		rows, err := db.Conn().Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'alerts'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		sel := make([]string, len(cols))
		for i, c := range cols {
			switch c {
			case "id":
				sel[i] = "'" + third + "'"
			case "created_at", "updated_at":
				sel[i] = c + " + 3600"
			default:
				sel[i] = c
			}
		}
		path := "/api/v1/alerts?sort=created&limit=10"
		listedAlerts(t, s, path, "admin") // kept from now
		if err := db.Conn().Exec(ctx, "INSERT INTO alerts ("+strings.Join(cols, ", ")+") SELECT "+strings.Join(sel, ", ")+
			" FROM alerts WHERE id = ? LIMIT 1", second.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(ttl + 2*time.Second)
		for {
			got := listedAlerts(t, s, path, "admin")
			if strings.HasPrefix(got, third+":") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("another instance's alert not listed %s after it was stored: %q", ttl+2*time.Second, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// listedAlerts is what GET path answers: "id:status" of each alert, comma-separated, or the
// status and body of an error. It is called from pollers' goroutines too, so it never stops
// the test itself.
func listedAlerts(t *testing.T, s *Server, path, token string) string {
	t.Helper()
	code, body := call(t, s, "GET", path, token)
	if code != 200 {
		return fmt.Sprintf("GET %s: %d %v", path, code, body)
	}
	list, _ := body["alerts"].([]any)
	var got []string
	for _, a := range list {
		m := a.(map[string]any)
		got = append(got, m["id"].(string)+":"+m["status"].(string))
	}
	return strings.Join(got, ",")
}
